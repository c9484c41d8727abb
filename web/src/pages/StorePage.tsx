import {
  Alert,
  Anchor,
  Button,
  Card,
  Grid,
  Group,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, apiFetch, withQuery, type CounterView, type Order } from '../api';
import { useAuth } from '../auth';
import { ChannelBadge } from '../components/badges';
import { CartView, OrderCard, useLocationNames } from '../components/commerce';
import { Empty, ErrorNotice, Loading, Panel } from '../components/states';
import { useApi } from '../useApi';
import { StoreSuggestions } from '../components/StoreSuggestions';

type Lookup = { by: 'phone' | 'qr'; value: string };
type PickupResult = { ok: true; orderId: string } | { ok: false; message: string; error: Error };

function PickupForm({
  order,
  result,
  onResult,
}: {
  order: Order;
  result: PickupResult | undefined;
  onResult: (result: PickupResult) => void;
}) {
  const { t } = useTranslation();
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const ready = order.status === 'ready_for_pickup';

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!code.trim()) return;
    setBusy(true);
    try {
      await apiFetch<Order>(`/api/commerce/orders/${encodeURIComponent(order.id)}/collect`, {
        method: 'POST',
        body: { code: code.trim() },
      });
      setCode('');
      onResult({ ok: true, orderId: order.id });
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      onResult({ ok: false, message: err.message, error: err });
    } finally {
      setBusy(false);
    }
  }

  const inputId = `pickup-code-${order.id}`;
  return (
    <Stack gap="xs" mt="sm">
      {ready && (
        <form onSubmit={submit} aria-label={t('store.pickupFormLabel', { id: order.id })}>
          <Group align="flex-end" gap="xs" wrap="wrap">
            <TextInput
              id={inputId}
              label={t('store.pickupCode')}
              description={t('store.pickupCodeHint')}
              value={code}
              onChange={(event) => setCode(event.currentTarget.value)}
              inputMode="numeric"
              autoComplete="off"
              maxLength={12}
              data-testid="pickup-code"
              style={{ flex: '1 1 160px' }}
            />
            <Button type="submit" loading={busy} disabled={!code.trim()} data-testid="pickup-submit">
              {t('store.completePickup')}
            </Button>
          </Group>
        </form>
      )}
      {result &&
        (result.ok ? (
          <Alert color="green" role="status" data-testid="pickup-result" data-ok="true" title={t('store.pickupDone')}>
            {t('store.pickupDoneDetail', { id: result.orderId })}
          </Alert>
        ) : result.error instanceof ApiError ? (
          <Alert color="red" role="alert" data-testid="pickup-result" data-ok="false" title={t('store.pickupFailed')}>
            {result.message}
          </Alert>
        ) : (
          <div data-testid="pickup-result" data-ok="false">
            <ErrorNotice error={result.error} />
          </div>
        ))}
    </Stack>
  );
}

