import { Badge, type BadgeProps } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import {
  ChatIcon,
  DeviceIcon,
  GlobeIcon,
  MailIcon,
  PhoneIcon,
  StoreIcon,
  TagIcon,
  UserIcon,
} from './icons';

interface Look {
  color: string;
  icon: ReactNode;
}

// Identifier types and event channels share one look: LINE is LINE green wherever it shows.
const LOOKS: Record<string, Look> = {
  email: { color: 'blue', icon: <MailIcon size={12} /> },
  phone: { color: 'teal', icon: <PhoneIcon size={12} /> },
  sms: { color: 'teal', icon: <PhoneIcon size={12} /> },
  line: { color: 'green', icon: <ChatIcon size={12} /> },
  line_user_id: { color: 'green', icon: <ChatIcon size={12} /> },
  user_id: { color: 'violet', icon: <UserIcon size={12} /> },
  loyalty_id: { color: 'pink', icon: <TagIcon size={12} /> },
  pos_customer_id: { color: 'orange', icon: <StoreIcon size={12} /> },
  anonymous_id: { color: 'gray', icon: <DeviceIcon size={12} /> },
  device_id: { color: 'gray', icon: <DeviceIcon size={12} /> },
  web: { color: 'indigo', icon: <GlobeIcon size={12} /> },
  app: { color: 'grape', icon: <DeviceIcon size={12} /> },
  pos: { color: 'orange', icon: <StoreIcon size={12} /> },
  store: { color: 'orange', icon: <StoreIcon size={12} /> },
};

const FALLBACK: Look = { color: 'gray', icon: <TagIcon size={12} /> };

/** The Mantine colour a channel or identifier type wears everywhere (its badge, charts). */
export function channelColor(kind: string): string {
  return (LOOKS[kind] ?? FALLBACK).color;
}

/** A channel (web, line, pos...) or identifier type (email, phone, line_user_id...). */
export function ChannelBadge({
  kind,
  ...rest
}: { kind: string } & Omit<BadgeProps, 'children' | 'color'>) {
  const { t } = useTranslation();
  const look = LOOKS[kind] ?? FALLBACK;
  return (
    <Badge
      variant="light"
      color={look.color}
      leftSection={look.icon}
      radius="sm"
      tt="none"
      {...rest}
    >
      {t(`channel.${kind}`, { defaultValue: kind })}
    </Badge>
  );
}

const STATUS_COLORS: Record<string, string> = {
  // orders
  placed: 'blue',
  ready_for_pickup: 'yellow',
  partially_shipped: 'cyan',
  shipped: 'cyan',
  delivered: 'green',
  collected: 'green',
  cancelled: 'gray',
  // payments
  pending: 'yellow',
  authorized: 'blue',
  paid: 'green',
  failed: 'red',
  refunded: 'gray',
  partially_refunded: 'gray',
  // consent
  granted: 'green',
  withdrawn: 'red',
  expired: 'orange',
  none: 'gray',
  // journeys, carts
  live: 'green',
  draft: 'gray',
  paused: 'yellow',
  archived: 'gray',
  active: 'blue',
};

/** A status word of the API in the reader's language, coloured by what it means. */
export function StatusBadge({ group, status }: { group: string; status: string }) {
  const { t } = useTranslation();
  return (
    <Badge variant="dot" color={STATUS_COLORS[status] ?? 'gray'} tt="none" radius="sm">
      {t(`${group}.${status}`, { defaultValue: status.replace(/_/g, ' ') })}
    </Badge>
  );
}
