import { Divider, Group, Paper, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Cart, Location, Order } from '../api';
import { useAuth } from '../auth';
import { useApi } from '../useApi';
import { formatDateTime, formatMoney, formatNumber } from '../format';
import { ChannelBadge, StatusBadge } from './badges';

/** A cart's lines (quantity × unit price) and its total. */
export function CartView({ cart, itemTestId }: { cart: Cart; itemTestId: string }) {
  const { t, i18n } = useTranslation();
  return (
    <Stack gap="xs">
      <Group gap="xs">
        <ChannelBadge kind={cart.channel} size="sm" />
        <Text size="xs" c="dimmed">
          {t('cart.updated', { time: formatDateTime(cart.updated_at, i18n.language) })}
        </Text>
      </Group>
      <Stack gap={6} component="ul" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
        {cart.items.map((item) => (
          <li key={item.sku} data-testid={itemTestId} data-sku={item.sku} data-quantity={item.quantity}>
            <Group justify="space-between" wrap="nowrap" align="flex-start" gap="sm">
              <div style={{ minWidth: 0 }}>
                <Text size="sm" fw={500} style={{ overflowWrap: 'anywhere' }}>
                  {item.name}
                </Text>
                <Text size="xs" c="dimmed">
                  {t('cart.line', {
                    quantity: formatNumber(item.quantity, i18n.language),
                    price: formatMoney(item.unit_price, cart.currency),
                  })}
                  {' · '}
                  {item.sku}
                  {item.available === 0 && ` · ${t('cart.outOfStock')}`}
                </Text>
              </div>
              <Text size="sm" fw={500} style={{ whiteSpace: 'nowrap' }}>
                {formatMoney(item.line_total, cart.currency)}
              </Text>
            </Group>
          </li>
        ))}
      </Stack>
      <Divider />
      <Group justify="space-between">
        <Text fw={700}>{t('cart.total', { count: cart.items.reduce((n, i) => n + i.quantity, 0) })}</Text>
        <Text fw={700} data-testid="cart-total">
          {formatMoney(cart.total, cart.currency)}
        </Text>
      </Group>
    </Stack>
  );
}

/** Branch and pickup point names by id, for showing where an order is collected. */
export function useLocationNames(): Map<string, string> {
  const { can } = useAuth();
  const { data } = useApi<Location[]>(can('commerce:read') ? '/api/commerce/locations' : null);
  return new Map((data ?? []).map((location) => [location.id, location.name]));
}

/** One order: status, channel, method, total and its lines; `children` adds actions. */
export function OrderCard({
  order,
  locations,
  children,
}: {
  order: Order;
  locations?: Map<string, string>;
  children?: ReactNode;
}) {
  const { t, i18n } = useTranslation();
  return (
    <Paper withBorder radius="sm" p="sm" data-testid="order-item" data-order-id={order.id} data-status={order.status}>
      <Group justify="space-between" align="flex-start" gap="xs">
        <div>
          <Text size="sm" fw={600} ff="monospace">
            {order.id}
          </Text>
          <Text size="xs" c="dimmed">
            {formatDateTime(order.created_at, i18n.language)}
          </Text>
        </div>
        <Text fw={700}>{formatMoney(order.total, order.currency)}</Text>
      </Group>
      <Group gap={6} mt={6}>
        <StatusBadge group="orderStatus" status={order.status} />
        <StatusBadge group="paymentStatus" status={order.payment_status} />
        <ChannelBadge kind={order.channel} size="sm" />
        <Text size="xs">{t(`method.${order.method}`, { defaultValue: order.method })}</Text>
        {order.pickup_location_id && (
          <Text size="xs" c="dimmed">
            {t('orders.pickupAt', {
              location: locations?.get(order.pickup_location_id) ?? order.pickup_location_id,
            })}
          </Text>
        )}
      </Group>
      {order.lines.length > 0 && (
        <Text size="xs" c="dimmed" mt={6} style={{ overflowWrap: 'anywhere' }}>
          {order.lines.map((line) => `${line.quantity} × ${line.name}`).join(', ')}
        </Text>
      )}
      {children}
    </Paper>
  );
}
