/**
 * /journeys — the journeys with their status and figures, a new blank journey, and the
 * playbooks gallery: one click installs a playbook as a draft and opens it in the builder.
 */
import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  NativeSelect,
  Paper,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { ApiError, apiFetch } from '../../api';
import { useAuth } from '../../auth';
import { ChannelBadge, StatusBadge } from '../../components/badges';
import { COMMON_EVENTS, EventInput } from '../../components/journeys/fields';
import { KindIcon } from '../../components/journeys/kinds';
import { ApiView, Empty, ErrorNotice, Panel } from '../../components/states';
import { formatDateTime, formatNumber } from '../../format';
import { useApi } from '../../useApi';
import type { JourneyMetrics, JourneyOut, JourneyStatus, PlaybookOut } from './types';

const THAI = /[\u0E00-\u0E7F]/;

/** A playbook's "ไทย / English" name in the reader's language. */
export function playbookName(name: string, language: string): string {
  const parts = name.split(' / ');
  if (parts.length !== 2) return name;
  return (language.startsWith('th') ? parts[0] : parts[1]) ?? name;
}

/** A playbook's "ไทย. English." description in the reader's language: split after the last Thai letter. */
export function playbookDescription(text: string, language: string): string {
  let last = -1;
  for (let i = 0; i < text.length; i += 1) if (THAI.test(text.charAt(i))) last = i;
  if (last < 0) return text;
  const stop = text.indexOf('. ', last);
  if (stop < 0) return text;
  const thai = text.slice(0, stop).trim();
  const english = text.slice(stop + 2).trim();
  if (!english || THAI.test(english)) return text;
  return language.startsWith('th') ? thai : english;
}