function CounterResult({ view, onChanged }: { view: CounterView; onChanged: () => void }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const locations = useLocationNames();
  // Kept here, not in the form: a handed-over order is no longer ready, its message stays.
  const [results, setResults] = useState<Record<string, PickupResult>>({});
  const writable = can('commerce:write');

  return (
    <Stack gap="md">
      <Card withBorder radius="md" padding="lg" bg="teal.0">
        <Title order={2} size="h3" data-testid="store-greeting" style={{ overflowWrap: 'anywhere' }}>
          {view.display_name ? t('store.greeting', { name: view.display_name }) : t('store.greetingNoName')}
        </Title>
        <Group gap={6} mt="xs">
          {view.identifiers
            .filter((identity) => identity.type !== 'anonymous_id')
            .map((identity) => (
              <Group key={`${identity.type}:${identity.value}`} gap={4} wrap="nowrap" data-testid="store-identifier" data-type={identity.type}>
                <ChannelBadge kind={identity.type} size="sm" style={{ flexShrink: 0 }} />
                <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
                  {identity.value}
                </Text>
              </Group>
            ))}
        </Group>
        {can('profiles:read') && (
          <Anchor component={Link} to={`/customers/${encodeURIComponent(view.profile_id)}`} size="sm" mt="xs" display="inline-block">
            {t('store.openProfile')}
          </Anchor>
        )}
      </Card>
      <Grid gutter="md">
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Stack gap="md">
            <Panel title={t('cart.title')} testId="store-cart">
              {view.cart && view.cart.items.length > 0 ? (
                <CartView cart={view.cart} itemTestId="store-cart-item" />
              ) : (
                <Empty>{t('cart.empty')}</Empty>
              )}
            </Panel>
            <Panel title={t('store.suggestions')} testId="store-suggestions">
              <StoreSuggestions items={view.cart?.items ?? []} />
            </Panel>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Panel title={t('store.recentOrders')} testId="store-orders">
            {view.orders.length === 0 ? (
              <Empty>{t('orders.empty')}</Empty>
            ) : (
              <Stack gap="xs">
                {view.orders.map((order) => (
                  <OrderCard key={order.id} order={order} locations={locations}>
                    {order.status === 'ready_for_pickup' && !writable ? (
                      <Text size="xs" c="dimmed" mt="xs">
                        {t('store.pickupNotAllowed')}
                      </Text>
                    ) : (order.status === 'ready_for_pickup' || results[order.id]) && (
                      <PickupForm
                        order={order}
                        result={results[order.id]}
                        onResult={(result) => {
                          setResults((all) => ({ ...all, [order.id]: result }));
                          if (result.ok) onChanged();
                        }}
                      />
                    )}
                  </OrderCard>
                ))}
              </Stack>
            )}
          </Panel>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

export default function StorePage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const [phone, setPhone] = useState('');
  const [qr, setQr] = useState('');
  const [lookup, setLookup] = useState<Lookup | null>(null);
  const allowed = can('commerce:read');
  const view = useApi<CounterView>(
    allowed && lookup ? withQuery('/api/commerce/counter', { [lookup.by]: lookup.value }) : null,
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    const next: Lookup | null = qr.trim()
      ? { by: 'qr', value: qr.trim() }
      : phone.trim()
        ? { by: 'phone', value: phone.trim() }
        : null;
    if (!next) return;
    if (lookup && next.by === lookup.by && next.value === lookup.value) view.reload();
    else setLookup(next);
  }

  const notFound = view.error instanceof ApiError && view.error.status === 404;

  return (
    <Stack gap="md" maw={1100}>
      <Title order={1} size="h2">
        {t('store.title')}
      </Title>
      {!allowed ? (
        <Empty>{t('common.noPermission')}</Empty>
      ) : (
        <>
          <Card withBorder radius="md" padding="md" component="section">
            <form onSubmit={submit} aria-label={t('store.lookupLabel')}>
              <Grid gutter="sm" align="flex-end">
                <Grid.Col span={{ base: 12, sm: 5 }}>
                  <TextInput
                    label={t('store.phone')}
                    description={t('store.phoneHint')}
                    type="tel"
                    inputMode="tel"
                    autoComplete="off"
                    value={phone}
                    onChange={(event) => {
                      setPhone(event.currentTarget.value);
                      if (event.currentTarget.value) setQr('');
                    }}
                    data-testid="store-lookup-phone"
                    size="md"
                  />
                </Grid.Col>
                <Grid.Col span={{ base: 12, sm: 5 }}>
                  <TextInput
                    label={t('store.qr')}
                    description={t('store.qrHint')}
                    autoComplete="off"
                    value={qr}
                    onChange={(event) => {
                      setQr(event.currentTarget.value);
                      if (event.currentTarget.value) setPhone('');
                    }}
                    data-testid="store-lookup-qr"
                    size="md"
                  />
                </Grid.Col>
                <Grid.Col span={{ base: 12, sm: 2 }}>
                  <Button
                    type="submit"
                    size="md"
                    fullWidth
                    disabled={!phone.trim() && !qr.trim()}
                    loading={view.loading}
                    data-testid="store-lookup-submit"
                  >
                    {t('store.find')}
                  </Button>
                </Grid.Col>
              </Grid>
            </form>
          </Card>
          {lookup === null ? (
            <Empty>{t('store.start')}</Empty>
          ) : view.data ? (
            <CounterResult key={view.data.profile_id} view={view.data} onChanged={view.reload} />
          ) : notFound ? (
            <Alert color="yellow" title={t('store.notFound')} role="alert" data-testid="store-not-found">
              {view.error?.message}
            </Alert>
          ) : view.error ? (
            <ErrorNotice error={view.error} onRetry={view.reload} />
          ) : (
            <Loading />
          )}
        </>
      )}
    </Stack>
  );
}
