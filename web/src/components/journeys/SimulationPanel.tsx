/** Simulate the journey for a test profile, and list the steps the run would take. */
import {
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Loader,
  NativeSelect,
  Paper,
  Stack,
  Text,
  Textarea,
  TextInput,
  Timeline,
  UnstyledButton,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { apiFetch, withQuery, type Json, type SearchPage } from '../../api';
import type { SimulationOut } from '../../pages/journeys/types';
import { ErrorNotice } from '../states';
import { DurationInput, EventInput } from './fields';
import type { JsonObject } from './graph';

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Monospace, with the Thai font for Thai text in JSON. */
export const MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Noto Sans Thai', monospace";

export const STATUS_COLORS: Record<string, string> = {
  completed: 'green',
  exited: 'blue',
  held_out: 'grape',
  failed: 'red',
  waiting: 'yellow',
  active: 'blue',
};

/** The text of a rendered message to show: LINE's first text, or an e-mail's subject, or SMS. */
function previewText(preview: Record<string, Json>): string {
  for (const value of Object.values(preview)) {
    if (!isObject(value)) continue;
    if (Array.isArray(value.messages)) {
      const first = value.messages.find((m) => isObject(m) && typeof m.text === 'string');
      if (isObject(first) && typeof first.text === 'string') return first.text;
    }
    if (typeof value.subject === 'string') return value.subject;
    if (typeof value.text === 'string') return value.text;
    if (typeof value.error === 'string') return value.error;
  }
  return '';
}

export function SimulationPanel({
  journeyId,
  version,
  entry,
  dirty,
  canSearch,
  events,
  nodeName,
  templateName,
  onResult,
}: {
  journeyId: string;
  /** the version now published, 0 if none */
  version: number;
  entry: Json | undefined;
  dirty: boolean;
  canSearch: boolean;
  events: string[];
  nodeName: (id: string) => string;
  /** a template's name from its id (the simulation answers ids) */
  templateName: (idOrName: string) => string;
  onResult: (result: SimulationOut | null) => void;
}) {
  const { t } = useTranslation();
  const [query, setQuery] = useState('');
  const [debounced] = useDebouncedValue(query.trim(), 300);
  const [found, setFound] = useState<SearchPage | null>(null);
  const [searchError, setSearchError] = useState<Error | null>(null);
  const [profile, setProfile] = useState<{ id: string; name: string } | null>(null);
  const [properties, setProperties] = useState('');
  const [laterEvent, setLaterEvent] = useState('');
  const [laterAfter, setLaterAfter] = useState('30m');
  const [which, setWhich] = useState('draft');
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [result, setResult] = useState<SimulationOut | null>(null);
  const eventEntry = isObject(entry) && entry.type === 'event' && typeof entry.event === 'string' ? entry.event : null;

  useEffect(() => {
    if (!canSearch || debounced.length < 1) {
      setFound(null);
      return;
    }
    const controller = new AbortController();
    apiFetch<SearchPage>(withQuery('/api/profiles', { q: debounced, limit: 8 }), { signal: controller.signal }).then(
      (page) => {
        if (!controller.signal.aborted) {
          setFound(page);
          setSearchError(null);
        }
      },
      (e: unknown) => {
        if (!controller.signal.aborted) setSearchError(e instanceof Error ? e : new Error(String(e)));
      },
    );
    return () => controller.abort();
  }, [debounced, canSearch]);

  let propertiesError: string | null = null;
  let parsedProperties: JsonObject = {};
  if (properties.trim()) {
    try {
      const parsed: unknown = JSON.parse(properties);
      if (!isObject(parsed)) throw new Error('not an object');
      parsedProperties = parsed;
    } catch {
      propertiesError = t('journeys.sim.propertiesInvalid');
    }
  }

  async function run(event: FormEvent) {
    event.preventDefault();
    if (propertiesError) return;
    setRunning(true);
    setError(null);
    const body: Record<string, unknown> = {};
    if (profile) body.profile_id = profile.id;
    if (eventEntry && properties.trim()) body.trigger = { event: eventEntry, properties: parsedProperties };
    if (laterEvent.trim()) body.events = [{ after: laterAfter.trim() || '30m', event: laterEvent.trim() }];
    if (which !== 'draft') body.version = Number(which);
    try {
      const answer = await apiFetch<SimulationOut>(`/api/journeys/${encodeURIComponent(journeyId)}/simulate`, { method: 'POST', body });
      setResult(answer);
      onResult(answer);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
      setResult(null);
      onResult(null);
    } finally {
      setRunning(false);
    }
  }

  return (
    <Stack gap="sm" data-testid="simulation">
      <Text size="sm" c="dimmed">
        {t('journeys.sim.intro')}
      </Text>
      <form onSubmit={run}>
        <Stack gap="sm">
          {canSearch ? (
            <Stack gap={4}>
              <TextInput
                label={t('journeys.sim.profile')}
                description={profile ? undefined : t('journeys.sim.profileHint')}
                placeholder={t('journeys.sim.searchPlaceholder')}
                value={query}
                onChange={(e) => setQuery(e.currentTarget.value)}
                data-testid="sim-profile-search"
                rightSection={debounced && !found && !searchError ? <Loader size="xs" /> : null}
              />
              {searchError && <ErrorNotice error={searchError} />}
              {found && !profile && (
                <Paper withBorder p={4} radius="sm" mah={220} style={{ overflowY: 'auto' }}>
                  {found.items.length === 0 ? (
                    <Text size="sm" c="dimmed" p={6} data-testid="sim-profile-none">
                      {t('journeys.sim.noProfiles')}
                    </Text>
                  ) : (
                    found.items.map((item) => (
                      <UnstyledButton
                        key={item.id}
                        onClick={() => setProfile({ id: item.id, name: item.display_name || item.id })}
                        p={6}
                        w="100%"
                        style={{ borderRadius: 4, display: 'block' }}
                        data-testid="sim-profile-option"
                        data-profile-id={item.id}
                      >
                        <Text size="sm">{item.display_name || t('journeys.sim.unnamed')}</Text>
                        <Text size="xs" c="dimmed">
                          {item.id}
                        </Text>
                      </UnstyledButton>
                    ))
                  )}
                </Paper>
              )}
              {profile && (
                <Group gap="xs" data-testid="sim-profile-chosen" data-profile-id={profile.id}>
                  <Badge variant="light" tt="none" size="lg">
                    {profile.name}
                  </Badge>
                  <Anchor component="button" type="button" size="sm" onClick={() => setProfile(null)}>
                    {t('journeys.sim.change')}
                  </Anchor>
                </Group>
              )}
            </Stack>
          ) : (
            <Text size="sm" c="dimmed">
              {t('journeys.sim.synthetic')}
            </Text>
          )}
          {eventEntry && (
            <Textarea
              label={t('journeys.sim.properties', { event: eventEntry })}
              description={t('journeys.sim.propertiesHint')}
              placeholder='{"cart_id": "C-1", "name": "Vitamin C serum", "price": 1290}'
              value={properties}
              onChange={(e) => setProperties(e.currentTarget.value)}
              error={propertiesError}
              autosize
              minRows={2}
              styles={{ input: { fontFamily: MONO, fontSize: 12 } }}
            />
          )}
          <Group gap="xs" align="flex-start" grow>
            <EventInput label={t('journeys.sim.laterEvent')} value={laterEvent} onChange={setLaterEvent} suggestions={events} testId="sim-later-event" />
            <DurationInput label={t('journeys.sim.after')} value={laterAfter} onChange={setLaterAfter} />
          </Group>
          {version > 0 && (
            <NativeSelect
              label={t('journeys.sim.version')}
              value={which}
              onChange={(e) => setWhich(e.currentTarget.value)}
              data={[
                { value: 'draft', label: t('journeys.sim.draft') },
                ...Array.from({ length: version }, (_, i) => version - i).map((v) => ({ value: String(v), label: t('journeys.sim.versionN', { version: v }) })),
              ]}
            />
          )}
          {dirty && which === 'draft' && (
            <Text size="xs" c="orange.8">
              {t('journeys.sim.unsaved')}
            </Text>
          )}
          <Group gap="xs">
            <Button type="submit" loading={running} disabled={!!propertiesError} data-testid="sim-run">
              {t('journeys.sim.run')}
            </Button>
            {result && (
              <Button
                variant="subtle"
                onClick={() => {
                  setResult(null);
                  onResult(null);
                }}
                data-testid="sim-clear"
              >
                {t('journeys.sim.clear')}
              </Button>
            )}
          </Group>
        </Stack>
      </form>
      {error && <ErrorNotice error={error} />}
      {result && (
        <Stack gap="sm" data-testid="sim-result" data-status={result.status}>
          <Group gap="xs">
            <Badge color={STATUS_COLORS[result.status] ?? 'gray'} tt="none" size="lg">
              {t(`journeys.runStatus.${result.status}`)}
            </Badge>
            {result.reason && (
              <Text size="sm" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
                {result.reason}
              </Text>
            )}
          </Group>
          {result.converted_at && <Text size="sm">{t('journeys.sim.converted')}</Text>}
          {result.path.length === 0 ? (
            <Text size="sm" c="dimmed">
              {t('journeys.sim.noSteps')}
            </Text>
          ) : (
            <Timeline bulletSize={14} lineWidth={2} active={result.path.length - 1} color="teal">
              {result.path.map((step, index) => (
                <Timeline.Item key={index} title={nodeName(step.node_id)} data-testid="sim-step" data-node-id={step.node_id} data-outcome={step.outcome}>
                  <Text size="xs" c="dimmed">
                    {step.offset} · {t(`journeys.outcome.${step.outcome}`, { defaultValue: step.outcome })}
                  </Text>
                  {step.detail && (
                    <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
                      {step.detail}
                    </Text>
                  )}
                </Timeline.Item>
              ))}
            </Timeline>
          )}
          {result.messages.length > 0 && (
            <Stack gap={4}>
              <Text size="sm" fw={600}>
                {t('journeys.sim.messages')}
              </Text>
              {result.messages.map((message, index) => (
                <Paper key={index} withBorder p="xs" radius="sm" data-testid="sim-message">
                  <Text size="xs" c="dimmed">
                    {message.offset} · {nodeName(message.node_id)} · <Code>{templateName(message.template)}</Code> · {message.channels.join(' → ')}
                  </Text>
                  {previewText(message.preview) && (
                    <Text size="sm" mt={4} style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }} lineClamp={5}>
                      {previewText(message.preview)}
                    </Text>
                  )}
                </Paper>
              ))}
            </Stack>
          )}
          {(result.coupons.length > 0 || result.tasks.length > 0 || result.events.length > 0) && (
            <Text size="xs" c="dimmed">
              {[
                result.coupons.length ? t('journeys.sim.coupons', { codes: result.coupons.join(', ') }) : '',
                result.tasks.length ? t('journeys.sim.tasks', { titles: result.tasks.join(', ') }) : '',
                result.events.length ? t('journeys.sim.events', { count: result.events.length }) : '',
              ]
                .filter(Boolean)
                .join(' · ')}
            </Text>
          )}
          {profile && (
            <Anchor component={Link} to={`/customers/${encodeURIComponent(profile.id)}`} size="sm">
              {t('journeys.sim.openProfile')}
            </Anchor>
          )}
        </Stack>
      )}
    </Stack>
  );
}