function JourneyFigures({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const metrics = useApi<JourneyMetrics>(`/api/journeys/${encodeURIComponent(id)}/metrics`);
  const m = metrics.data;
  if (!m) return <Text size="sm" c="dimmed">{metrics.error ? '!' : '…'}</Text>;
  const n = (value: number) => formatNumber(value, i18n.language);
  return (
    <Text size="sm" style={{ whiteSpace: 'nowrap' }} data-testid="journey-figures" data-entered={m.entered} data-active={m.active} data-completed={m.completed}>
      {t('journeys.list.figures', { entered: n(m.entered), active: n(m.active), completed: n(m.completed) })}
    </Text>
  );
}

type Filter = 'current' | JourneyStatus;
const FILTERS: Filter[] = ['current', 'live', 'draft', 'paused', 'archived'];

export default function JourneysListPage() {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const allowed = can('journeys:read');
  const writer = can('journeys:write');
  const journeys = useApi<JourneyOut[]>(allowed ? '/api/journeys' : null);
  const playbooks = useApi<PlaybookOut[]>(allowed ? '/api/journeys/playbooks' : null);
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const [filter, setFilter] = useState<Filter>('current');
  const [installing, setInstalling] = useState<string | null>(null);
  const [installError, setInstallError] = useState<{ key: string; error: Error } | null>(null);
  const [creating, setCreating] = useState(false);

  const installedCount = useMemo(() => {
    const counts = new Map<string, number>();
    for (const journey of journeys.data ?? []) if (journey.playbook) counts.set(journey.playbook, (counts.get(journey.playbook) ?? 0) + 1);
    return counts;
  }, [journeys.data]);

  async function install(book: PlaybookOut) {
    setInstalling(book.key);
    setInstallError(null);
    const names = new Set((journeys.data ?? []).map((j) => j.name));
    let n = 1;
    const nameFor = () => (n === 1 ? book.name : `${book.name} (${n})`);
    while (names.has(nameFor())) n += 1;
    try {
      for (let attempt = 0; ; attempt += 1) {
        try {
          const out = await apiFetch<JourneyOut>(`/api/journeys/playbooks/${encodeURIComponent(book.key)}/install`, {
            method: 'POST',
            body: n === 1 ? {} : { name: nameFor() },
          });
          navigate(`/journeys/${encodeURIComponent(out.id)}`);
          return;
        } catch (error) {
          // Someone took the name meanwhile: the next number.
          if (error instanceof ApiError && error.status === 409 && attempt < 5) {
            n += 1;
            continue;
          }
          throw error;
        }
      }
    } catch (error) {
      setInstallError({ key: book.key, error: error instanceof Error ? error : new Error(String(error)) });
      setInstalling(null);
    }
  }

  if (!allowed) {
    return (
      <Stack gap="md">
        <Title order={1} size="h2">
          {t('journeys.title')}
        </Title>
        <Empty>{t('common.noPermission')}</Empty>
      </Stack>
    );
  }

  const row = (journey: JourneyOut) => ({
    link: (
      <Anchor component={Link} to={`/journeys/${encodeURIComponent(journey.id)}`} fw={600} data-testid="journey-link" style={{ overflowWrap: 'anywhere' }}>
        {journey.name}
      </Anchor>
    ),
    status: <StatusBadge group="journeys.status" status={journey.status} />,
    version: journey.version > 0 ? t('journeys.versionN', { version: journey.version }) : t('journeys.list.notPublished'),
  });

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <Stack gap={2}>
          <Title order={1} size="h2">
            {t('journeys.title')}
          </Title>
          <Text size="sm" c="dimmed">
            {t('journeys.list.intro')}
          </Text>
        </Stack>
        {writer && (
          <Button onClick={() => setCreating(true)} data-testid="journey-new">
            {t('journeys.list.new')}
          </Button>
        )}
      </Group>

      <Panel
        title={t('journeys.list.title')}
        testId="journeys-list"
        actions={
          phone ? (
            <NativeSelect
              size="xs"
              label={t('journeys.list.filter')}
              value={filter}
              onChange={(event) => setFilter(event.currentTarget.value as Filter)}
              data={FILTERS.map((f) => ({ value: f, label: f === 'current' ? t('journeys.list.current') : t(`journeys.status.${f}`) }))}
            />
          ) : (
            <SegmentedControl
              size="xs"
              value={filter}
              onChange={(value) => setFilter(value as Filter)}
              data={FILTERS.map((f) => ({ value: f, label: f === 'current' ? t('journeys.list.current') : t(`journeys.status.${f}`) }))}
              aria-label={t('journeys.list.filter')}
            />
          )
        }
      >
        <ApiView state={journeys} isEmpty={(data) => data.length === 0} empty={t('journeys.list.none')}>
          {(data) => {
            const shown = data.filter((j) => (filter === 'current' ? j.status !== 'archived' : j.status === filter));
            if (!shown.length) return <Empty>{t('journeys.list.noneFiltered')}</Empty>;
            return phone ? (
              <Stack gap="xs">
                {shown.map((journey) => {
                  const r = row(journey);
                  return (
                    <Paper key={journey.id} withBorder p="sm" radius="md" data-testid="journey-row" data-journey-id={journey.id} data-status={journey.status} data-playbook={journey.playbook ?? ''}>
                      {r.link}
                      <Group gap="xs" mt={4}>
                        {r.status}
                        <Text size="xs" c="dimmed">
                          {r.version}
                        </Text>
                      </Group>
                      <Group justify="space-between" mt={4} gap="xs">
                        <JourneyFigures id={journey.id} />
                        <Text size="xs" c="dimmed">
                          {formatDateTime(journey.updated_at, i18n.language)}
                        </Text>
                      </Group>
                    </Paper>
                  );
                })}
              </Stack>
            ) : (
              <Table.ScrollContainer minWidth={700}>
                <Table verticalSpacing="sm" highlightOnHover>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>{t('journeys.list.name')}</Table.Th>
                      <Table.Th>{t('journeys.list.status')}</Table.Th>
                      <Table.Th>{t('journeys.list.people')}</Table.Th>
                      <Table.Th>{t('journeys.list.updated')}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {shown.map((journey) => {
                      const r = row(journey);
                      return (
                        <Table.Tr key={journey.id} data-testid="journey-row" data-journey-id={journey.id} data-status={journey.status} data-playbook={journey.playbook ?? ''}>
                          <Table.Td maw={360}>
                            {r.link}
                            {journey.description && (
                              <Text size="xs" c="dimmed" lineClamp={1}>
                                {playbookDescription(journey.description, i18n.language)}
                              </Text>
                            )}
                          </Table.Td>
                          <Table.Td>
                            <Stack gap={2} align="flex-start">
                              {r.status}
                              <Text size="xs" c="dimmed">
                                {r.version}
                              </Text>
                            </Stack>
                          </Table.Td>
                          <Table.Td>
                            <JourneyFigures id={journey.id} />
                          </Table.Td>
                          <Table.Td style={{ whiteSpace: 'nowrap' }}>
                            <Text size="sm">{formatDateTime(journey.updated_at, i18n.language)}</Text>
                          </Table.Td>
                        </Table.Tr>
                      );
                    })}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            );
          }}
        </ApiView>
      </Panel>

      <Panel title={t('journeys.gallery.title')} testId="playbook-gallery">
        <Text size="sm" c="dimmed" mb="sm">
          {writer ? t('journeys.gallery.intro') : t('journeys.gallery.introReadOnly')}
        </Text>
        <ApiView state={playbooks} isEmpty={(data) => data.length === 0} empty={t('journeys.gallery.none')}>
          {(data) => (
            <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="sm">
              {data.map((book) => {
                const count = installedCount.get(book.key) ?? 0;
                return (
                  <Card key={book.key} withBorder radius="md" padding="sm" data-testid="playbook-card" data-key={book.key}>
                    <Stack gap={6} h="100%">
                      <Text fw={700} style={{ overflowWrap: 'anywhere' }}>
                        {playbookName(book.name, i18n.language)}
                      </Text>
                      <Text size="sm" c="dimmed" style={{ flex: 1 }}>
                        {playbookDescription(book.description, i18n.language)}
                      </Text>
                      <Group gap={4}>
                        <Badge variant="light" color="teal" tt="none" leftSection={<KindIcon kind="entry" size={10} />}>
                          {t(`journeys.entryType.${book.entry}`)}
                        </Badge>
                        <Badge variant="light" color="gray" tt="none">
                          {t('journeys.gallery.steps', { count: book.nodes })}
                        </Badge>
                        {(book.channels ?? []).map((kind) => (
                          <ChannelBadge key={kind} kind={kind} data-testid="playbook-channel" />
                        ))}
                      </Group>
                      {installError?.key === book.key && <ErrorNotice error={installError.error} />}
                      <Group justify="space-between" gap="xs" mt={4}>
                        <Text size="xs" c="dimmed">
                          {count ? t('journeys.gallery.installed', { count }) : ' '}
                        </Text>
                        {writer && (
                          <Button
                            size="xs"
                            onClick={() => void install(book)}
                            loading={installing === book.key}
                            disabled={installing !== null && installing !== book.key}
                            data-testid="playbook-install"
                            aria-label={t('journeys.gallery.installLabel', { name: playbookName(book.name, i18n.language) })}
                          >
                            {t('journeys.gallery.install')}
                          </Button>
                        )}
                      </Group>
                    </Stack>
                  </Card>
                );
              })}
            </SimpleGrid>
          )}
        </ApiView>
      </Panel>

      <NewJourneyModal opened={creating} onClose={() => setCreating(false)} taken={new Set((journeys.data ?? []).map((j) => j.name))} />
    </Stack>
  );
}

