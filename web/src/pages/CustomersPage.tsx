import {
  Anchor,
  Group,
  Pagination,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue, useMediaQuery } from '@mantine/hooks';
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { withQuery, type Json, type ProfileSummary, type SearchPage } from '../api';
import { useAuth } from '../auth';
import { ChannelBadge } from '../components/badges';
import { ApiView, Empty } from '../components/states';
import { formatDateTime, formatMoney, formatNumber } from '../format';
import { useApi } from '../useApi';

const PAGE_SIZE = 20;
// Contact traits a search result carries, shown as identifiers (the 360 lists them all).
const CONTACT_TRAITS: Array<[string, string]> = [
  ['phone', 'phone'],
  ['email', 'email'],
  ['line_user_id', 'line_user_id'],
  ['lineUserId', 'line_user_id'],
  ['user_id', 'user_id'],
  ['userId', 'user_id'],
  ['loyalty_id', 'loyalty_id'],
];

function contacts(profile: ProfileSummary): Array<{ type: string; value: string }> {
  const found: Array<{ type: string; value: string }> = [];
  const seen = new Set<string>();
  for (const [key, type] of CONTACT_TRAITS) {
    const value = profile.traits[key];
    if (typeof value === 'string' && value && !seen.has(type)) {
      seen.add(type);
      found.push({ type, value });
    }
  }
  return found;
}

