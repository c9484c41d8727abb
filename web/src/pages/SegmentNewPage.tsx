import {
  Accordion,
  Alert,
  Anchor,
  Button,
  Code,
  Grid,
  Group,
  List,
  Loader,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { ApiError, apiFetch, type ConsentPurpose, type Segment, type SegmentPreview } from '../api';
import { useAuth } from '../auth';
import { SegmentBuilder, type PurposeOption } from '../components/SegmentBuilder';
import { Empty, ErrorNotice, Panel } from '../components/states';
import { formatNumber } from '../format';
import { buildCondition, failingIndex, newRule, type Match, type Rule } from '../segments';
import { useApi } from '../useApi';

const FALLBACK_PURPOSES = ['marketing', 'analytics', 'personalisation', 'service'];

type PreviewState =
  | { status: 'idle' }
  | { status: 'loading'; key: string }
  | { status: 'done'; key: string; data: SegmentPreview }
  | { status: 'error'; key: string; error: Error };

export default function SegmentNewPage() {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const [match, setMatch] = useState<Match>('all');
  const [rules, setRules] = useState<Rule[]>(() => [newRule('computed')]);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<Error | null>(null);
  const [preview, setPreview] = useState<PreviewState>({ status: 'idle' });

  const allowed = can('segments:write');
  const purposesState = useApi<ConsentPurpose[]>(allowed && can('consent:read') ? '/api/privacy/purposes' : null);
  const purposes: PurposeOption[] = useMemo(() => {
    const list = purposesState.data;
    if (!list) return FALLBACK_PURPOSES.map((p) => ({ value: p, label: p }));
    return list.map((p) => ({ value: p.name, label: `${i18n.language === 'en' ? p.title_en : p.title_th} (${p.name})` }));
  }, [purposesState.data, i18n.language]);

  const { condition, problems } = useMemo(() => buildCondition(match, rules), [match, rules]);
  const key = condition ? JSON.stringify(condition) : '';
  const [debouncedKey] = useDebouncedValue(key, 500);

  // Live preview: half a second after the last valid change, ask the server who it selects.
  useEffect(() => {
    if (!allowed || !debouncedKey) return;
    const controller = new AbortController();
    setPreview({ status: 'loading', key: debouncedKey });
    apiFetch<SegmentPreview>('/api/segments/preview', {
      method: 'POST',
      body: { condition: JSON.parse(debouncedKey), sample: 10 },
      signal: controller.signal,
    }).then(
      (data) => {
        if (!controller.signal.aborted) setPreview({ status: 'done', key: debouncedKey, data });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setPreview({ status: 'error', key: debouncedKey, error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => controller.abort();
  }, [debouncedKey, allowed]);

  if (!allowed) {
    return (
      <Stack gap="md">
        <Title order={1} size="h2">
          {t('segments.newTitle')}
        </Title>
        <Empty>{t('common.noPermission')}</Empty>
      </Stack>
    );
  }

  const current = preview.status !== 'idle' && preview.key === key;
  const pending = !!key && (!current || preview.status === 'loading');
  const failing =
    current && preview.status === 'error' && preview.error instanceof ApiError ? failingIndex(preview.error.message) : null;

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!condition || !name.trim()) return;
    setSaving(true);
    setSaveError(null);
    try {
      const segment = await apiFetch<Segment>('/api/segments', {
        method: 'POST',
        body: { name: name.trim(), description: description.trim(), condition },
      });
      navigate(`/segments/${encodeURIComponent(segment.id)}`);
    } catch (error) {
      setSaveError(error instanceof Error ? error : new Error(String(error)));
      setSaving(false);
    }
  }

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={1} size="h2">
          {t('segments.newTitle')}
        </Title>
        <Anchor component={Link} to="/segments" size="sm">
          {t('segments.backToList')}
        </Anchor>
      </Group>
      <Grid gutter="md">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Panel title={t('segments.conditions')} testId="segment-builder">
            <SegmentBuilder
              match={match}
              rules={rules}
              problems={problems}
              failing={failing}
              purposes={purposes}
              onMatch={setMatch}
              onRules={setRules}
            />
            <Accordion variant="contained" mt="md">
              <Accordion.Item value="json">
                <Accordion.Control data-testid="segment-json-toggle">{t('segments.json')}</Accordion.Control>
                <Accordion.Panel>
                  <Code block data-testid="segment-json" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                    {condition ? JSON.stringify(condition, null, 2) : t('segments.jsonIncomplete')}
                  </Code>
                </Accordion.Panel>
              </Accordion.Item>
            </Accordion>
          </Panel>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack gap="md">
            <Panel title={t('segments.preview')} testId="segment-preview">
              <Stack gap="xs" aria-live="polite">
                <Group gap="xs" align="baseline">
                  <Text
                    fz={40}
                    fw={700}
                    lh={1}
                    c={current && preview.status === 'done' ? 'teal.8' : 'dimmed'}
                    data-testid="segment-preview-size"
                    data-value={current && preview.status === 'done' ? preview.data.count : undefined}
                  >
                    {current && preview.status === 'done' ? formatNumber(preview.data.count, i18n.language) : '–'}
                  </Text>
                  <Text size="sm" c="dimmed">
                    {t('segments.people')}
                  </Text>
                  {pending && <Loader size="xs" aria-label={t('segments.previewing')} />}
                </Group>
                {!key && <Text size="sm" c="dimmed">{t('segments.previewIncomplete')}</Text>}
                {current && preview.status === 'error' && (
                  <Alert color="red" title={t('segments.previewError')} role="alert" data-testid="segment-preview-error">
                    <Text size="sm" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
                      {preview.error.message}
                    </Text>
                  </Alert>
                )}
                {current && preview.status === 'done' && (
                  <>
                    <Text size="sm" fw={600}>
                      {t('segments.sample')}
                    </Text>
                    {preview.data.sample.length === 0 ? (
                      <Empty>{t('segments.sampleEmpty')}</Empty>
                    ) : (
                      <List size="sm" spacing={2} data-testid="segment-preview-sample">
                        {preview.data.sample.map((member) => (
                          <List.Item key={member.profile_id}>
                            <Anchor component={Link} to={`/customers/${encodeURIComponent(member.profile_id)}`} size="sm">
                              {member.display_name || t('customers.unnamed')}
                            </Anchor>
                          </List.Item>
                        ))}
                      </List>
                    )}
                  </>
                )}
              </Stack>
            </Panel>
            <Panel title={t('segments.saveTitle')}>
              <form onSubmit={save}>
                <Stack gap="sm">
                  <TextInput
                    label={t('segments.name')}
                    value={name}
                    onChange={(event) => setName(event.currentTarget.value)}
                    required
                    maxLength={200}
                    data-testid="segment-name"
                  />
                  <Textarea
                    label={t('segments.description')}
                    value={description}
                    onChange={(event) => setDescription(event.currentTarget.value)}
                    maxLength={2000}
                    autosize
                    minRows={2}
                    data-testid="segment-description"
                  />
                  {saveError && <ErrorNotice error={saveError} />}
                  <Button type="submit" loading={saving} disabled={!condition || !name.trim()} data-testid="segment-save">
                    {t('segments.save')}
                  </Button>
                </Stack>
              </form>
            </Panel>
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