function NewJourneyModal({ opened, onClose, taken }: { opened: boolean; onClose: () => void; taken: Set<string> }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [event, setEvent] = useState('');
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const { can } = useAuth();
  const vocabulary = useApi<{ events: { name: string }[] }>(opened && can('segments:read') ? '/api/segments/vocabulary' : null);
  const suggestions = [...new Set([...(vocabulary.data?.events.map((e) => e.name) ?? []), ...COMMON_EVENTS])];
  const clash = taken.has(name.trim());

  async function create(e: FormEvent) {
    e.preventDefault();
    if (!name.trim() || !event.trim() || clash) return;
    setSaving(true);
    setError(null);
    try {
      const out = await apiFetch<JourneyOut>('/api/journeys', {
        method: 'POST',
        body: {
          name: name.trim(),
          description: '',
          definition: {
            entry: { type: 'event', event: event.trim() },
            start: 'end',
            nodes: [{ id: 'end', type: 'exit', label: t('journeys.list.newEnd') }],
          },
        },
      });
      navigate(`/journeys/${encodeURIComponent(out.id)}`);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
      setSaving(false);
    }
  }

  return (
    <Modal opened={opened} onClose={onClose} title={t('journeys.list.newTitle')} centered>
      <form onSubmit={create}>
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            {t('journeys.list.newIntro')}
          </Text>
          <TextInput
            label={t('journeys.builder.name')}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            required
            maxLength={200}
            error={clash ? t('journeys.list.nameTaken') : error instanceof ApiError && error.status === 409 ? error.message : undefined}
            data-testid="new-journey-name"
            data-autofocus
          />
          <EventInput label={t('journeys.entry.event')} value={event} onChange={setEvent} suggestions={suggestions} required testId="new-journey-event" />
          {error && !(error instanceof ApiError && error.status === 409) && <ErrorNotice error={error} />}
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={onClose}>
              {t('journeys.confirm.cancel')}
            </Button>
            <Button type="submit" loading={saving} disabled={!name.trim() || !event.trim() || clash} data-testid="new-journey-create">
              {t('journeys.list.create')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
