import {
  ActionIcon,
  Alert,
  Anchor,
  Button,
  Code,
  Grid,
  Group,
  Pagination,
  Paper,
  Radio,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  Textarea,
  TextInput,
  Timeline,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { useDebouncedValue, useMediaQuery } from '@mantine/hooks';
import { useEffect, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { apiFetch, withQuery, type Profile360, type SearchPage } from '../../api';
import { useAuth } from '../../auth';
import { ConfirmModal, MONO } from '../../components/settings/common';
import { byKeyword, NO_ERRORS, placeErrors, type PlacedErrors } from '../../components/settings/errors';
import { downloadExport, DueDate, RequestStatusBadge, RequestTypeBadge } from '../../components/settings/requests';
import { ApiView, Empty, ErrorNotice, Panel } from '../../components/states';
import { formatDateTime, formatNumber } from '../../format';
import { useApi } from '../../useApi';
import { REQUEST_STATUSES, REQUEST_TYPES, type PrivacyRequest, type RequestPage as Page, type RequestType } from './types';

const PAGE_SIZE = 20;

function customerLink(profileId: string) {
  return `/customers/${encodeURIComponent(profileId)}`;
}

/** `/settings/requests`: data-subject requests, soonest due first. */
export function RequestsPage() {
  const { t, i18n } = useTranslation();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const overdue = params.get('overdue') === 'true';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const requests = useApi<Page>(
    withQuery('/api/privacy/requests', {
      status: status || null,
      overdue: overdue ? 'true' : null,
      limit: PAGE_SIZE,
      offset: (page - 1) * PAGE_SIZE,
    }),
  );
  const change = (next: Record<string, string | null>) => {
    const values: Record<string, string> = {};
    const merged = { status: status || null, overdue: overdue ? 'true' : null, page: null, ...next };
    for (const [key, value] of Object.entries(merged)) if (value) values[key] = value;
    setParams(values, { replace: true });
  };
  const link = (request: PrivacyRequest) => `/settings/requests/${encodeURIComponent(request.id)}`;

  return (
    <Panel
      title={t('settings.requests.title')}
      testId="requests-panel"
      actions={
        <Button component={Link} to="/settings/requests/new" size="compact-sm" data-testid="request-new">
          {t('settings.requests.open')}
        </Button>
      }
    >
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          {t('settings.requests.intro')}
        </Text>
        <Group gap="md" align="flex-end" wrap="wrap">
          <Select
            label={t('settings.requests.filterStatus')}
            value={status}
            onChange={(value) => change({ status: value || null })}
            data={[
              { value: '', label: t('settings.requests.allStatuses') },
              ...REQUEST_STATUSES.map((s) => ({ value: s, label: t(`settings.requests.status.${s}`) })),
            ]}
            allowDeselect={false}
            w={200}
            data-testid="requests-status-filter"
          />
          <Switch
            label={t('settings.requests.onlyOverdue')}
            checked={overdue}
            onChange={(event) => change({ overdue: event.currentTarget.checked ? 'true' : null })}
            mb={6}
            data-testid="requests-overdue-filter"
          />
        </Group>
        <ApiView
          state={requests}
          isEmpty={(data) => data.items.length === 0}
          empty={status || overdue ? t('settings.requests.noneMatch') : t('settings.requests.none')}
        >
          {(data) => (
            <Stack gap="sm">
              <Text size="sm" c="dimmed" data-testid="requests-total" data-total={data.total}>
                {t('settings.requests.total', { count: data.total, shown: formatNumber(data.total, i18n.language) })}
              </Text>
              {phone ? (
                <Stack gap="xs">
                  {data.items.map((request) => (
                    <Paper key={request.id} withBorder p="sm" data-testid="request-row" data-request-id={request.id}>
                      <Group justify="space-between" wrap="nowrap">
                        <RequestTypeBadge type={request.type} />
                        <RequestStatusBadge status={request.status} />
                      </Group>
                      <Anchor component={Link} to={link(request)} fw={600} mt={6} display="block" style={{ overflowWrap: 'anywhere' }} data-testid="request-link">
                        {request.requester}
                      </Anchor>
                      <Text size="xs" c="dimmed" ff="monospace">
                        {request.profile_id}
                      </Text>
                      <Group justify="space-between" mt={6} align="flex-start">
                        <Text size="xs" c="dimmed">
                          {t('settings.requests.receivedAt', { time: formatDateTime(request.received_at, i18n.language) })}
                        </Text>
                        <DueDate request={request} />
                      </Group>
                    </Paper>
                  ))}
                </Stack>
              ) : (
                <Table.ScrollContainer minWidth={760}>
                  <Table verticalSpacing="xs" highlightOnHover>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th scope="col">{t('settings.requests.kind')}</Table.Th>
                        <Table.Th scope="col">{t('settings.requests.subject')}</Table.Th>
                        <Table.Th scope="col">{t('settings.requests.statusLabel')}</Table.Th>
                        <Table.Th scope="col">{t('settings.requests.received')}</Table.Th>
                        <Table.Th scope="col">{t('settings.requests.due')}</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {data.items.map((request) => (
                        <Table.Tr key={request.id} data-testid="request-row" data-request-id={request.id}>
                          <Table.Td>
                            <RequestTypeBadge type={request.type} />
                          </Table.Td>
                          <Table.Td maw={320}>
                            <Anchor component={Link} to={link(request)} fw={600} size="sm" style={{ overflowWrap: 'anywhere' }} data-testid="request-link">
                              {request.requester}
                            </Anchor>
                            <Text size="xs" c="dimmed" ff="monospace">
                              {request.profile_id}
                            </Text>
                          </Table.Td>
                          <Table.Td>
                            <RequestStatusBadge status={request.status} />
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm">{formatDateTime(request.received_at, i18n.language)}</Text>
                          </Table.Td>
                          <Table.Td>
                            <DueDate request={request} />
                          </Table.Td>
                        </Table.Tr>
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
                    onChange={(next) => change({ page: next > 1 ? String(next) : null })}
                    size="sm"
                  />
                </Group>
              )}
            </Stack>
          )}
        </ApiView>
      </Stack>
    </Panel>
  );
}

// -- opening a request -------------------------------------------------------------------------

function PersonPicker({ value, onChange, error }: { value: string | null; onChange: (id: string | null) => void; error?: string }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const [text, setText] = useState('');
  const [q] = useDebouncedValue(text.trim(), 350);
  const results = useApi<SearchPage>(can('profiles:read') && q && !value ? withQuery('/api/profiles', { q, limit: 8 }) : null);
  const chosen = useApi<Profile360>(can('profiles:read') && value ? `/api/profiles/${encodeURIComponent(value)}` : null);

  if (value) {
    return (
      <Stack gap={4}>
        <Text size="sm" fw={500}>
          {t('settings.requests.person')}
        </Text>
        <Paper withBorder p="sm" data-testid="request-person" data-profile-id={value}>
          <Group justify="space-between" wrap="nowrap">
            <div style={{ minWidth: 0 }}>
              <Text fw={600} style={{ overflowWrap: 'anywhere' }}>
                {chosen.data?.display_name || (chosen.loading ? '…' : t('customers.unnamed'))}
              </Text>
              <Text size="xs" c="dimmed" ff="monospace">
                {value}
              </Text>
            </div>
            <Button variant="subtle" size="compact-sm" onClick={() => onChange(null)} data-testid="request-person-change">
              {t('settings.requests.changePerson')}
            </Button>
          </Group>
        </Paper>
        {chosen.error && <ErrorNotice error={chosen.error} />}
        {error && (
          <Text size="xs" c="red" role="alert">
            {error}
          </Text>
        )}
      </Stack>
    );
  }
  return (
    <Stack gap={6}>
      <TextInput
        label={t('settings.requests.findPerson')}
        description={t('settings.requests.findPersonHint')}
        placeholder={t('customers.searchPlaceholder')}
        value={text}
        onChange={(event) => setText(event.currentTarget.value)}
        type="search"
        autoComplete="off"
        error={error}
        required
        data-testid="request-person-search"
      />
      {q && (
        <ApiView state={results} isEmpty={(data) => data.items.length === 0} empty={t('customers.noMatch', { q })}>
          {(data) => (
            <Stack gap={4} role="listbox" aria-label={t('settings.requests.results')}>
              {data.items.map((profile) => (
                <UnstyledButton
                  key={profile.id}
                  onClick={() => onChange(profile.id)}
                  role="option"
                  aria-selected={false}
                  data-testid="request-person-option"
                  data-profile-id={profile.id}
                  style={{ borderRadius: 8, border: '1px solid var(--mantine-color-default-border)', padding: '6px 10px' }}
                >
                  <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }}>
                    {profile.display_name || t('customers.unnamed')}
                  </Text>
                  <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
                    {[profile.traits.email, profile.traits.phone].filter((v) => typeof v === 'string' && v).join(' · ') || profile.id}
                  </Text>
                </UnstyledButton>
              ))}
            </Stack>
          )}
        </ApiView>
      )}
    </Stack>
  );
}

interface TraitRow {
  name: string;
  value: string;
}

/** `/settings/requests/new`: record a request received from a person. */
export function RequestNewPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [type, setType] = useState<RequestType>('access');
  const [profileId, setProfileId] = useState<string | null>(params.get('profile'));
  const [requester, setRequester] = useState('');
  const [note, setNote] = useState('');
  const [traits, setTraits] = useState<TraitRow[]>([{ name: '', value: '' }]);
  const [saving, setSaving] = useState(false);
  const [errors, setErrors] = useState<PlacedErrors>(NO_ERRORS);

  const filledTraits = traits.filter((row) => row.name.trim());
  const complete = !!profileId && !!requester.trim() && (type !== 'rectification' || filledTraits.length > 0);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!complete || !profileId) return;
    setSaving(true);
    setErrors(NO_ERRORS);
    const details =
      type === 'rectification'
        ? { traits: Object.fromEntries(filledTraits.map((row) => [row.name.trim(), row.value.trim() === '' ? null : row.value.trim()])) }
        : {};
    try {
      const opened = await apiFetch<PrivacyRequest>('/api/privacy/requests', {
        method: 'POST',
        body: { type, profile_id: profileId, requester: requester.trim(), verification_note: note.trim(), details },
      });
      navigate(`/settings/requests/${encodeURIComponent(opened.id)}`);
    } catch (error) {
      setErrors(
        placeErrors(
          error,
          byKeyword([
            ['details', /details|traits|rectification/i],
            ['profile_id', /profile/i],
            ['requester', /requester/i],
            ['verification_note', /verification/i],
          ]),
        ),
      );
      setSaving(false);
    }
  }

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2} size="h3">
          {t('settings.requests.newTitle')}
        </Title>
        <Anchor component={Link} to="/settings/requests" size="sm">
          {t('settings.requests.back')}
        </Anchor>
      </Group>
      <Panel title={t('settings.requests.newPanel')} testId="request-form">
        <form onSubmit={submit}>
          <Stack gap="md">
            <Radio.Group
              label={t('settings.requests.kind')}
              value={type}
              onChange={(value) => setType(value as RequestType)}
              required
              data-testid="request-type-choice"
            >
              <Stack gap="xs" mt={6}>
                {REQUEST_TYPES.map((value) => (
                  <Radio
                    key={value}
                    value={value}
                    label={t(`settings.requests.type.${value}`)}
                    description={t(`settings.requests.typeHint.${value}`)}
                    data-testid={`request-type-${value}`}
                  />
                ))}
              </Stack>
            </Radio.Group>
            <PersonPicker value={profileId} onChange={setProfileId} error={errors.fields.profile_id} />
            <TextInput
              label={t('settings.requests.requester')}
              description={t('settings.requests.requesterHint')}
              value={requester}
              onChange={(event) => setRequester(event.currentTarget.value)}
              error={errors.fields.requester}
              required
              maxLength={500}
              data-testid="request-requester"
            />
            <Textarea
              label={t('settings.requests.verification')}
              description={t('settings.requests.verificationHint')}
              value={note}
              onChange={(event) => setNote(event.currentTarget.value)}
              error={errors.fields.verification_note}
              maxLength={2000}
              autosize
              minRows={2}
              data-testid="request-verification"
            />
            {type === 'rectification' && (
              <Stack gap="xs" data-testid="request-traits">
                <Text size="sm" fw={500}>
                  {t('settings.requests.corrections')}
                </Text>
                <Text size="xs" c="dimmed">
                  {t('settings.requests.correctionsHint')}
                </Text>
                {traits.map((row, index) => (
                  <Group key={index} gap="xs" align="flex-end" wrap="nowrap">
                    <TextInput
                      label={t('settings.requests.traitName')}
                      value={row.name}
                      onChange={(event) => {
                        const value = event.currentTarget.value;
                        setTraits((rows) => rows.map((r, i) => (i === index ? { ...r, name: value } : r)));
                      }}
                      placeholder="last_name"
                      style={{ flex: 1 }}
                    />
                    <TextInput
                      label={t('settings.requests.traitValue')}
                      value={row.value}
                      onChange={(event) => {
                        const value = event.currentTarget.value;
                        setTraits((rows) => rows.map((r, i) => (i === index ? { ...r, value } : r)));
                      }}
                      placeholder="ใจดี"
                      style={{ flex: 1 }}
                    />
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      mb={4}
                      onClick={() => setTraits((rows) => (rows.length > 1 ? rows.filter((_, i) => i !== index) : [{ name: '', value: '' }]))}
                      aria-label={t('settings.requests.removeTrait', { n: index + 1 })}
                    >
                      ×
                    </ActionIcon>
                  </Group>
                ))}
                <Group>
                  <Button variant="subtle" size="compact-sm" onClick={() => setTraits((rows) => [...rows, { name: '', value: '' }])}>
                    {t('settings.requests.addTrait')}
                  </Button>
                </Group>
                {errors.fields.details && (
                  <Text size="xs" c="red" role="alert">
                    {errors.fields.details}
                  </Text>
                )}
              </Stack>
            )}
            <Alert color="blue" variant="light">
              {t('settings.requests.dueNotice')}
            </Alert>
            {errors.general && <ErrorNotice error={errors.general} />}
            <Group>
              <Button type="submit" loading={saving} disabled={!complete} data-testid="request-submit">
                {t('settings.requests.record')}
              </Button>
            </Group>
          </Stack>
        </form>
      </Panel>
    </Stack>
  );
}

