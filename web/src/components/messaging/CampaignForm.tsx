import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Box,
  Button,
  Checkbox,
  Fieldset,
  Grid,
  Group,
  Modal,
  NumberInput,
  Paper,
  SegmentedControl,
  Select,
  Slider,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { ApiError, apiFetch, type Json, type Segment } from '../../api';
import { useAuth } from '../../auth';
import { formatDateTime, formatNumber } from '../../format';
import type { Campaign, CampaignInput, Category, Channel, Template } from '../../pages/messaging/types';
import { useApi } from '../../useApi';
import { ChannelBadge } from '../badges';
import { ErrorNotice, Panel } from '../states';
import {
  campaignFieldOf,
  evenShares,
  formatMomentLong,
  fromBangkokLocal,
  sharesOf,
  sumShares,
  toBangkokLocal,
  VARIANT_NAME,
  type CampaignField,
} from './campaign';
import { newKey } from './drafts';

interface VariantDraft {
  key: number;
  name: string;
  template: string | null;
  share: number | '';
}

type When = 'draft' | 'now' | 'schedule';

const LETTERS = 'ABCDEFGHIJ';

function kindsOfTemplate(template: Template | undefined): string[] {
  if (!template) return [];
  return Object.keys(template.bodies).filter((k) => Object.keys(template.bodies[k] ?? {}).length);
}

function initialVariants(campaign: Campaign | null): VariantDraft[] {
  if (!campaign) return [{ key: newKey(), name: 'A', template: null, share: 100 }];
  const shares = sharesOf(campaign.variants);
  return campaign.variants.map((v, index) => ({ key: newKey(), name: v.name, template: v.template, share: shares[index] ?? 0 }));
}

function Arrow({ up }: { up: boolean }) {
  return (
    <svg width={14} height={14} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} aria-hidden="true">
      <path d={up ? 'M6 15l6-6 6 6' : 'M6 9l6 6 6-6'} />
    </svg>
  );
}

