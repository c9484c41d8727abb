import {
  Accordion,
  Anchor,
  Badge,
  Button,
  Grid,
  Group,
  Modal,
  Stack,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import {
  ApiError,
  apiFetch,
  withQuery,
  type Cart,
  type ConsentPurpose,
  type ConsentSlot,
  type ConsentState,
  type Json,
  type Order,
  type Profile360,
  type Segment,
  type TimelineItem,
  type TimelinePage,
} from '../api';
import { useAuth } from '../auth';
import { ChannelBadge, StatusBadge } from '../components/badges';
import { CartView, OrderCard, useLocationNames } from '../components/commerce';
import { JsonText, KeyValues } from '../components/KeyValues';
import { ApiView, Empty, ErrorNotice, Loading, Panel } from '../components/states';
import { formatDateTime, formatMoney } from '../format';
import { useApi, type ApiState } from '../useApi';

const MONEY_TRAITS = new Set(['total_spent', 'average_order_value']);
const TIMELINE_PAGE = 30;

function NoPermission() {
  const { t } = useTranslation();
  return <Empty>{t('common.noPermission')}</Empty>;
}

// -- identities, traits ----------------------------------------------------------------------

function IdentitiesPanel({ profile }: { profile: ApiState<Profile360> }) {
  const { t } = useTranslation();
  return (
    <Panel title={t('profile.identities')} testId="identities-panel">
      <ApiView state={profile} isEmpty={(p) => p.identities.length === 0} empty={t('profile.noIdentities')}>
        {(p) => (
          <Stack gap={6} component="ul" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
            {p.identities.map((identity) => (
              <li key={`${identity.type}:${identity.value}`} data-testid="identity-item" data-type={identity.type}>
                <Group gap="xs" wrap="nowrap" align="flex-start">
                  <ChannelBadge kind={identity.type} size="sm" style={{ flexShrink: 0 }} />
                  <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
                    {identity.value}
                  </Text>
                </Group>
              </li>
            ))}
          </Stack>
        )}
      </ApiView>
    </Panel>
  );
}

function TraitsPanel({ profile }: { profile: ApiState<Profile360> }) {
  const { t } = useTranslation();
  return (
    <Panel title={t('profile.traits')} testId="traits-panel">
      <ApiView
        state={profile}
        isEmpty={(p) => Object.keys(p.traits).length + Object.keys(p.custom_attributes).length === 0}
        empty={t('profile.noTraits')}
      >
        {(p) => (
          <KeyValues
            testId="traits"
            rows={[
              ...Object.entries(p.traits).map(([key, value]) => ({
                key,
                label: t(`trait.${key}`, { defaultValue: key }),
                value: <JsonText value={value} />,
              })),
              ...Object.entries(p.custom_attributes).map(([key, value]) => ({
                key: `custom:${key}`,
                label: t(`trait.${key}`, { defaultValue: key }),
                value: <JsonText value={value} />,
              })),
            ]}
          />
        )}
      </ApiView>
    </Panel>
  );
}

function ComputedValue({ name, value, currency }: { name: string; value: Json | undefined; currency: string }) {
  if (MONEY_TRAITS.has(name) && typeof value === 'number') return <>{formatMoney(value, currency)}</>;
  if (name === 'spent_other_currencies' && value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return <Text span c="dimmed">–</Text>;
    return <>{entries.map(([cur, amount]) => formatMoney(typeof amount === 'number' ? amount : String(amount), cur)).join(', ')}</>;
  }
  if (name === 'channels' && Array.isArray(value)) {
    if (value.length === 0) return <Text span c="dimmed">–</Text>;
    return (
      <Group gap={4}>
        {value.map((channel) => (
          <ChannelBadge key={String(channel)} kind={String(channel)} size="sm" />
        ))}
      </Group>
    );
  }
  if (name === 'preferred_channel' && typeof value === 'string') return <ChannelBadge kind={value} size="sm" />;
  return <JsonText value={value} />;
}

function ComputedPanel({ profile }: { profile: ApiState<Profile360> }) {
  const { t } = useTranslation();
  return (
    <Panel title={t('profile.computed')} testId="computed-panel">
      <ApiView state={profile} isEmpty={(p) => Object.keys(p.computed).length === 0} empty={t('profile.noTraits')}>
        {(p) => {
          const currency = typeof p.computed.currency === 'string' ? p.computed.currency : 'THB';
          return (
            <KeyValues
              testId="computed"
              rows={Object.entries(p.computed)
                .filter(([key]) => key !== 'currency')
                .map(([key, value]) => ({
                  key,
                  label: t(`computed.${key}`, { defaultValue: key }),
                  value: <ComputedValue name={key} value={value} currency={currency} />,
                }))}
            />
          );
        }}
      </ApiView>
    </Panel>
  );
}

/** The segments the person is in now, linked to each; hidden from roles without segments:read. */
function SegmentsPanel({ id, ready }: { id: string; ready: boolean }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const allowed = can('segments:read');
  const segments = useApi<Segment[]>(allowed && ready ? withQuery('/api/segments', { profile_id: id }) : null);
  if (!allowed) return null;
  return (
    <Panel title={t('profile.segments')} testId="segments-panel">
      <ApiView state={segments} isEmpty={(list) => list.length === 0} empty={t('profile.noSegments')}>
        {(list) => (
          <Group gap={6}>
            {list.map((segment) => (
              <Badge
                key={segment.id}
                component={Link}
                to={`/segments/${encodeURIComponent(segment.id)}`}
                variant="light"
                tt="none"
                style={{ cursor: 'pointer', maxWidth: '100%' }}
                title={t('profile.segmentSize', { size: segment.size.toLocaleString(i18n.language) })}
                data-testid="profile-segment"
                data-segment-id={segment.id}
              >
                {segment.name}
              </Badge>
            ))}
          </Group>
        )}
      </ApiView>
    </Panel>
  );
}

// -- consents ----------------------------------------------------------------------------------

/** The current slots by purpose, in the order the API lists them. */
function purposeGroups(state: ConsentState): Array<[string, ConsentSlot[]]> {
  const groups = new Map<string, ConsentSlot[]>();
  for (const slot of state.current) {
    const list = groups.get(slot.purpose) ?? [];
    list.push(slot);
    groups.set(slot.purpose, list);
  }
  return [...groups.entries()];
}

function ConsentsPanel({ id, ready }: { id: string; ready: boolean }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const allowed = can('consent:read');
  const state = useApi<ConsentState>(allowed && ready ? `/api/privacy/profiles/${encodeURIComponent(id)}/consents` : null);
  const purposes = useApi<ConsentPurpose[]>(allowed && ready ? '/api/privacy/purposes' : null);
  const title = (name: string) => {
    const purpose = purposes.data?.find((p) => p.name === name);
    if (!purpose) return t(`purpose.${name}`, { defaultValue: name });
    return i18n.language === 'th' ? purpose.title_th : purpose.title_en;
  };
  const channel = (value: string | null) => (value ? t(`channel.${value}`, { defaultValue: value }) : t('consent.allChannels'));
  return (
    <Panel title={t('consent.title')} testId="consents-panel">
      {!allowed ? (
        <NoPermission />
      ) : (
        <ApiView state={state} isEmpty={(s) => s.current.length === 0 && s.history.length === 0} empty={t('consent.none')}>
          {(s) => (
            <Stack gap="sm">
              {s.blocks.length > 0 && (
                <Group gap={4}>
                  {s.blocks.map((block) => (
                    <Badge key={block} color="red" variant="light" tt="none">
                      {t(`consent.block.${block}`, { defaultValue: block })}
                    </Badge>
                  ))}
                </Group>
              )}
              <Stack gap="sm" component="ul" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
                {purposeGroups(s).map(([purpose, slots]) => (
                  <li key={purpose}>
                    <Text size="sm" fw={600}>
                      {title(purpose)}
                    </Text>
                    <Group gap={6} mt={4}>
                      {slots.every((slot) => !slot.requires_consent) ? (
                        <StatusBadge group="consentStatus" status="not_required" />
                      ) : slots.map((slot) => (
                        <Group
                          key={slot.channel ?? ''}
                          gap={4}
                          wrap="nowrap"
                          data-testid="consent-item"
                          data-purpose={slot.purpose}
                          data-channel={slot.channel ?? ''}
                          data-status={slot.status}
                          title={slot.record ? formatDateTime(slot.record.recorded_at, i18n.language) : undefined}
                        >
                          {slot.channel && (
                            <Text size="xs" c="dimmed">
                              {channel(slot.channel)}
                            </Text>
                          )}
                          <StatusBadge group="consentStatus" status={slot.requires_consent ? slot.status : 'not_required'} />
                        </Group>
                      ))}
                    </Group>
                  </li>
                ))}
              </Stack>
              {s.history.length > 0 && (
                <Accordion variant="contained" chevronPosition="right">
                  <Accordion.Item value="history">
                    <Accordion.Control>{t('consent.history', { count: s.history.length })}</Accordion.Control>
                    <Accordion.Panel>
                      <Stack gap={6} component="ol" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
                        {s.history.map((record) => (
                          <li key={record.id} data-testid="consent-history-item">
                            <Group gap={6}>
                              <StatusBadge group="consentStatus" status={record.status} />
                              <Text size="sm">
                                {title(record.purpose)} · {channel(record.channel)}
                              </Text>
                            </Group>
                            <Text size="xs" c="dimmed">
                              {formatDateTime(record.recorded_at, i18n.language)}
                              {record.capture_channel && ` · ${t('consent.capturedVia', { channel: t(`channel.${record.capture_channel}`, { defaultValue: record.capture_channel }) })}`}
                              {record.notice_version && ` · ${t('consent.notice', { version: record.notice_version })}`}
                            </Text>
                          </li>
                        ))}
                      </Stack>
                    </Accordion.Panel>
                  </Accordion.Item>
                </Accordion>
              )}
            </Stack>
          )}
        </ApiView>
      )}
    </Panel>
  );
}

// -- commerce ----------------------------------------------------------------------------------

function CartPanel({ id, ready }: { id: string; ready: boolean }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const allowed = can('commerce:read');
  const cart = useApi<Cart | null>(allowed && ready ? withQuery('/api/commerce/carts', { profile_id: id }) : null);
  return (
    <Panel title={t('cart.title')} testId="cart-panel">
      {!allowed ? (
        <NoPermission />
      ) : (
        <ApiView state={cart} isEmpty={(c) => c === null || c.items.length === 0} empty={t('cart.empty')}>
          {(c) => (c ? <CartView cart={c} itemTestId="cart-item" /> : null)}
        </ApiView>
      )}
    </Panel>
  );
}

function OrdersPanel({ id, ready }: { id: string; ready: boolean }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const allowed = can('commerce:read');
  const orders = useApi<Order[]>(allowed && ready ? withQuery('/api/commerce/orders', { profile_id: id, limit: 20 }) : null);
  const locations = useLocationNames();
  return (
    <Panel title={t('orders.title')} testId="orders-panel">
      {!allowed ? (
        <NoPermission />
      ) : (
        <ApiView state={orders} isEmpty={(list) => list.length === 0} empty={t('orders.empty')}>
          {(list) => (
            <Stack gap="xs">
              {list.map((order) => (
                <OrderCard key={order.id} order={order} locations={locations} />
              ))}
            </Stack>
          )}
        </ApiView>
      )}
    </Panel>
  );
}

// -- timeline ----------------------------------------------------------------------------------

function money(value: Json | undefined, currency: Json | undefined): string | null {
  if (typeof value !== 'number' && typeof value !== 'string') return null;
  return formatMoney(value, typeof currency === 'string' ? currency : 'THB');
}

/** A line about what the event carried: order, amount, products, page... */
function summary(item: TimelineItem, t: (key: string, options?: Record<string, unknown>) => string): string {
  const props = item.message.properties ?? {};
  const parts: string[] = [];
  const orderId = props.order_id ?? props.orderId;
  if (typeof orderId === 'string' || typeof orderId === 'number') parts.push(`#${orderId}`);
  const amount = money(props.total ?? props.revenue ?? props.value, props.currency);
  if (amount) parts.push(amount);
  const products = Array.isArray(props.products) ? props.products : [];
  const names = products
    .map((p) => (p && typeof p === 'object' && !Array.isArray(p) ? p : null))
    .filter((p): p is { [key: string]: Json } => p !== null)
    .map((p) => (typeof p.quantity === 'number' && p.quantity > 1 ? `${p.quantity} × ${String(p.name ?? p.sku ?? '')}` : String(p.name ?? p.sku ?? '')))
    .filter(Boolean);
  if (names.length) parts.push(names.slice(0, 3).join(', ') + (names.length > 3 ? ` +${names.length - 3}` : ''));
  if (!names.length && typeof props.name === 'string' && props.name !== item.name) parts.push(props.name);
  if (typeof props.category === 'string' && !names.length) parts.push(props.category);
  if (typeof props.path === 'string' && item.type === 'page') parts.push(props.path);
  if (typeof props.points === 'number') parts.push(t('timeline.points', { count: props.points }));
  if (typeof props.coupon === 'string') parts.push(props.coupon);
  return parts.join(' · ');
}

function TimelinePanel({ id, ready }: { id: string; ready: boolean }) {
  const { t, i18n } = useTranslation();
  const first = useApi<TimelinePage>(
    ready ? withQuery(`/api/profiles/${encodeURIComponent(id)}/events`, { limit: TIMELINE_PAGE }) : null,
  );
  const [more, setMore] = useState<{ items: TimelineItem[]; cursor: string | null; error: Error | null; busy: boolean }>({
    items: [],
    cursor: null,
    error: null,
    busy: false,
  });
  useEffect(() => setMore({ items: [], cursor: null, error: null, busy: false }), [id, first.data]);

  const cursor = more.items.length ? more.cursor : (first.data?.next_cursor ?? null);
  async function loadMore() {
    if (!cursor) return;
    setMore((m) => ({ ...m, busy: true, error: null }));
    try {
      const page = await apiFetch<TimelinePage>(
        withQuery(`/api/profiles/${encodeURIComponent(id)}/events`, { limit: TIMELINE_PAGE, cursor }),
      );
      setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.next_cursor, error: null, busy: false }));
    } catch (error) {
      setMore((m) => ({ ...m, busy: false, error: error instanceof Error ? error : new Error(String(error)) }));
    }
  }

  return (
    <Panel title={t('timeline.title')} testId="timeline-panel">
      <ApiView state={first} isEmpty={(page) => page.items.length === 0} empty={t('timeline.empty')}>
        {(page) => (
          <Stack gap="xs">
            <Stack gap={0} component="ol" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
              {[...page.items, ...more.items].map((item) => {
                const detail = summary(item, t);
                return (
                  <li
                    key={item.seq}
                    data-testid="timeline-item"
                    data-channel={item.channel}
                    data-type={item.type}
                    style={{ borderBottom: '1px solid var(--mantine-color-gray-2)', padding: '8px 0' }}
                  >
                    <Group justify="space-between" gap="xs" align="flex-start" wrap="nowrap">
                      <div style={{ minWidth: 0 }}>
                        <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }}>
                          {item.name ?? t(`eventType.${item.type}`, { defaultValue: item.type })}
                        </Text>
                        {detail && (
                          <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
                            {detail}
                          </Text>
                        )}
                      </div>
                      <Stack gap={2} align="flex-end" style={{ flexShrink: 0 }}>
                        <ChannelBadge kind={item.channel} size="sm" />
                        <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                          {formatDateTime(item.timestamp, i18n.language)}
                        </Text>
                      </Stack>
                    </Group>
                  </li>
                );
              })}
            </Stack>
            {more.error && <ErrorNotice error={more.error} onRetry={loadMore} />}
            {cursor && (
              <Button variant="light" size="xs" onClick={loadMore} loading={more.busy} data-testid="timeline-more">
                {t('timeline.more')}
              </Button>
            )}
          </Stack>
        )}
      </ApiView>
    </Panel>
  );
}