// -- one request -----------------------------------------------------------------------------

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={600}>
        {label}
      </Text>
      <div style={{ overflowWrap: 'anywhere' }}>{children}</div>
    </div>
  );
}

/** What fulfilling did: counts above zero of what an erasure removed, the rest as given. */
function ResultView({ result }: { result: Record<string, unknown> }) {
  const { t, i18n } = useTranslation();
  const lines: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(result)) {
    if (key === 'removed' && value && typeof value === 'object') {
      const counts = Object.entries(value as Record<string, number>).filter(([, n]) => typeof n === 'number' && n > 0);
      if (counts.length === 0) lines.push([key, t('settings.requests.nothingRemoved')]);
      for (const [what, n] of counts) lines.push([`${key} · ${what}`, formatNumber(n, i18n.language)]);
    } else {
      lines.push([key, typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value)]);
    }
  }
  return (
    <Stack gap={0} data-testid="request-result">
      {lines.map(([key, value]) => (
        <Text key={key} size="sm" style={{ overflowWrap: 'anywhere' }}>
          <Text span size="sm" c="dimmed" ff={MONO}>
            {key}
          </Text>
          : {value}
        </Text>
      ))}
    </Stack>
  );
}

/** `/settings/requests/:id`: a request, its trail, and the next step. */
export function RequestPage() {
  const { t, i18n } = useTranslation();
  const { id = '' } = useParams();
  const { can } = useAuth();
  const state = useApi<PrivacyRequest>(`/api/privacy/requests/${encodeURIComponent(id)}`);
  const request = state.data;
  const person = useApi<Profile360>(
    request && can('profiles:read') ? `/api/profiles/${encodeURIComponent(request.profile_id)}` : null,
  );
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<PlacedErrors>(NO_ERRORS);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [download, setDownload] = useState<{ url: string; name: string; bytes: number } | null>(null);

  useEffect(() => () => {
    if (download) URL.revokeObjectURL(download.url);
  }, [download]);

  async function move(status: 'in_progress' | 'rejected') {
    if (!request) return;
    setBusy(status);
    setErrors(NO_ERRORS);
    try {
      await apiFetch<PrivacyRequest>(`/api/privacy/requests/${encodeURIComponent(request.id)}/status`, {
        method: 'POST',
        body: { status, note: note.trim() },
      });
      setNote('');
      state.reload();
    } catch (error) {
      setErrors(placeErrors(error, byKeyword([['note', /note|reason/i]])));
    } finally {
      setBusy(null);
    }
  }

  async function exportNow() {
    if (!request) return;
    setBusy('export');
    setErrors(NO_ERRORS);
    try {
      const file = await downloadExport(request);
      setDownload(file);
      // Start the download at once; the link stays for a second try.
      const anchor = document.createElement('a');
      anchor.href = file.url;
      anchor.download = file.name;
      document.body.appendChild(anchor);
      anchor.click();
      anchor.remove();
      state.reload();
    } catch (error) {
      setErrors({ fields: {}, general: error instanceof Error ? error : new Error(String(error)) });
    } finally {
      setBusy(null);
    }
  }

  async function fulfil() {
    if (!request) return;
    await apiFetch<PrivacyRequest>(`/api/privacy/requests/${encodeURIComponent(request.id)}/fulfil`, { method: 'POST' });
    state.reload();
  }

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2} size="h3">
          {t('settings.requests.detailTitle')}
        </Title>
        <Anchor component={Link} to="/settings/requests" size="sm">
          {t('settings.requests.back')}
        </Anchor>
      </Group>
      <ApiView state={state}>
        {(data) => {
          const open = data.status === 'open' || data.status === 'in_progress';
          const eraseWord = t('settings.requests.eraseWord');
          return (
            <Grid gutter="md">
              <Grid.Col span={{ base: 12, md: 7 }}>
                <Stack gap="md">
                  <Panel
                    title={
                      <Group gap="xs">
                        <RequestTypeBadge type={data.type} />
                        <RequestStatusBadge status={data.status} />
                      </Group>
                    }
                    testId="request-detail"
                  >
                    <Stack gap="sm" data-request-id={data.id}>
                      <Fact label={t('settings.requests.subject')}>
                        <Anchor component={Link} to={customerLink(data.profile_id)} fw={600}>
                          {person.data ? person.data.display_name || t('customers.unnamed') : data.profile_id}
                        </Anchor>
                        {person.data && (
                          <Text size="xs" c="dimmed" ff="monospace">
                            {data.profile_id}
                          </Text>
                        )}
                      </Fact>
                      <Fact label={t('settings.requests.requester')}>
                        <Text size="sm">{data.requester}</Text>
                      </Fact>
                      <Fact label={t('settings.requests.verification')}>
                        <Text size="sm">{data.verification_note || '–'}</Text>
                      </Fact>
                      <Group gap="xl" align="flex-start">
                        <Fact label={t('settings.requests.received')}>
                          <Text size="sm">{formatDateTime(data.received_at, i18n.language)}</Text>
                        </Fact>
                        <Fact label={t('settings.requests.due')}>
                          <DueDate request={data} />
                        </Fact>
                        {data.closed_at && (
                          <Fact label={t('settings.requests.closed')}>
                            <Text size="sm">{formatDateTime(data.closed_at, i18n.language)}</Text>
                          </Fact>
                        )}
                      </Group>
                      {Object.keys(data.details).length > 0 && (
                        <Fact label={t('settings.requests.details')}>
                          <Code block style={{ fontFamily: MONO, whiteSpace: 'pre-wrap' }}>
                            {JSON.stringify(data.details, null, 2)}
                          </Code>
                        </Fact>
                      )}
                      {Object.keys(data.result).length > 0 && (
                        <Fact label={t('settings.requests.result')}>
                          <ResultView result={data.result} />
                        </Fact>
                      )}
                      <Text size="xs" c="dimmed" ff="monospace">
                        {data.id}
                      </Text>
                    </Stack>
                  </Panel>
                  <Panel title={t('settings.requests.trail')} testId="request-trail">
                    {data.steps.length === 0 ? (
                      <Empty>{t('settings.requests.noSteps')}</Empty>
                    ) : (
                      <Timeline active={data.steps.length - 1} bulletSize={14} lineWidth={2}>
                        {data.steps.map((step, index) => (
                          <Timeline.Item
                            key={index}
                            title={t(`settings.requests.step.${step.action}`, { defaultValue: step.action })}
                            data-testid="request-step"
                            data-action={step.action}
                          >
                            <Text size="xs" c="dimmed">
                              {formatDateTime(step.at, i18n.language)} · {step.actor}
                            </Text>
                            {step.note && <Text size="sm">{step.note}</Text>}
                          </Timeline.Item>
                        ))}
                      </Timeline>
                    )}
                  </Panel>
                </Stack>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 5 }}>
                <Panel title={t('settings.requests.nextStep')} testId="request-actions">
                  {!open ? (
                    <Stack gap="sm">
                      <Text size="sm">{t(`settings.requests.final.${data.status}`)}</Text>
                      {download && (
                        <Anchor href={download.url} download={download.name} data-testid="request-download">
                          {t('settings.requests.downloadAgain', { name: download.name })}
                        </Anchor>
                      )}
                    </Stack>
                  ) : (
                    <Stack gap="sm">
                      <Textarea
                        label={t('settings.requests.note')}
                        description={t('settings.requests.noteHint')}
                        value={note}
                        onChange={(event) => setNote(event.currentTarget.value)}
                        error={errors.fields.note}
                        maxLength={2000}
                        autosize
                        minRows={2}
                        data-testid="request-note"
                      />
                      <Group gap="xs">
                        {data.status === 'open' && (
                          <Button
                            variant="light"
                            loading={busy === 'in_progress'}
                            disabled={busy !== null}
                            onClick={() => void move('in_progress')}
                            data-testid="request-start"
                          >
                            {t('settings.requests.start')}
                          </Button>
                        )}
                        <Button
                          variant="light"
                          color="gray"
                          loading={busy === 'rejected'}
                          disabled={busy !== null}
                          onClick={() => void move('rejected')}
                          data-testid="request-reject"
                        >
                          {t('settings.requests.reject')}
                        </Button>
                      </Group>
                      <Text size="sm" fw={600} mt="sm">
                        {t('settings.requests.fulfil')}
                      </Text>
                      <Text size="sm" c="dimmed">
                        {t(`settings.requests.fulfilHint.${data.type}`)}
                      </Text>
                      {data.type === 'access' ? (
                        can('privacy:export') ? (
                          <Group>
                            <Button loading={busy === 'export'} disabled={busy !== null} onClick={() => void exportNow()} data-testid="request-export">
                              {t('settings.requests.export')}
                            </Button>
                          </Group>
                        ) : (
                          <Text size="sm" c="orange.8">
                            {t('settings.requests.needsExport')}
                          </Text>
                        )
                      ) : data.type === 'erasure' && !can('privacy:erase') ? (
                        <Text size="sm" c="orange.8">
                          {t('settings.requests.needsErase')}
                        </Text>
                      ) : (
                        <Group>
                          <Button
                            color={data.type === 'erasure' ? 'red' : 'teal'}
                            disabled={busy !== null}
                            onClick={() => setConfirming(true)}
                            data-testid="request-fulfil"
                          >
                            {t(`settings.requests.fulfilAction.${data.type}`)}
                          </Button>
                        </Group>
                      )}
                      {errors.general && <ErrorNotice error={errors.general} />}
                    </Stack>
                  )}
                </Panel>
              </Grid.Col>
              <ConfirmModal
                opened={confirming}
                title={t(`settings.requests.fulfilAction.${data.type}`)}
                confirmLabel={t(`settings.requests.fulfilAction.${data.type}`)}
                color={data.type === 'erasure' ? 'red' : 'teal'}
                typeWord={data.type === 'erasure' ? eraseWord : undefined}
                altWord={data.type === 'erasure' ? 'ERASE' : undefined}
                onConfirm={fulfil}
                onClose={() => setConfirming(false)}
              >
                {t(`settings.requests.confirm.${data.type}`, { name: person.data?.display_name || data.profile_id })}
              </ConfirmModal>
            </Grid>
          );
        }}
      </ApiView>
    </Stack>
  );
}