/** Create a campaign, or change one that is a draft or scheduled; send it now or later. */
export function CampaignForm({ initial, onChanged }: { initial: Campaign | null; onChanged?: () => void }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const writable = can('messaging:send');
  const segmentsAllowed = can('segments:read');
  const segments = useApi<Segment[]>(segmentsAllowed ? '/api/segments' : null);
  const channels = useApi<Channel[]>('/api/messaging/channels');
  const templates = useApi<Template[]>('/api/messaging/templates');

  const [name, setName] = useState(initial?.name ?? '');
  const [segmentId, setSegmentId] = useState<string | null>(initial?.segment_id ?? null);
  const [chosen, setChosen] = useState<string[]>(initial?.channels ?? []);
  const [category, setCategory] = useState<Category>(initial?.category ?? 'marketing');
  const [variants, setVariants] = useState<VariantDraft[]>(() => initialVariants(initial));
  const [control, setControl] = useState<number>(initial?.control_percent ?? 0);
  const [attribution, setAttribution] = useState<number | ''>(initial?.attribution_days ?? 3);
  const [conversion, setConversion] = useState(initial?.conversion_event ?? 'Order Completed');
  const [when, setWhen] = useState<When>(initial?.scheduled_at ? 'schedule' : initial ? 'draft' : 'now');
  const [scheduleLocal, setScheduleLocal] = useState(() => toBangkokLocal(initial?.scheduled_at));
  const [errors, setErrors] = useState<Partial<Record<CampaignField, string>>>({});
  const [general, setGeneral] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<null | 'now' | 'schedule' | 'cancel'>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // A new campaign saved here whose launch then failed: later tries change it, not add another.
  const [createdId, setCreatedId] = useState<string | null>(null);

  const segment = segments.data?.find((s) => s.id === segmentId);
  const templateById = useMemo(() => {
    const map = new Map<string, Template>();
    for (const tpl of templates.data ?? []) {
      map.set(tpl.id, tpl);
      map.set(tpl.name, tpl);
    }
    return map;
  }, [templates.data]);
  const channelByName = useMemo(() => new Map((channels.data ?? []).map((c) => [c.name, c])), [channels.data]);
  const chosenKinds = chosen.map((n) => channelByName.get(n)?.kind).filter((k): k is string => !!k);
  const split = sumShares(variants.map((v) => v.share));
  const remaining = Math.round((100 - split) * 10) / 10;
  const scheduledIso = fromBangkokLocal(scheduleLocal);
  const readOnly = !writable;

  const clear = (field: CampaignField) => {
    setNotice(null);
    setErrors((e) => {
      if (!(field in e)) return e;
      const next = { ...e };
      delete next[field];
      return next;
    });
  };

  function updateVariant(key: number, patch: Partial<VariantDraft>, field?: CampaignField) {
    setVariants((list) => list.map((v) => (v.key === key ? { ...v, ...patch } : v)));
    if (field) clear(field);
    clear('variants');
  }

  function addVariant() {
    setVariants((list) => {
      const used = new Set(list.map((v) => v.name));
      const letter = [...LETTERS].find((l) => !used.has(l)) ?? `V${list.length + 1}`;
      const shares = evenShares(list.length + 1);
      return [...list.map((v, i) => ({ ...v, share: shares[i] ?? 0 })), { key: newKey(), name: letter, template: null, share: shares[list.length] ?? 0 }];
    });
    clear('variants');
  }

  function removeVariant(key: number) {
    setVariants((list) => {
      const rest = list.filter((v) => v.key !== key);
      const shares = evenShares(rest.length);
      return rest.map((v, i) => ({ ...v, share: shares[i] ?? 0 }));
    });
    clear('variants');
  }

  function toggleChannel(channelName: string, on: boolean) {
    setChosen((list) => (on ? [...list, channelName] : list.filter((n) => n !== channelName)));
    clear('channels');
  }

  function move(channelName: string, by: -1 | 1) {
    setChosen((list) => {
      const index = list.indexOf(channelName);
      const target = index + by;
      if (index < 0 || target < 0 || target >= list.length) return list;
      const next = [...list];
      [next[index], next[target]] = [next[target] as string, next[index] as string];
      return next;
    });
  }

  /** The request body, or the problems that keep it from being sent. */
  function check(mode: When): { body: CampaignInput | null; found: Partial<Record<CampaignField, string>> } {
    const found: Partial<Record<CampaignField, string>> = {};
    if (!name.trim()) found.name = t('campaigns.form.required');
    if (!segmentId) found.segment = t('campaigns.form.chooseSegment');
    if (!chosen.length) found.channels = t('campaigns.form.chooseChannel');
    const names = new Set<string>();
    variants.forEach((v, index) => {
      if (!VARIANT_NAME.test(v.name) || v.name === 'control') found[`variant.${index}.name`] = t('campaigns.form.variantNameRule');
      else if (names.has(v.name)) found[`variant.${index}.name`] = t('campaigns.form.variantNameTaken');
      names.add(v.name);
      if (!v.template) found[`variant.${index}.template`] = t('campaigns.form.chooseTemplate');
      if (typeof v.share !== 'number' || v.share <= 0) found[`variant.${index}.share`] = t('campaigns.form.sharePositive');
    });
    if (Math.abs(split - 100) > 0.05) found.variants = t('campaigns.form.splitMust', { sum: split });
    if (control < 0 || control > 50) found.control = t('campaigns.form.controlRange');
    if (typeof attribution !== 'number' || attribution < 1 || attribution > 90) found.attribution = t('campaigns.form.attributionRange');
    if (!conversion.trim()) found.conversion = t('campaigns.form.required');
    let scheduled: string | null = null;
    if (mode === 'schedule') {
      if (!scheduledIso) found.schedule = t('campaigns.form.chooseTime');
      else if (new Date(scheduledIso).getTime() <= Date.now()) found.schedule = t('campaigns.form.timeInPast');
      else scheduled = scheduledIso;
    }
    if (Object.keys(found).length) return { body: null, found };
    return {
      body: {
        name: name.trim(),
        segment_id: segmentId as string,
        channels: chosen,
        category,
        variants: variants.map((v) => ({ name: v.name, template: v.template as string, weight: v.share as number })),
        control_percent: control,
        scheduled_at: scheduled,
        attribution_days: attribution as number,
        conversion_event: conversion.trim(),
      },
      found,
    };
  }

  function showServerError(error: unknown) {
    const err = error instanceof Error ? error : new Error(String(error));
    if (err instanceof ApiError && err.status < 500) {
      const field = campaignFieldOf(err.message);
      if (field !== 'general') {
        setErrors({ [field]: err.message });
        return;
      }
    }
    setGeneral(err);
  }

  async function save(mode: When): Promise<Campaign | null> {
    const { body } = check(mode);
    if (!body) return null;
    const id = initial?.id ?? createdId;
    const path = id ? `/api/messaging/campaigns/${encodeURIComponent(id)}` : '/api/messaging/campaigns';
    const saved = await apiFetch<Campaign>(path, { method: id ? 'PUT' : 'POST', body: body as unknown as Json });
    if (!initial) setCreatedId(saved.id);
    return saved;
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (readOnly) return;
    setGeneral(null);
    setNotice(null);
    const { found } = check(when);
    setErrors(found);
    if (Object.keys(found).length) return;
    if (when === 'draft') void run('draft');
    else setConfirming(when);
  }

  async function run(mode: When) {
    setBusy(true);
    try {
      const saved = await save(mode);
      if (!saved) return;
      if (mode === 'now') {
        await apiFetch<Campaign>(`/api/messaging/campaigns/${encodeURIComponent(saved.id)}/launch`, { method: 'POST' });
      }
      setConfirming(null);
      if (!initial) navigate(`/campaigns/${encodeURIComponent(saved.id)}`, { replace: true });
      else {
        setNotice(mode === 'schedule' ? t('campaigns.form.scheduledNotice') : t('campaigns.form.savedNotice'));
        onChanged?.();
      }
    } catch (error) {
      setConfirming(null);
      showServerError(error);
    } finally {
      setBusy(false);
    }
  }

  async function cancelCampaign() {
    if (!initial) return;
    setBusy(true);
    try {
      await apiFetch<Campaign>(`/api/messaging/campaigns/${encodeURIComponent(initial.id)}/cancel`, { method: 'POST' });
      setConfirming(null);
      onChanged?.();
    } catch (error) {
      setConfirming(null);
      setGeneral(error instanceof Error ? error : new Error(String(error)));
    } finally {
      setBusy(false);
    }
  }

  const size = segment?.size;
  const expectedControl = size !== undefined ? Math.round((size * control) / 100) : undefined;
  const templateOptions = (templates.data ?? []).map((tpl) => ({
    value: tpl.id,
    label: `${tpl.name} · ${t(`templates.categories.${tpl.category}`)}`,
  }));

  return (
    <form onSubmit={submit} noValidate>
      <Grid gutter="md">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Stack gap="md">
            <Panel title={t('campaigns.form.audience')}>
              <Stack gap="sm">
                <TextInput
                  label={t('campaigns.name')}
                  value={name}
                  onChange={(event) => {
                    setName(event.currentTarget.value);
                    clear('name');
                  }}
                  maxLength={200}
                  required
                  readOnly={readOnly}
                  error={errors.name}
                  data-testid="campaign-name"
                />
                {segmentsAllowed ? (
                  <Select
                    label={t('campaigns.segment')}
                    placeholder={t('campaigns.form.segmentPlaceholder')}
                    searchable
                    data={(segments.data ?? []).map((s) => ({
                      value: s.id,
                      label: `${s.name} (${t('campaigns.form.people', { count: s.size, n: formatNumber(s.size, i18n.language) })})`,
                    }))}
                    value={segmentId}
                    onChange={(value) => {
                      setSegmentId(value);
                      clear('segment');
                    }}
                    nothingFoundMessage={segments.loading ? t('common.loading') : t('campaigns.form.noSegment')}
                    readOnly={readOnly}
                    required
                    error={errors.segment ?? segments.error?.message}
                    comboboxProps={{ withinPortal: true }}
                    data-testid="campaign-segment"
                  />
                ) : (
                  <TextInput
                    label={t('campaigns.form.segmentId')}
                    description={t('campaigns.form.noSegmentList')}
                    value={segmentId ?? ''}
                    onChange={(event) => {
                      setSegmentId(event.currentTarget.value.trim() || null);
                      clear('segment');
                    }}
                    readOnly={readOnly}
                    required
                    error={errors.segment}
                    data-testid="campaign-segment"
                  />
                )}
                {segment && (
                  <Group gap="xs" data-testid="segment-size" data-value={segment.size}>
                    <Text fw={700} fz="xl" c="teal.8">
                      {formatNumber(segment.size, i18n.language)}
                    </Text>
                    <Text size="sm" c="dimmed">
                      {t('campaigns.form.peopleNow')}
                    </Text>
                    <Anchor component={Link} to={`/segments/${encodeURIComponent(segment.id)}`} size="sm">
                      {t('campaigns.form.seeSegment')}
                    </Anchor>
                  </Group>
                )}
              </Stack>
            </Panel>

            <Panel title={t('campaigns.form.channels')}>
              <Stack gap="xs">
                <Text size="sm" c="dimmed">
                  {t('campaigns.form.channelsHint')}
                </Text>
                {channels.error && <ErrorNotice error={channels.error} onRetry={channels.reload} />}
                <Stack gap={6} data-testid="campaign-channels">
                  {[...chosen.map((n) => channelByName.get(n)).filter((c): c is Channel => !!c), ...(channels.data ?? []).filter((c) => !chosen.includes(c.name))].map(
                    (channel) => {
                      const order = chosen.indexOf(channel.name);
                      return (
                        <Paper key={channel.name} withBorder p="xs" radius="md" data-testid="channel-option" data-name={channel.name}>
                          <Group justify="space-between" wrap="nowrap" gap="xs">
                            <Group gap="xs" wrap="wrap" style={{ minWidth: 0 }}>
                              <Checkbox
                                checked={order >= 0}
                                onChange={(event) => toggleChannel(channel.name, event.currentTarget.checked)}
                                disabled={readOnly}
                                label={
                                  <Text size="sm" fw={600} component="span">
                                    {order >= 0 ? `${order + 1}. ` : ''}
                                    {channel.name}
                                  </Text>
                                }
                                data-testid="channel-checkbox"
                              />
                              <ChannelBadge kind={channel.kind} size="sm" />
                              {!channel.enabled && (
                                <Badge color="orange" variant="light" size="sm" tt="none">
                                  {t('campaigns.form.channelOff')}
                                </Badge>
                              )}
                            </Group>
                            {order >= 0 && !readOnly && chosen.length > 1 && (
                              <Group gap={2} wrap="nowrap">
                                <ActionIcon
                                  variant="subtle"
                                  disabled={order === 0}
                                  onClick={() => move(channel.name, -1)}
                                  aria-label={t('campaigns.form.moveUp', { name: channel.name })}
                                >
                                  <Arrow up />
                                </ActionIcon>
                                <ActionIcon
                                  variant="subtle"
                                  disabled={order === chosen.length - 1}
                                  onClick={() => move(channel.name, 1)}
                                  aria-label={t('campaigns.form.moveDown', { name: channel.name })}
                                >
                                  <Arrow up={false} />
                                </ActionIcon>
                              </Group>
                            )}
                          </Group>
                        </Paper>
                      );
                    },
                  )}
                </Stack>
                {errors.channels && (
                  <Text size="sm" c="red" role="alert">
                    {errors.channels}
                  </Text>
                )}
                {chosen.some((n) => channelByName.get(n) && !channelByName.get(n)?.enabled) && (
                  <Text size="xs" c="orange.8">
                    {t('campaigns.form.offWarning')}
                  </Text>
                )}
                <Box mt="xs">
                  <Text size="sm" fw={500} mb={4} id="campaign-category-label">
                    {t('campaigns.category')}
                  </Text>
                  <SegmentedControl
                    value={category}
                    onChange={(value) => setCategory(value as Category)}
                    disabled={readOnly}
                    aria-labelledby="campaign-category-label"
                    data={[
                      { value: 'marketing', label: t('templates.categories.marketing') },
                      { value: 'transactional', label: t('templates.categories.transactional') },
                    ]}
                    data-testid="campaign-category"
                  />
                  <Text size="xs" c={category === 'transactional' ? 'orange.8' : 'dimmed'} mt={4}>
                    {category === 'transactional' ? t('campaigns.form.transactionalHint') : t('campaigns.form.marketingHint')}
                  </Text>
                  {errors.category && (
                    <Text size="sm" c="red">
                      {errors.category}
                    </Text>
                  )}
                </Box>
              </Stack>
            </Panel>

            <Panel
              title={t('campaigns.form.variants')}
              actions={
                !readOnly && variants.length < 10 ? (
                  <Button variant="light" size="xs" onClick={addVariant} data-testid="variant-add">
                    {t('campaigns.form.addVariant')}
                  </Button>
                ) : undefined
              }
            >
              <Stack gap="sm">
                <Text size="sm" c="dimmed">
                  {t('campaigns.form.variantsHint')}
                </Text>
                {variants.map((variant, index) => {
                  const template = variant.template ? templateById.get(variant.template) : undefined;
                  const kinds = kindsOfTemplate(template);
                  const reachable = chosenKinds.filter((k) => kinds.includes(k));
                  return (
                    <Fieldset key={variant.key} legend={t('campaigns.form.variantLegend', { name: variant.name || '?' })} p="sm" data-testid="variant-row">
                      <Group align="flex-start" gap="sm" wrap="wrap">
                        <TextInput
                          label={t('campaigns.form.variantName')}
                          value={variant.name}
                          onChange={(event) => updateVariant(variant.key, { name: event.currentTarget.value }, `variant.${index}.name`)}
                          readOnly={readOnly}
                          error={errors[`variant.${index}.name`]}
                          w={110}
                          data-testid="variant-name"
                        />
                        <Select
                          label={t('campaigns.form.template')}
                          placeholder={t('campaigns.form.chooseTemplate')}
                          searchable
                          data={templateOptions}
                          value={template?.id ?? variant.template}
                          onChange={(value) => updateVariant(variant.key, { template: value }, `variant.${index}.template`)}
                          readOnly={readOnly}
                          error={errors[`variant.${index}.template`] ?? templates.error?.message}
                          style={{ flex: '1 1 220px' }}
                          comboboxProps={{ withinPortal: true }}
                          data-testid="variant-template"
                        />
                        <NumberInput
                          label={t('campaigns.form.share')}
                          value={variant.share}
                          onChange={(value) => updateVariant(variant.key, { share: typeof value === 'number' ? value : value === '' ? '' : Number(value) }, `variant.${index}.share`)}
                          min={0}
                          max={100}
                          decimalScale={1}
                          suffix="%"
                          readOnly={readOnly || variants.length === 1}
                          error={errors[`variant.${index}.share`]}
                          w={110}
                          data-testid="variant-share"
                        />
                        {!readOnly && variants.length > 1 && (
                          <ActionIcon
                            variant="subtle"
                            color="red"
                            size="lg"
                            mt={26}
                            onClick={() => removeVariant(variant.key)}
                            aria-label={t('campaigns.form.removeVariant', { name: variant.name })}
                            data-testid="variant-remove"
                          >
                            <span aria-hidden="true">✕</span>
                          </ActionIcon>
                        )}
                      </Group>
                      {template && (
                        <Group gap={4} mt={6}>
                          <Text size="xs" c="dimmed">
                            {t('campaigns.form.templateHas')}
                          </Text>
                          {kinds.map((k) => (
                            <ChannelBadge key={k} kind={k} size="xs" />
                          ))}
                          <Anchor component={Link} to={`/templates/${encodeURIComponent(template.name)}`} size="xs" ml="xs">
                            {t('campaigns.form.openTemplate')}
                          </Anchor>
                        </Group>
                      )}
                      {template && chosen.length > 0 && reachable.length === 0 && (
                        <Text size="xs" c="orange.8" mt={4}>
                          {t('campaigns.form.noOverlap')}
                        </Text>
                      )}
                    </Fieldset>
                  );
                })}
                {variants.length > 1 && (
                  <Group gap="sm" align="center">
                    <Text
                      size="sm"
                      fw={600}
                      c={Math.abs(remaining) < 0.05 ? 'teal.8' : 'red'}
                      data-testid="split-remaining"
                      data-value={remaining}
                      aria-live="polite"
                    >
                      {Math.abs(remaining) < 0.05
                        ? t('campaigns.form.splitOk')
                        : remaining > 0
                          ? t('campaigns.form.splitLeft', { n: remaining })
                          : t('campaigns.form.splitOver', { n: -remaining })}
                    </Text>
                    {!readOnly && (
                      <Button
                        variant="subtle"
                        size="xs"
                        onClick={() => {
                          const shares = evenShares(variants.length);
                          setVariants((list) => list.map((v, i) => ({ ...v, share: shares[i] ?? 0 })));
                          clear('variants');
                        }}
                        data-testid="split-even"
                      >
                        {t('campaigns.form.splitEven')}
                      </Button>
                    )}
                  </Group>
                )}
                {errors.variants && (
                  <Text size="sm" c="red" role="alert">
                    {errors.variants}
                  </Text>
                )}
              </Stack>
            </Panel>

            <Panel title={t('campaigns.form.measure')}>
              <Stack gap="sm">
                <div>
                  <Text size="sm" fw={500} id="control-label">
                    {t('campaigns.form.control')}
                  </Text>
                  <Text size="xs" c="dimmed" mb={6}>
                    {t('campaigns.form.controlHint')}
                  </Text>
                  <Group gap="md" align="center" wrap="nowrap">
                    <Slider
                      value={control}
                      onChange={(value) => {
                        setControl(value);
                        clear('control');
                      }}
                      min={0}
                      max={50}
                      step={1}
                      disabled={readOnly}
                      style={{ flex: 1 }}
                      aria-labelledby="control-label"
                      label={(value) => `${value}%`}
                      marks={[{ value: 0, label: '0%' }, { value: 10 }, { value: 20 }, { value: 50, label: '50%' }]}
                    />
                    <NumberInput
                      aria-labelledby="control-label"
                      value={control}
                      onChange={(value) => {
                        setControl(typeof value === 'number' ? value : Number(value) || 0);
                        clear('control');
                      }}
                      min={0}
                      max={50}
                      decimalScale={1}
                      suffix="%"
                      readOnly={readOnly}
                      w={96}
                      data-testid="control-percent"
                    />
                  </Group>
                  {errors.control && (
                    <Text size="sm" c="red">
                      {errors.control}
                    </Text>
                  )}
                  {expectedControl !== undefined && control > 0 && (
                    <Text size="xs" c="dimmed" mt={18}>
                      {t('campaigns.form.controlPeople', { n: formatNumber(expectedControl, i18n.language) })}
                    </Text>
                  )}
                </div>
                <Group align="flex-start" gap="md" wrap="wrap" mt="xs">
                  <NumberInput
                    label={t('campaigns.form.attribution')}
                    description={t('campaigns.form.attributionHint')}
                    value={attribution}
                    onChange={(value) => {
                      setAttribution(typeof value === 'number' ? value : '');
                      clear('attribution');
                    }}
                    min={1}
                    max={90}
                    allowDecimal={false}
                    readOnly={readOnly}
                    error={errors.attribution}
                    w={200}
                    data-testid="attribution-days"
                  />
                  <TextInput
                    label={t('campaigns.form.conversion')}
                    description={t('campaigns.form.conversionHint')}
                    value={conversion}
                    onChange={(event) => {
                      setConversion(event.currentTarget.value);
                      clear('conversion');
                    }}
                    maxLength={200}
                    readOnly={readOnly}
                    error={errors.conversion}
                    style={{ flex: '1 1 220px' }}
                    data-testid="conversion-event"
                  />
                </Group>
              </Stack>
            </Panel>
          </Stack>
        </Grid.Col>

        <Grid.Col span={{ base: 12, md: 4 }}>
          <Box style={{ position: 'sticky', top: 72 }}>
            <Panel title={t('campaigns.form.sendTitle')} testId="campaign-send-panel">
              <Stack gap="sm">
                {initial?.status === 'scheduled' && initial.scheduled_at && (
                  <Alert color="blue" data-testid="scheduled-notice">
                    {t('campaigns.form.isScheduled', { time: formatMomentLong(initial.scheduled_at, i18n.language) })}
                  </Alert>
                )}
                {readOnly ? (
                  <Text size="sm" c="dimmed" data-testid="read-only">
                    {t('campaigns.readOnly')}
                  </Text>
                ) : (
                  <>
                    <div>
                      <Text size="sm" fw={500} mb={4} id="campaign-when-label">
                        {t('campaigns.form.when')}
                      </Text>
                      <SegmentedControl
                        fullWidth
                        value={when}
                        onChange={(value) => {
                          setWhen(value as When);
                          clear('schedule');
                        }}
                        aria-labelledby="campaign-when-label"
                        data={[
                          { value: 'now', label: t('campaigns.form.whenNow') },
                          { value: 'schedule', label: t('campaigns.form.whenSchedule') },
                          { value: 'draft', label: t('campaigns.form.whenDraft') },
                        ]}
                        data-testid="campaign-when"
                      />
                    </div>
                    {when === 'schedule' && (
                      <div>
                        <TextInput
                          type="datetime-local"
                          label={t('campaigns.form.scheduleAt')}
                          description={t('campaigns.form.scheduleHint')}
                          value={scheduleLocal}
                          onChange={(event) => {
                            setScheduleLocal(event.currentTarget.value);
                            clear('schedule');
                          }}
                          error={errors.schedule}
                          required
                          data-testid="schedule-at"
                        />
                        {scheduledIso && (
                          <Text size="xs" c="dimmed" mt={4} data-testid="schedule-local">
                            {t('campaigns.form.scheduleYours', { time: formatMomentLong(scheduledIso, i18n.language) })}
                          </Text>
                        )}
                      </div>
                    )}
                    {errors.schedule && when !== 'schedule' && (
                      <Text size="sm" c="red">
                        {errors.schedule}
                      </Text>
                    )}
                    {size !== undefined && when !== 'draft' && (
                      <Text size="sm">
                        {t('campaigns.form.willTarget', { n: formatNumber(size, i18n.language) })}
                      </Text>
                    )}
                    <Button
                      type="submit"
                      loading={busy && confirming === null}
                      color={when === 'now' ? 'teal' : undefined}
                      data-testid={when === 'now' ? 'campaign-send' : when === 'schedule' ? 'campaign-schedule' : 'campaign-save'}
                    >
                      {when === 'now' ? t('campaigns.form.sendNow') : when === 'schedule' ? t('campaigns.form.schedule') : t('campaigns.form.saveDraft')}
                    </Button>
                    {notice && (
                      <Text size="sm" c="teal.8" role="status" data-testid="campaign-notice">
                        {notice}
                      </Text>
                    )}
                    {Object.keys(errors).length > 0 && (
                      <Text size="sm" c="red" role="alert" data-testid="campaign-form-problems">
                        {t('campaigns.form.fixProblems')}
                      </Text>
                    )}
                    {general && <ErrorNotice error={general} />}
                    {initial && (initial.status === 'draft' || initial.status === 'scheduled') && (
                      <Button variant="subtle" color="red" onClick={() => setConfirming('cancel')} data-testid="campaign-cancel">
                        {initial.status === 'scheduled' ? t('campaigns.cancelScheduled') : t('campaigns.cancelDraft')}
                      </Button>
                    )}
                  </>
                )}
                {initial && (
                  <Text size="xs" c="dimmed">
                    {t('campaigns.createdAt', { time: formatDateTime(initial.created_at, i18n.language) })}
                  </Text>
                )}
              </Stack>
            </Panel>
          </Box>
        </Grid.Col>
      </Grid>

      <Modal
        opened={confirming !== null}
        onClose={() => !busy && setConfirming(null)}
        title={
          confirming === 'cancel'
            ? t('campaigns.confirm.cancelTitle')
            : confirming === 'schedule'
              ? t('campaigns.confirm.scheduleTitle')
              : t('campaigns.confirm.sendTitle')
        }
        centered
        data-testid="confirm-modal"
      >
        {confirming === 'cancel' ? (
          <Stack gap="md">
            <Text size="sm">{t('campaigns.confirm.cancelBody', { name })}</Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setConfirming(null)} disabled={busy}>
                {t('campaigns.confirm.back')}
              </Button>
              <Button color="red" onClick={() => void cancelCampaign()} loading={busy} data-testid="confirm-cancel">
                {t('campaigns.confirm.cancelYes')}
              </Button>
            </Group>
          </Stack>
        ) : (
          <Stack gap="md">
            <Text size="sm">{t('campaigns.confirm.campaign', { name: name.trim(), segment: segment?.name ?? segmentId ?? '' })}</Text>
            <Paper withBorder p="sm" radius="md">
              <Text fz={32} fw={700} c="teal.8" data-testid="confirm-count" data-value={size ?? ''}>
                {size !== undefined ? formatNumber(size, i18n.language) : '–'}
              </Text>
              <Text size="sm">{t('campaigns.confirm.people')}</Text>
              {control > 0 && expectedControl !== undefined && (
                <Text size="xs" c="dimmed" mt={4}>
                  {t('campaigns.confirm.control', { percent: control, n: formatNumber(expectedControl, i18n.language) })}
                </Text>
              )}
            </Paper>
            <Text size="sm">
              {t('campaigns.confirm.channels', { list: chosen.join(' → ') })}
              {category === 'marketing' ? ` ${t('campaigns.confirm.marketingRules')}` : ` ${t('campaigns.confirm.transactionalRules')}`}
            </Text>
            {confirming === 'schedule' && scheduledIso && (
              <Text size="sm" fw={600}>
                {t('campaigns.confirm.at', { time: formatMomentLong(scheduledIso, i18n.language) })}
              </Text>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setConfirming(null)} disabled={busy}>
                {t('campaigns.confirm.back')}
              </Button>
              <Button onClick={() => void run(confirming ?? 'now')} loading={busy} data-testid="confirm-launch">
                {confirming === 'schedule' ? t('campaigns.confirm.scheduleYes') : t('campaigns.confirm.sendYes')}
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </form>
  );
}