function strings(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function Contacts({ profile, mt }: { profile: ProfileSummary; mt?: number }) {
  return (
    <Stack gap={4} mt={mt}>
      {contacts(profile).map((item) => (
        <Group key={item.type} gap={6} wrap="nowrap" data-testid="customer-identifier" data-type={item.type}>
          <ChannelBadge kind={item.type} size="sm" style={{ flexShrink: 0 }} />
          <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
            {item.value}
          </Text>
        </Group>
      ))}
    </Stack>
  );
}

function ResultRow({ profile }: { profile: ProfileSummary }) {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const to = `/customers/${encodeURIComponent(profile.id)}`;
  const spent = profile.computed.total_spent;
  const currency = typeof profile.computed.currency === 'string' ? profile.computed.currency : 'THB';
  const orders = profile.computed.order_count;
  const lastSeen = profile.computed.last_seen;
  return (
    <Table.Tr
      data-testid="customer-row"
      data-profile-id={profile.id}
      onClick={(event) => {
        // The name is a link for keyboards and new tabs; the rest of the row is a shortcut.
        if ((event.target as HTMLElement).closest('a')) return;
        navigate(to);
      }}
      style={{ cursor: 'pointer' }}
    >
      <Table.Td>
        <Anchor component={Link} to={to} fw={600} data-testid="customer-link">
          {profile.display_name || t('customers.unnamed')}
        </Anchor>
        <Text size="xs" c="dimmed" ff="monospace">
          {profile.id}
        </Text>
      </Table.Td>
      <Table.Td>
        <Contacts profile={profile} />
      </Table.Td>
      <Table.Td>
        <Group gap={4}>
          {strings(profile.computed.channels).map((channel) => (
            <ChannelBadge key={channel} kind={channel} size="sm" />
          ))}
        </Group>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{typeof orders === 'number' ? formatNumber(orders, i18n.language) : '–'}</Text>
        {typeof spent === 'number' && spent > 0 && (
          <Text size="xs" c="dimmed">
            {formatMoney(spent, currency)}
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Text size="sm">{formatDateTime(typeof lastSeen === 'string' ? lastSeen : null, i18n.language)}</Text>
      </Table.Td>
    </Table.Tr>
  );
}

/** A result on a phone: the same facts as a table row, stacked. */
function ResultCard({ profile }: { profile: ProfileSummary }) {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const to = `/customers/${encodeURIComponent(profile.id)}`;
  const lastSeen = profile.computed.last_seen;
  return (
    <Paper
      withBorder
      radius="md"
      p="sm"
      data-testid="customer-row"
      data-profile-id={profile.id}
      onClick={(event) => {
        if ((event.target as HTMLElement).closest('a')) return;
        navigate(to);
      }}
      style={{ cursor: 'pointer' }}
    >
      <Anchor component={Link} to={to} fw={600} data-testid="customer-link">
        {profile.display_name || t('customers.unnamed')}
      </Anchor>
      <Contacts profile={profile} mt={6} />
      <Group gap={4} mt={6}>
        {strings(profile.computed.channels).map((channel) => (
          <ChannelBadge key={channel} kind={channel} size="sm" />
        ))}
        <Text size="xs" c="dimmed">
          {t('customers.lastSeen')}: {formatDateTime(typeof lastSeen === 'string' ? lastSeen : null, i18n.language)}
        </Text>
      </Group>
    </Paper>
  );
}

export default function CustomersPage() {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const [text, setText] = useState(q);
  const [debounced] = useDebouncedValue(text, 350);
  // Phones get cards; a table needs room. Read at once, so nothing flashes.
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });

  // Typing searches after a pause; the address keeps the search for back and reload.
  useEffect(() => {
    const value = debounced.trim();
    if (value !== q) setParams(value ? { q: value } : {}, { replace: true });
  }, [debounced]); // eslint-disable-line react-hooks/exhaustive-deps

  // Back and forward change the address: the box follows.
  useEffect(() => {
    if (q !== debounced.trim()) setText(q);
  }, [q]); // eslint-disable-line react-hooks/exhaustive-deps

  const results = useApi<SearchPage>(
    can('profiles:read')
      ? withQuery('/api/profiles', { q, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE })
      : null,
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    const value = text.trim();
    setParams(value ? { q: value } : {}, { replace: value === q });
  }

  function goTo(next: number) {
    const values: Record<string, string> = {};
    if (q) values.q = q;
    if (next > 1) values.page = String(next);
    setParams(values);
    window.scrollTo({ top: 0 });
  }

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        {t('customers.title')}
      </Title>
      <form onSubmit={submit} role="search">
        <TextInput
          label={t('customers.searchLabel')}
          description={t('customers.searchHint')}
          placeholder={t('customers.searchPlaceholder')}
          value={text}
          onChange={(event) => setText(event.currentTarget.value)}
          data-testid="customer-search"
          type="search"
          autoComplete="off"
          maxLength={200}
        />
      </form>
      {!can('profiles:read') ? (
        <Empty>{t('common.noPermission')}</Empty>
      ) : (
        <ApiView
          state={results}
          isEmpty={(data) => data.items.length === 0}
          empty={q ? t('customers.noMatch', { q }) : t('customers.none')}
        >
          {(data) => (
            <Stack gap="sm">
              <Text size="sm" c="dimmed" aria-live="polite" data-testid="customer-total" data-total={data.total}>
                {t('customers.found', { count: data.total, total: formatNumber(data.total, i18n.language) })}
              </Text>
              {phone ? (
                <Stack gap="xs">
                  {data.items.map((profile) => (
                    <ResultCard key={profile.id} profile={profile} />
                  ))}
                </Stack>
              ) : (
                <Table.ScrollContainer minWidth={720}>
                  <Table highlightOnHover verticalSpacing="sm" striped>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th scope="col">{t('customers.name')}</Table.Th>
                        <Table.Th scope="col">{t('customers.identifiers')}</Table.Th>
                        <Table.Th scope="col">{t('customers.channels')}</Table.Th>
                        <Table.Th scope="col">{t('customers.orders')}</Table.Th>
                        <Table.Th scope="col">{t('customers.lastSeen')}</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {data.items.map((profile) => (
                        <ResultRow key={profile.id} profile={profile} />
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
              {data.total > PAGE_SIZE && (
                <Group justify="center">
                  <Pagination
                    total={Math.ceil(data.total / PAGE_SIZE)}
                    value={page}
                    onChange={goTo}
                    siblings={1}
                    boundaries={1}
                    size="sm"
                    data-testid="customer-pagination"
                    getControlProps={(control) => ({
                      'aria-label': t(`customers.page.${control}`),
                    })}
                    getItemProps={(item) => ({ 'aria-label': t('customers.page.number', { page: item }) })}
                  />
                </Group>
              )}
            </Stack>
          )}
        </ApiView>
      )}
    </Stack>
  );
}