// -- merges and notes --------------------------------------------------------------------------

function MergesPanel({ profile }: { profile: ApiState<Profile360> }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const [undoing, setUndoing] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ restored: string } | null>(null);
  const [error, setError] = useState<Error | null>(null);

  async function unmerge(profileId: string, mergeId: number) {
    setBusy(true);
    setError(null);
    try {
      const answer = await apiFetch<{ restored: { id: string } }>(
        `/api/profiles/${encodeURIComponent(profileId)}/unmerge`,
        { method: 'POST', body: { merge_id: mergeId } },
      );
      setResult({ restored: answer.restored.id });
      setUndoing(null);
      profile.reload();
    } catch (failure) {
      setError(failure instanceof Error ? failure : new Error(String(failure)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Panel title={t('merges.title')} testId="merges-panel">
      <ApiView state={profile} isEmpty={(p) => p.merges.length === 0} empty={t('merges.empty')}>
        {(p) => (
          <Stack gap="xs" component="ul" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
            {p.merges.map((merge) => (
              <li key={merge.id} data-testid="merge-item">
                <Text size="sm">
                  {merge.survivor_id === p.id
                    ? t('merges.absorbed', { id: merge.merged_id })
                    : t('merges.into', { id: merge.survivor_id })}
                  {merge.undone_at && (
                    <Badge ml={6} color="gray" variant="light" tt="none">
                      {t('merges.undone')}
                    </Badge>
                  )}
                </Text>
                <Text size="xs" c="dimmed">
                  {formatDateTime(merge.merged_at, i18n.language)}
                </Text>
                {can('profiles:write') && merge.survivor_id === p.id && !merge.undone_at && (
                  <Button
                    size="compact-xs"
                    variant="subtle"
                    color="red"
                    mt={4}
                    onClick={() => setUndoing(merge.id)}
                    data-testid="merge-undo"
                  >
                    {t('merges.undo')}
                  </Button>
                )}
                {merge.trigger.length > 0 && (
                  <Group gap={4} mt={4}>
                    <Text size="xs" c="dimmed">
                      {t('merges.trigger')}
                    </Text>
                    {merge.trigger.map((identity) => (
                      <Group key={`${identity.type}:${identity.value}`} gap={4} wrap="nowrap">
                        <ChannelBadge kind={identity.type} size="xs" />
                        <Text size="xs" style={{ overflowWrap: 'anywhere' }}>
                          {identity.value}
                        </Text>
                      </Group>
                    ))}
                  </Group>
                )}
              </li>
            ))}
          </Stack>
        )}
      </ApiView>
      {result && (
        <Text size="sm" mt="xs" role="status" data-testid="merge-undone">
          {t('merges.restored')}{' '}
          <Anchor component={Link} to={`/customers/${encodeURIComponent(result.restored)}`}>
            {result.restored}
          </Anchor>
        </Text>
      )}
      <Modal
        opened={undoing !== null}
        onClose={() => setUndoing(null)}
        title={t('merges.undoTitle')}
        centered
      >
        <Stack gap="sm">
          <Text size="sm">{t('merges.undoExplain')}</Text>
          {error && <ErrorNotice error={error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setUndoing(null)}>
              {t('common.cancel')}
            </Button>
            <Button
              color="red"
              loading={busy}
              onClick={() => profile.data && undoing !== null && void unmerge(profile.data.id, undoing)}
              data-testid="merge-undo-confirm"
            >
              {t('merges.undo')}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Panel>
  );
}

function NotesPanel({ profile }: { profile: ApiState<Profile360> }) {
  const { t, i18n } = useTranslation();
  const { can, user } = useAuth();
  const [body, setBody] = useState('');
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const writable = can('profiles:write');
  if (!profile.data || (profile.data.notes.length === 0 && !writable)) return null;
  const id = profile.data.id;

  async function add(event: FormEvent) {
    event.preventDefault();
    if (!body.trim()) return;
    setSaving(true);
    setError(null);
    try {
      await apiFetch(`/api/profiles/${encodeURIComponent(id)}/notes`, {
        method: 'POST',
        body: { body: body.trim(), author: user?.name || 'staff' },
      });
      setBody('');
      profile.reload();
    } catch (failure) {
      setError(failure instanceof Error ? failure : new Error(String(failure)));
    } finally {
      setSaving(false);
    }
  }

  return (
    <Panel title={t('notes.title')} testId="notes-panel">
      <Stack gap="xs">
        {profile.data.notes.map((note) => (
          <div key={note.id} data-testid="note-item">
            <Text size="sm" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
              {note.body}
            </Text>
            <Text size="xs" c="dimmed">
              {note.author} · {formatDateTime(note.created_at, i18n.language)}
            </Text>
          </div>
        ))}
        {writable && (
          <form onSubmit={add}>
            <Stack gap="xs">
              <Textarea
                label={t('notes.add')}
                value={body}
                onChange={(event) => setBody(event.currentTarget.value)}
                maxLength={10_000}
                autosize
                minRows={2}
                data-testid="note-body"
              />
              {error && <ErrorNotice error={error} />}
              <Group justify="flex-end">
                <Button type="submit" size="xs" loading={saving} disabled={!body.trim()} data-testid="note-save">
                  {t('notes.save')}
                </Button>
              </Group>
            </Stack>
          </form>
        )}
      </Stack>
    </Panel>
  );
}

// -- the page ----------------------------------------------------------------------------------

export default function CustomerPage() {
  const { t, i18n } = useTranslation();
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const profile = useApi<Profile360>(`/api/profiles/${encodeURIComponent(id)}`);

  // A merged-away id answers with the surviving profile: show it under its own address.
  useEffect(() => {
    if (profile.data && profile.data.id !== id) {
      navigate(`/customers/${encodeURIComponent(profile.data.id)}`, { replace: true, state: { mergedFrom: id } });
    }
  }, [profile.data, id, navigate]);

  const p = profile.data;
  if (p && p.id !== id) return <Loading />;
  // The other panels ask once the profile answered, so an unknown or merged-away id costs
  // one request, not one per panel; each then loads and fails on its own.
  const settled = p !== undefined || (profile.error !== null && !(profile.error instanceof ApiError && profile.error.status === 404));

  return (
    <Stack gap="md">
      <Anchor component={Link} to="/customers" size="sm">
        ← {t('profile.back')}
      </Anchor>
      <div>
        {p ? (
          <>
            <Title order={1} size="h2" data-testid="profile-name" style={{ overflowWrap: 'anywhere' }}>
              {p.display_name || t('customers.unnamed')}
            </Title>
            <Group gap="xs" mt={4}>
              <Text size="xs" c="dimmed" ff="monospace">
                {p.id}
              </Text>
              <Text size="xs" c="dimmed">
                {t('profile.since', { date: formatDateTime(p.created_at, i18n.language) })}
              </Text>
            </Group>
          </>
        ) : profile.error ? (
          <>
            <Title order={1} size="h2">
              {t('profile.title')}
            </Title>
            <ErrorNotice error={profile.error} onRetry={profile.reload} />
          </>
        ) : (
          <Loading />
        )}
      </div>
      {/* An unknown id has nothing for the other panels to show. */}
      {!(profile.error instanceof ApiError && profile.error.status === 404) && (
      <Grid gutter="md">
        <Grid.Col span={{ base: 12, md: 5, lg: 4 }}>
          <Stack gap="md">
            <IdentitiesPanel profile={profile} />
            <ComputedPanel profile={profile} />
            <SegmentsPanel id={id} ready={settled} />
            <TraitsPanel profile={profile} />
            <ConsentsPanel id={id} ready={settled} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7, lg: 8 }}>
          <Stack gap="md">
            <CartPanel id={id} ready={settled} />
            <OrdersPanel id={id} ready={settled} />
            <TimelinePanel id={id} ready={settled} />
            <MergesPanel profile={profile} />
            <NotesPanel profile={profile} />
          </Stack>
        </Grid.Col>
      </Grid>
      )}
    </Stack>
  );
}
