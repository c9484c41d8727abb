import {
  Alert,
  Anchor,
  Button,
  Grid,
  Group,
  JsonInput,
  List,
  Loader,
  SegmentedControl,
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
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { ApiError, apiFetch, type Json, type Segment, type SegmentPreview } from '../api';
import { useAuth } from '../auth';
import { SegmentBuilder, useBuilderOptions } from '../components/SegmentBuilder';
import { ApiView, Empty, ErrorNotice, Panel } from '../components/states';
import { formatNumber } from '../format';
import {
  buildCondition,
  DEFAULT_VOCABULARY,
  failingKey,
  newGroup,
  newRule,
  treeFromCondition,
  type Group as Tree,
  type Vocabulary,
} from '../segments';
import { useApi } from '../useApi';

type Mode = 'visual' | 'json';

/** The starting tree of a new segment: `?rfm=Champions` or `?stage=at_risk` from the insights page. */
function presetTree(params: URLSearchParams): Tree {
  const rfm = params.get('rfm');
  const stage = params.get('stage');
  if (rfm) return newGroup('all', [{ ...newRule('rfm'), name: rfm }]);
  if (stage) return newGroup('all', [{ ...newRule('lifecycle'), name: stage }]);
  return newGroup('all', [newRule('computed')]);
}

/** `/segments/new` and `/segments/:id/edit`: the editor, once the segment (if any) is loaded. */
export default function SegmentEditorPage() {
  const { t } = useTranslation();
  const { id } = useParams();
  const { can } = useAuth();
  const allowed = can('segments:write');
  const segment = useApi<Segment>(allowed && id ? `/api/segments/${encodeURIComponent(id)}` : null);
  const vocabulary = useApi<Vocabulary>(allowed ? '/api/segments/vocabulary' : null);
  const title = id ? t('segments.editTitle') : t('segments.newTitle');
  if (!allowed) {
    return (
      <Stack gap="md">
        <Title order={1} size="h2">
          {title}
        </Title>
        <Empty>{t('common.noPermission')}</Empty>
      </Stack>
    );
  }
  // The builder waits for the vocabulary briefly; without it, the defaults do.
  if (vocabulary.loading) return <ApiView state={vocabulary}>{() => null}</ApiView>;
  const words = vocabulary.data ?? DEFAULT_VOCABULARY;
  if (!id) return <SegmentEditor key="new" vocabulary={words} />;
  return (
    <ApiView state={segment}>{(data) => <SegmentEditor key={data.id} vocabulary={words} segment={data} />}</ApiView>
  );
}

type PreviewState =
  | { status: 'idle' }
  | { status: 'loading'; key: string }
  | { status: 'done'; key: string; data: SegmentPreview }
  | { status: 'error'; key: string; error: Error };

function SegmentEditor({ vocabulary, segment }: { vocabulary: Vocabulary; segment?: Segment }) {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const loaded = useMemo(() => (segment ? treeFromCondition(segment.condition, vocabulary) : null), [segment, vocabulary]);
  const [tree, setTree] = useState<Tree>(() => loaded ?? presetTree(params));
  // Conditions the builder cannot show (since/until windows, deep nesting) open as JSON.
  const [mode, setMode] = useState<Mode>(segment && !loaded ? 'json' : 'visual');
  const [jsonText, setJsonText] = useState(() => (segment ? JSON.stringify(segment.condition, null, 2) : ''));
  const [modeError, setModeError] = useState<string | null>(null);
  const [name, setName] = useState(segment?.name ?? '');
  const [description, setDescription] = useState(segment?.description ?? '');
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<Error | null>(null);
  const [preview, setPreview] = useState<PreviewState>({ status: 'idle' });

  const { purposes, segments: others } = useBuilderOptions(vocabulary, segment?.id);

  const built = useMemo(() => buildCondition(tree, vocabulary), [tree, vocabulary]);
  const parsedJson = useMemo((): { condition: Record<string, Json> | null; error: string | null } => {
    if (mode !== 'json') return { condition: null, error: null };
    try {
      const value = JSON.parse(jsonText) as Json;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return { condition: null, error: t('segments.jsonNotObject') };
      }
      return { condition: value, error: null };
    } catch (error) {
      return { condition: null, error: error instanceof Error ? error.message : String(error) };
    }
  }, [mode, jsonText, t]);
  const condition = mode === 'json' ? parsedJson.condition : built.condition;
  const problems = built.problems;
  const key = condition ? JSON.stringify(condition) : '';
  const [debouncedKey] = useDebouncedValue(key, 500);

  // Live preview: half a second after the last valid change, ask the server who it selects.
  useEffect(() => {
    if (!debouncedKey) return;
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
  }, [debouncedKey]);

  const current = preview.status !== 'idle' && preview.key === key;
  const pending = !!key && (!current || preview.status === 'loading');
  const failing =
    mode === 'visual' && current && preview.status === 'error' && preview.error instanceof ApiError
      ? failingKey(preview.error.message, built.paths)
      : null;

  function switchMode(next: Mode) {
    setModeError(null);
    if (next === mode) return;
    if (next === 'json') {
      setJsonText(JSON.stringify(built.condition ?? {}, null, 2));
      setMode('json');
      return;
    }
    const tree = parsedJson.condition ? treeFromCondition(parsedJson.condition, vocabulary) : null;
    if (!tree) {
      setModeError(parsedJson.error ?? t('segments.jsonNotVisual'));
      return;
    }
    setTree(tree);
    setMode('visual');
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!condition || !name.trim()) return;
    setSaving(true);
    setSaveError(null);
    try {
      const body = { name: name.trim(), description: description.trim(), condition };
      const saved = segment
        ? await apiFetch<Segment>(`/api/segments/${encodeURIComponent(segment.id)}`, { method: 'PUT', body })
        : await apiFetch<Segment>('/api/segments', { method: 'POST', body });
      navigate(`/segments/${encodeURIComponent(saved.id)}`);
    } catch (error) {
      setSaveError(error instanceof Error ? error : new Error(String(error)));
      setSaving(false);
    }
  }

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={1} size="h2" style={{ overflowWrap: 'anywhere' }}>
          {segment ? t('segments.editNamed', { name: segment.name }) : t('segments.newTitle')}
        </Title>
        <Anchor component={Link} to={segment ? `/segments/${encodeURIComponent(segment.id)}` : '/segments'} size="sm">
          {segment ? t('segments.backToSegment') : t('segments.backToList')}
        </Anchor>
      </Group>
      <Grid gutter="md">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Panel
            title={t('segments.conditions')}
            testId="segment-builder"
            actions={
              <SegmentedControl
                size="xs"
                value={mode}
                onChange={(value) => switchMode(value as Mode)}
                data={[
                  { value: 'visual', label: t('segments.mode.visual') },
                  { value: 'json', label: t('segments.mode.json') },
                ]}
                aria-label={t('segments.mode.label')}
                data-testid="segment-mode"
              />
            }
          >
            {modeError && (
              <Alert color="yellow" mb="sm" role="alert" data-testid="segment-mode-error">
                {modeError}
              </Alert>
            )}
            {mode === 'visual' ? (
              <SegmentBuilder
                root={tree}
                onChange={setTree}
                problems={problems}
                failing={failing}
                vocabulary={vocabulary}
                purposes={purposes}
                segments={others}
              />
            ) : (
              <JsonInput
                label={t('segments.json')}
                description={t('segments.jsonHint')}
                value={jsonText}
                onChange={setJsonText}
                error={parsedJson.error}
                autosize
                minRows={10}
                maxRows={30}
                formatOnBlur
                spellCheck={false}
                data-testid="segment-json"
              />
            )}
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
                    {segment ? t('segments.saveVersion') : t('segments.save')}
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
