import {
  Accordion,
  Alert,
  Anchor,
  Badge,
  Box,
  Button,
  CopyButton,
  Grid,
  Group,
  SegmentedControl,
  Stack,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
  Tooltip,
  UnstyledButton,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { ApiError, apiFetch, type Json, type Profile360, type SearchPage } from '../../api';
import { useAuth } from '../../auth';
import { BodyEditor } from '../../components/messaging/BodyEditor';
import {
  buildBodies,
  contentOf,
  draftFor,
  fieldOf,
  isBlank,
  parseBodyError,
  parseKindError,
  type BodyDraft,
  type DraftBodies,
  type FieldProblem,
} from '../../components/messaging/drafts';
import { pickSample, ProfilePicker, type PickedProfile } from '../../components/messaging/ProfilePicker';
import { MONO_FONT } from '../../components/messaging/previews';
import { TemplatePreview, type PreviewState } from '../../components/messaging/TemplatePreview';
import { ApiView, Empty, ErrorNotice, Panel } from '../../components/states';
import { useApi } from '../../useApi';
import { KINDS, LANGUAGES, type Category, type Channel, type JsonObject, type Language, type PreviewAnswer, type Template } from './types';

export default function TemplateEditorPage() {
  const { name } = useParams();
  const { t } = useTranslation();
  const { can } = useAuth();
  const allowed = can('messaging:read');
  const template = useApi<Template>(allowed && name ? `/api/messaging/templates/${encodeURIComponent(name)}` : null);

  if (!allowed) {
    return (
      <Stack gap="md">
        <Title order={1} size="h2">
          {t('templates.title')}
        </Title>
        <Empty>{t('common.noPermission')}</Empty>
      </Stack>
    );
  }
  if (!name) return <TemplateEditor key="new" initial={null} />;
  return (
    <ApiView state={template}>{(data) => <TemplateEditor key={`${data.id}:${data.updated_at}`} initial={data} />}</ApiView>
  );
}

function initialDrafts(template: Template | null): DraftBodies {
  if (!template) return {};
  const drafts: DraftBodies = {};
  for (const [kind, languages] of Object.entries(template.bodies)) {
    if (!languages) continue;
    for (const language of LANGUAGES) {
      const content = languages[language];
      if (content) drafts[kind] = { ...drafts[kind], [language]: draftFor(kind, content) };
    }
  }
  return drafts;
}

function firstKind(drafts: DraftBodies): string {
  return KINDS.find((kind) => drafts[kind]) ?? Object.keys(drafts)[0] ?? 'line';
}

interface SaveProblems {
  name?: string;
  general?: Error;
  fields: FieldProblem[];
}

function TemplateEditor({ initial }: { initial: Template | null }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const writable = can('messaging:send');
  const [name, setName] = useState(initial?.name ?? '');
  const [category, setCategory] = useState<Category>(initial?.category ?? 'marketing');
  const [drafts, setDrafts] = useState<DraftBodies>(() => initialDrafts(initial));
  const [kind, setKind] = useState<string>(() => firstKind(initialDrafts(initial)));
  const [language, setLanguage] = useState<Language>('th');
  const [profile, setProfile] = useState<PickedProfile | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(() => !!(location.state as { saved?: boolean } | null)?.saved);
  const [problems, setProblems] = useState<SaveProblems>({ fields: [] });
  const [preview, setPreview] = useState<PreviewState>({ status: 'idle' });
  const [last, setLast] = useState<PreviewAnswer | null>(null);
  // What a send would pass along: a journey's triggering event, a coupon code.
  const [eventJson, setEventJson] = useState('');
  const [coupon, setCoupon] = useState('');

  const channels = useApi<Channel[]>('/api/messaging/channels');
  const mayReadProfiles = can('profiles:read');
  const sample = useApi<SearchPage>(mayReadProfiles ? '/api/profiles?limit=25' : null);
  useEffect(() => {
    if (!profile && sample.data) setProfile(pickSample(sample.data.items, t('templates.preview.unnamed')));
  }, [profile, sample.data, t]);

  const draft: BodyDraft | undefined = drafts[kind]?.[language];
  const kindDrafts = drafts[kind];
  const otherLanguage: Language = language === 'th' ? 'en' : 'th';

  // What the preview renders: this kind's bodies only, so a problem elsewhere does not hide it.
  const built = useMemo(() => (draft ? contentOf(draft) : null), [draft]);
  const previewBodies = useMemo(() => {
    if (!kindDrafts) return null;
    const bodies: Partial<Record<Language, JsonObject>> = {};
    for (const lang of LANGUAGES) {
      const d = kindDrafts[lang];
      if (!d) continue;
      const out = contentOf(d);
      if (out.problems.length) return null;
      bodies[lang] = out.content;
    }
    return bodies;
  }, [kindDrafts]);

  let sampleEvent: Json | undefined;
  let eventProblem: string | null = null;
  if (eventJson.trim()) {
    try {
      sampleEvent = JSON.parse(eventJson) as Json;
      if (!sampleEvent || typeof sampleEvent !== 'object' || Array.isArray(sampleEvent)) eventProblem = t('templates.sample.eventObject');
    } catch (error) {
      eventProblem = error instanceof Error ? error.message : String(error);
    }
  }

  let blocked: string | null = null;
  if (!mayReadProfiles) blocked = t('templates.preview.noProfiles');
  else if (!draft) blocked = t('templates.preview.noBody');
  else if (built && built.problems.length) blocked = t('templates.preview.fixJson');
  else if (!previewBodies) blocked = t('templates.preview.fixJsonOther', { language: t(`templates.language.${otherLanguage}`) });
  else if (isBlank(draft)) blocked = t('templates.preview.blank');
  else if (!profile) blocked = sample.error ? sample.error.message : t('templates.preview.pickPerson');
  else if (eventProblem) blocked = t('templates.sample.fixEvent');

  const key =
    blocked || !profile || !previewBodies
      ? ''
      : JSON.stringify({
          profile_id: profile.id,
          kind,
          language,
          bodies: { [kind]: previewBodies },
          ...(sampleEvent ? { event: sampleEvent } : {}),
          ...(coupon.trim() ? { coupon_code: coupon.trim() } : {}),
        });
  const [debouncedKey] = useDebouncedValue(key, 500);

  useEffect(() => {
    if (!debouncedKey) return;
    const controller = new AbortController();
    setPreview({ status: 'loading', key: debouncedKey });
    apiFetch<PreviewAnswer>('/api/messaging/templates/preview', {
      method: 'POST',
      body: JSON.parse(debouncedKey) as Json,
      signal: controller.signal,
    }).then(
      (data) => {
        if (controller.signal.aborted) return;
        setPreview({ status: 'done', key: debouncedKey, data });
        setLast(data);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setPreview({ status: 'error', key: debouncedKey, error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => controller.abort();
  }, [debouncedKey]);

  const current = !!key && preview.status !== 'idle' && preview.key === key;
  const pending = !!key && (!current || preview.status === 'loading');
  const lastForView = last && last.kind === kind && (last.language === language || !kindDrafts?.[last.language as Language]) ? last : null;

  // Errors on fields: JSON that does not parse, what the live preview's server said, what a save said.
  const fieldErrors: Record<string, string> = {};
  if (draft && built) for (const p of built.problems) fieldErrors[p.field] = p.message;
  if (draft && current && preview.status === 'error' && preview.error instanceof ApiError) {
    const where = parseBodyError(preview.error.message);
    if (where && where.kind === kind && where.language === language) fieldErrors[fieldOf(draft, where.path)] = where.message;
  }
  for (const p of problems.fields) {
    if (draft && p.kind === kind && p.language === language && !(p.field in fieldErrors)) fieldErrors[p.field] = p.message;
  }
  const bodyProblem = fieldErrors[''];

  function change(next: BodyDraft) {
    setSaved(false);
    setDrafts((all) => ({ ...all, [kind]: { ...all[kind], [language]: next } }));
    // A save's complaint about this body no longer applies once it changes.
    setProblems((p) => ({ ...p, fields: p.fields.filter((f) => !(f.kind === kind && f.language === language)) }));
  }

  function addBody(copyFrom?: Language) {
    const source = copyFrom ? drafts[kind]?.[copyFrom] : undefined;
    const next = source ? draftFor(kind, contentOf(source).content) : draftFor(kind);
    setSaved(false);
    setDrafts((all) => ({ ...all, [kind]: { ...all[kind], [language]: next } }));
  }

  function removeBody() {
    setSaved(false);
    setDrafts((all) => {
      const languages = { ...all[kind] };
      delete languages[language];
      const next = { ...all };
      if (Object.keys(languages).length) next[kind] = languages;
      else delete next[kind];
      return next;
    });
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!writable) return;
    const { bodies, problems: found } = buildBodies(drafts);
    // A body left empty would be chosen for its channel and send nothing useful.
    for (const [k, languages] of Object.entries(drafts)) {
      for (const lang of LANGUAGES) {
        const d = languages?.[lang];
        if (d && isBlank(d)) found.push({ kind: k, language: lang, field: '', message: t('templates.editor.emptyBody') });
      }
    }
    const nameProblem = name.trim() ? undefined : t('templates.editor.nameRequired');
    const noBodies = Object.keys(bodies).length === 0;
    if (found.length || nameProblem || noBodies) {
      setProblems({
        name: nameProblem,
        fields: found,
        general: noBodies ? new Error(t('templates.editor.noBodies')) : undefined,
      });
      const first = found[0];
      if (first) {
        setKind(first.kind);
        setLanguage(first.language);
      }
      return;
    }
    setSaving(true);
    setSaved(false);
    setProblems({ fields: [] });
    try {
      const body = { name: name.trim(), category, bodies };
      const answer = initial
        ? await apiFetch<Template>(`/api/messaging/templates/${encodeURIComponent(initial.id)}`, { method: 'PUT', body: body as Json })
        : await apiFetch<Template>('/api/messaging/templates', { method: 'POST', body: body as Json });
      setSaving(false);
      setSaved(true);
      if (!initial || answer.name !== initial.name) {
        navigate(`/templates/${encodeURIComponent(answer.name)}`, { replace: true, state: { saved: true } });
      }
    } catch (error) {
      setSaving(false);
      const err = error instanceof Error ? error : new Error(String(error));
      const message = err.message;
      const where = err instanceof ApiError ? parseBodyError(message) : null;
      if (where) {
        const d = drafts[where.kind]?.[where.language];
        setProblems({ fields: [{ kind: where.kind, language: where.language, field: d ? fieldOf(d, where.path) : '', message: where.message }] });
        setKind(where.kind);
        setLanguage(where.language);
      } else if (err instanceof ApiError && (err.status === 409 || /^name\b/.test(message))) {
        setProblems({ fields: [], name: message });
      } else if (err instanceof ApiError && parseKindError(message)) {
        setProblems({ fields: [], general: err });
      } else {
        setProblems({ fields: [], general: err });
      }
    }
  }

  const hasContent = (k: string) => !!drafts[k] && Object.keys(drafts[k] ?? {}).length > 0;
  const problemIn = (k: string, lang?: Language) => problems.fields.some((p) => p.kind === k && (!lang || p.language === lang));

  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap">
        <Title order={1} size="h2" style={{ overflowWrap: 'anywhere' }}>
          {initial ? initial.name : t('templates.newTitle')}
        </Title>
        <Anchor component={Link} to="/templates" size="sm">
          {t('templates.backToList')}
        </Anchor>
      </Group>
      {!writable && (
        <Alert color="yellow" data-testid="read-only">
          {t('templates.readOnly')}
        </Alert>
      )}
      <form onSubmit={save} noValidate>
        <Grid gutter="md">
          <Grid.Col span={{ base: 12, md: 7 }}>
            <Stack gap="md">
              <Panel title={t('templates.editor.details')}>
                <Group align="flex-start" gap="md" wrap="wrap">
                  <TextInput
                    label={t('templates.name')}
                    description={t('templates.editor.nameHint')}
                    value={name}
                    onChange={(event) => {
                      setName(event.currentTarget.value);
                      setSaved(false);
                      setProblems((p) => ({ ...p, name: undefined }));
                    }}
                    maxLength={100}
                    required
                    readOnly={!writable}
                    error={problems.name}
                    style={{ flex: '1 1 220px' }}
                    data-testid="template-name"
                  />
                  <Box>
                    <Text size="sm" fw={500} mb={4} id="template-category-label">
                      {t('templates.category')}
                    </Text>
                    <SegmentedControl
                      value={category}
                      onChange={(value) => {
                        setCategory(value as Category);
                        setSaved(false);
                      }}
                      disabled={!writable}
                      aria-labelledby="template-category-label"
                      data={[
                        { value: 'marketing', label: t('templates.categories.marketing') },
                        { value: 'transactional', label: t('templates.categories.transactional') },
                      ]}
                      data-testid="template-category"
                    />
                  </Box>
                </Group>
                {category === 'transactional' && (
                  <Text size="xs" c="orange.8" mt="xs">
                    {t('templates.editor.transactionalHint')}
                  </Text>
                )}
              </Panel>
              <Panel title={t('templates.editor.content')} testId="template-content">
                <Tabs value={kind} onChange={(value) => value && setKind(value)} keepMounted={false}>
                  <Tabs.List style={{ flexWrap: 'wrap' }}>
                    {KINDS.map((k) => (
                      <Tabs.Tab
                        key={k}
                        value={k}
                        data-testid={`kind-tab-${k}`}
                        data-has-content={hasContent(k) ? 'true' : 'false'}
                        rightSection={
                          problemIn(k) ? (
                            <Badge size="xs" color="red" circle aria-label={t('templates.editor.hasProblem')}>
                              !
                            </Badge>
                          ) : hasContent(k) ? (
                            <Box w={7} h={7} style={{ borderRadius: '50%', background: 'var(--mantine-color-teal-6)' }} aria-label={t('templates.editor.hasContent')} />
                          ) : undefined
                        }
                      >
                        {t(`templates.kind.${k}`)}
                      </Tabs.Tab>
                    ))}
                  </Tabs.List>
                </Tabs>
                <Stack gap="sm" mt="sm">
                  <Group justify="space-between" wrap="wrap" gap="xs">
                    <Box>
                      <Text size="sm" fw={500} mb={4} id="template-language-label">
                        {t('templates.editor.language')}
                      </Text>
                      <SegmentedControl
                        value={language}
                        onChange={(value) => setLanguage(value as Language)}
                        aria-labelledby="template-language-label"
                        data={LANGUAGES.map((lang) => ({
                          value: lang,
                          label: `${t(`templates.language.${lang}`)}${kindDrafts?.[lang] ? '' : ' ·'}${problemIn(kind, lang) ? ' !' : ''}`,
                        }))}
                        data-testid="template-language"
                      />
                    </Box>
                    {writable && draft && (
                      <Button variant="subtle" color="red" size="xs" onClick={removeBody} data-testid="body-remove">
                        {t('templates.editor.removeBody', { kind: t(`templates.kind.${kind}`), language: t(`templates.language.${language}`) })}
                      </Button>
                    )}
                  </Group>
                  {bodyProblem && (
                    <Text size="sm" c="red" role="alert">
                      {bodyProblem}
                    </Text>
                  )}
                  {draft ? (
                    <BodyEditor kind={kind} draft={draft} errors={fieldErrors} readOnly={!writable} onChange={change} />
                  ) : (
                    <Stack gap="xs" align="flex-start" py="sm">
                      <Text size="sm" c="dimmed">
                        {t('templates.editor.noBodyYet', { kind: t(`templates.kind.${kind}`), language: t(`templates.language.${language}`) })}
                      </Text>
                      {writable && (
                        <Group gap="xs">
                          <Button variant="light" onClick={() => addBody()} data-testid="body-add">
                            {t('templates.editor.addBody', { kind: t(`templates.kind.${kind}`), language: t(`templates.language.${language}`) })}
                          </Button>
                          {kindDrafts?.[otherLanguage] && (
                            <Button variant="subtle" onClick={() => addBody(otherLanguage)} data-testid="body-copy">
                              {t('templates.editor.copyFrom', { language: t(`templates.language.${otherLanguage}`) })}
                            </Button>
                          )}
                        </Group>
                      )}
                    </Stack>
                  )}
                </Stack>
              </Panel>
              {writable && (
                <Group gap="sm" align="center">
                  <Button type="submit" loading={saving} data-testid="template-save">
                    {initial ? t('templates.editor.save') : t('templates.editor.create')}
                  </Button>
                  {saved && (
                    <Text size="sm" c="teal.8" role="status" data-testid="template-saved">
                      {t('templates.editor.saved')}
                    </Text>
                  )}
                </Group>
              )}
              {problems.general && <ErrorNotice error={problems.general} />}
            </Stack>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 5 }}>
            <Box style={{ position: 'sticky', top: 72 }}>
              <Panel title={t('templates.preview.title')} testId="preview-panel">
                <Stack gap="sm">
                  {mayReadProfiles && <ProfilePicker label={t('templates.preview.person')} value={profile} onChange={setProfile} />}
                  <Text size="xs" c="dimmed">
                    {t('templates.preview.hint', { kind: t(`templates.kind.${kind}`), language: t(`templates.language.${language}`) })}
                  </Text>
                  <TemplatePreview
                    kind={kind}
                    state={preview}
                    current={current}
                    pending={pending}
                    blocked={blocked}
                    channels={channels.data}
                    requestedLanguage={language}
                    last={lastForView}
                  />
                  <Accordion variant="contained">
                    <Accordion.Item value="sample">
                      <Accordion.Control data-testid="sample-toggle">{t('templates.sample.title')}</Accordion.Control>
                      <Accordion.Panel>
                        <Stack gap="xs">
                          <Textarea
                            label={t('templates.sample.event')}
                            description={t('templates.sample.eventHint')}
                            placeholder='{"order_id": "SO-1001", "total": 1290.5}'
                            value={eventJson}
                            onChange={(event) => setEventJson(event.currentTarget.value)}
                            autosize
                            minRows={2}
                            error={eventProblem}
                            styles={{ input: { fontFamily: MONO_FONT, fontSize: 13 } }}
                            spellCheck={false}
                            data-testid="sample-event"
                          />
                          <TextInput
                            label={t('templates.sample.coupon')}
                            value={coupon}
                            onChange={(event) => setCoupon(event.currentTarget.value)}
                            maxLength={100}
                            data-testid="sample-coupon"
                          />
                        </Stack>
                      </Accordion.Panel>
                    </Accordion.Item>
                  </Accordion>
                  {profile && <Variables profileId={profile.id} />}
                </Stack>
              </Panel>
            </Box>
          </Grid.Col>
        </Grid>
      </form>
    </Stack>
  );
}

/** The variables a template can use, with the chosen person's values: click to copy. */
function Variables({ profileId }: { profileId: string }) {
  const { t } = useTranslation();
  const person = useApi<Profile360>(`/api/profiles/${encodeURIComponent(profileId)}`);
  const item = (code: string, sample: string) => (
    <CopyButton value={code} key={code}>
      {({ copied, copy }) => (
        <Tooltip label={copied ? t('templates.variables.copied') : t('templates.variables.copy')} withArrow>
          <UnstyledButton onClick={copy} style={{ display: 'block', width: '100%' }} aria-label={t('templates.variables.copyThis', { code })}>
            <Group gap="xs" wrap="nowrap" justify="space-between">
              <Text size="xs" ff={MONO_FONT} c="teal.9" style={{ overflowWrap: 'anywhere' }}>
                {code}
              </Text>
              <Text size="xs" c="dimmed" lineClamp={1} style={{ maxWidth: '45%' }}>
                {sample}
              </Text>
            </Group>
          </UnstyledButton>
        </Tooltip>
      )}
    </CopyButton>
  );
  return (
    <Accordion variant="contained">
      <Accordion.Item value="variables">
        <Accordion.Control data-testid="variables-toggle">{t('templates.variables.title')}</Accordion.Control>
        <Accordion.Panel>
          <ApiView state={person}>
            {(data) => (
              <Stack gap={4}>
                {Object.entries(data.traits)
                  .filter(([, value]) => value === null || typeof value !== 'object')
                  .map(([keyName, value]) => item(`{{ profile.${keyName} }}`, String(value ?? '')))}
                {item('{{ computed.total_spent | baht }}', '')}
                {item('{{ computed.order_count }}', '')}
                {item('{{ coupon_code }}', '')}
                {item('{{ unsubscribe_url }}', '')}
                {item('{{ "2026-12-31" | thai_date }}', '31 ธ.ค. 2569')}
                <Text size="xs" c="dimmed" mt={4}>
                  {t('templates.variables.fallback', { example: '{{ profile.firstName or "ลูกค้า" }}' })}
                </Text>
              </Stack>
            )}
          </ApiView>
        </Accordion.Panel>
      </Accordion.Item>
    </Accordion>
  );
}
