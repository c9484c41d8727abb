/**
 * /journeys/:id — the journey builder: the draft on a canvas, each node's settings in a side
 * panel (a drawer on small screens), problems from POST /validate on the nodes they name,
 * publish / pause / resume / archive, live counts per node, simulation and recent runs.
 */
import {
  Alert,
  Anchor,
  Badge,
  Box,
  Button,
  Card,
  Drawer,
  Fieldset,
  Group,
  Loader,
  Modal,
  Paper,
  ScrollArea,
  SimpleGrid,
  Stack,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { useDebouncedValue, useMediaQuery } from '@mantine/hooks';
import {
  applyEdgeChanges,
  applyNodeChanges,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type NodeChange,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { apiFetch, type Segment } from '../../api';
import { useAuth } from '../../auth';
import { StatusBadge } from '../../components/badges';
import { EntryForm } from '../../components/journeys/EntryForm';
import {
  edgeId,
  ENTRY_ID,
  freeOutput,
  fromFlow,
  isStep,
  newNode,
  newNodeId,
  outputsOf,
  pathHighlight,
  placeProblems,
  sentNodeIds,
  stableStringify,
  START_HANDLE,
  toFlow,
  wouldLoop,
  type Definition,
  type DefNode,
  type Flow,
  type FlowNode,
  type NodeType,
  type PlacedProblem,
  type XY,
} from '../../components/journeys/graph';
import { JourneyCanvas, NODE_WIDTH, type CanvasView, type NodeFigures } from '../../components/journeys/JourneyCanvas';
import { COMMON_EVENTS } from '../../components/journeys/fields';
import { entrySummary } from '../../components/journeys/kinds';
import { NodeForm, type FormOptions, type TargetOption } from '../../components/journeys/NodeForm';
import { Palette } from '../../components/journeys/Palette';
import { problemText } from '../../components/journeys/problems';
import { RunsPanel } from '../../components/journeys/RunsPanel';
import { SimulationPanel } from '../../components/journeys/SimulationPanel';
import { ApiView, Empty, ErrorNotice } from '../../components/states';
import { formatNumber } from '../../format';
import { useApi } from '../../useApi';
import type { ChannelOut, JourneyMetrics, JourneyOut, PlaybookOut, TemplateOut, ValidationOut, Vocabulary } from './types';

const COMMON_PROPERTIES = ['cart_id', 'order_id', 'product_id', 'category', 'price', 'total', 'revenue', 'quantity', 'currency'];
const ROW = 170;
const COLUMN = 280;

function unique(values: string[]): string[] {
  return [...new Set(values.filter(Boolean))];
}

export default function JourneyBuilderPage() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const { can } = useAuth();
  const allowed = can('journeys:read');
  const journey = useApi<JourneyOut>(allowed ? `/api/journeys/${encodeURIComponent(id)}` : null);
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
  return (
    <ApiView state={journey}>
      {(data) => (
        <ReactFlowProvider>
          <Builder key={data.id} initial={data} />
        </ReactFlowProvider>
      )}
    </ApiView>
  );
}

type Busy = 'save' | 'publish' | 'pause' | 'resume' | 'archive' | null;

function Builder({ initial }: { initial: JourneyOut }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const narrow = useMediaQuery('(max-width: 62em)', false, { getInitialValueInEffect: false });
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const wide = useMediaQuery('(min-width: 75em)', false, { getInitialValueInEffect: false });
  const { setCenter, getZoom } = useReactFlow();
  const journeyId = initial.id;

  const [info, setInfo] = useState<JourneyOut>(initial);
  const [name, setName] = useState(initial.name);
  const [description, setDescription] = useState(initial.description);
  const [flow, setFlow] = useState<Flow>(() => toFlow(initial.draft));
  const [saved, setSaved] = useState(() => ({ key: stableStringify(initial.draft), name: initial.name, description: initial.description }));
  const [busy, setBusy] = useState<Busy>(null);
  const [actionError, setActionError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<'publish' | 'archive' | null>(null);
  const [drawer, setDrawer] = useState(false);
  const [pathSteps, setPathSteps] = useState<{ node_id: string }[] | null>(null);

  const writer = can('journeys:write');
  const editable = writer && info.status !== 'archived';
  const definition = useMemo(() => fromFlow(flow), [flow]);
  const defKey = useMemo(() => stableStringify(definition), [definition]);
  const dirty = defKey !== saved.key || name !== saved.name || description !== saved.description;

  // -- what the forms offer ------------------------------------------------------------------
  const templates = useApi<TemplateOut[]>(can('messaging:read') ? '/api/messaging/templates' : null);
  const channels = useApi<ChannelOut[]>(can('messaging:read') ? '/api/messaging/channels' : null);
  const segments = useApi<Segment[]>(can('segments:read') ? '/api/segments' : null);
  const vocabulary = useApi<Vocabulary>(can('segments:read') ? '/api/segments/vocabulary' : null);
  const playbooks = useApi<PlaybookOut[]>('/api/journeys/playbooks');
  const options: FormOptions = useMemo(
    () => ({
      templates: templates.data,
      channels: channels.data,
      segments: segments.data,
      events: unique([...(vocabulary.data?.events.map((e) => e.name) ?? []), ...(playbooks.data?.flatMap((p) => p.events ?? []) ?? []), ...COMMON_EVENTS]),
      properties: unique([...(vocabulary.data?.events.flatMap((e) => e.properties) ?? []), ...COMMON_PROPERTIES]),
    }),
    [templates.data, channels.data, segments.data, vocabulary.data, playbooks.data],
  );
  const segmentNames = useMemo(() => new Map((segments.data ?? []).map((s) => [s.id, s.name])), [segments.data]);
  const templateNames = useMemo(() => new Map((templates.data ?? []).map((tpl) => [tpl.id, tpl.name])), [templates.data]);

  // -- validation: half a second after each change, and after each save -----------------------
  const [debouncedKey] = useDebouncedValue(defKey, 500);
  const [validateTick, setValidateTick] = useState(0);
  const [validation, setValidation] = useState<{ key: string; ids: (string | null)[]; problems: { path: string; message: string }[] } | null>(null);
  const [validationError, setValidationError] = useState<Error | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    const sent = JSON.parse(debouncedKey) as Definition;
    apiFetch<ValidationOut>('/api/journeys/validate', { method: 'POST', body: { definition: sent }, signal: controller.signal }).then(
      (answer) => {
        if (controller.signal.aborted) return;
        setValidation({ key: debouncedKey, ids: sentNodeIds(sent), problems: answer.problems });
        setValidationError(null);
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setValidationError(error instanceof Error ? error : new Error(String(error)));
      },
    );
    return () => controller.abort();
  }, [debouncedKey, validateTick]);
  const checking = !validation || validation.key !== defKey;
  const placed: PlacedProblem[] = useMemo(() => (validation ? placeProblems(validation.problems, validation.ids) : []), [validation]);
  const problemsByNode = useMemo(() => {
    const map = new Map<string, PlacedProblem[]>();
    for (const problem of placed) if (problem.nodeId) map.set(problem.nodeId, [...(map.get(problem.nodeId) ?? []), problem]);
    return map;
  }, [placed]);

  // -- live counts ------------------------------------------------------------------------------
  const metrics = useApi<JourneyMetrics>(`/api/journeys/${encodeURIComponent(journeyId)}/metrics`, 5_000);
  const figures = useMemo(() => {
    const m = metrics.data;
    if (!m) return null;
    const map = new Map<string, NodeFigures>([[ENTRY_ID, { entered: m.entered, waiting: m.active }]]);
    for (const node of m.nodes) {
      map.set(node.node_id, { entered: node.entered, waiting: node.waiting, messages: node.type === 'send' ? node.messages : undefined });
    }
    return map;
  }, [metrics.data]);

  // -- a path on the canvas -------------------------------------------------------------------------
  const highlight = useMemo(() => {
    if (!pathSteps) return null;
    return pathHighlight(new Set(flow.nodes.map((n) => n.id)), flow.edges, pathSteps);
  }, [pathSteps, flow.nodes, flow.edges]);

  const view: CanvasView = useMemo(
    () => ({
      editable,
      problems: problemsByNode,
      figures,
      highlight,
      entrySummary: entrySummary(flow.base.entry, t, segmentNames),
      templateNames,
    }),
    [editable, problemsByNode, figures, highlight, flow.base.entry, t, segmentNames, templateNames],
  );

  // -- leaving with unsaved changes ------------------------------------------------------------------
  useEffect(() => {
    if (!dirty || !editable) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty, editable]);

  // -- editing ----------------------------------------------------------------------------------------
  const selected = useMemo(() => {
    const picked = flow.nodes.filter((n) => n.selected);
    return picked.length === 1 ? (picked[0] ?? null) : null;
  }, [flow.nodes]);

  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => setFlow((f) => ({ ...f, nodes: applyNodeChanges(changes, f.nodes) })), []);
  const onEdgesChange = useCallback((changes: EdgeChange[]) => setFlow((f) => ({ ...f, edges: applyEdgeChanges(changes, f.edges) })), []);
  const setTarget = useCallback((source: string, handle: string, target: string | null) => {
    setFlow((f) => {
      const edges = f.edges.filter((e) => !(e.source === source && e.sourceHandle === handle));
      if (target) edges.push({ id: edgeId(source, handle), source, sourceHandle: handle, target });
      return { ...f, edges };
    });
  }, []);
  const onConnect = useCallback(
    (connection: Connection) => {
      if (connection.sourceHandle) setTarget(connection.source, connection.sourceHandle, connection.target);
    },
    [setTarget],
  );
  const onNodeDragStop = useCallback((dragged: FlowNode[]) => {
    const ids = new Set(dragged.map((n) => n.id));
    setFlow((f) => ({ ...f, nodes: f.nodes.map((n) => (ids.has(n.id) && isStep(n) && !n.data.moved ? { ...n, data: { ...n.data, moved: true } } : n)) }));
  }, []);
  const onSelect = useCallback(
    (id: string | null) => {
      if (id && narrow) setDrawer(true);
    },
    [narrow],
  );

  const selectNode = useCallback(
    (id: string) => {
      setFlow((f) => ({
        ...f,
        nodes: f.nodes.map((n) => (n.selected !== (n.id === id) ? { ...n, selected: n.id === id } : n)),
        edges: f.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
      }));
      const node = flow.nodes.find((n) => n.id === id);
      if (node) void setCenter(node.position.x + NODE_WIDTH / 2, node.position.y + 60, { zoom: Math.max(getZoom(), 0.8), duration: 300 });
      if (narrow) setDrawer(true);
    },
    [flow.nodes, setCenter, getZoom, narrow],
  );

  const updateStep = useCallback((id: string, node: DefNode) => {
    setFlow((f) => ({ ...f, nodes: f.nodes.map((n) => (n.id === id && isStep(n) ? { ...n, data: { ...n.data, node } } : n)) }));
  }, []);

  const removePath = useCallback((id: string, index: number) => {
    setFlow((f) => ({
      ...f,
      nodes: f.nodes.map((n) => {
        if (n.id !== id || !isStep(n) || !Array.isArray(n.data.node.paths)) return n;
        return { ...n, data: { ...n.data, node: { ...n.data.node, paths: n.data.node.paths.filter((_, i) => i !== index) } } };
      }),
      edges: f.edges.flatMap((e) => {
        const found = e.source === id ? /^paths\.(\d+)$/.exec(e.sourceHandle ?? '') : null;
        if (!found) return [e];
        const at = Number(found[1]);
        if (at === index) return [];
        if (at < index) return [e];
        const handle = `paths.${at - 1}`;
        return [{ ...e, id: edgeId(id, handle), sourceHandle: handle }];
      }),
    }));
  }, []);

  const deleteNode = useCallback((id: string) => {
    setFlow((f) => ({ ...f, nodes: f.nodes.filter((n) => n.id !== id), edges: f.edges.filter((e) => e.source !== id && e.target !== id) }));
    setDrawer(false);
  }, []);

  const addNode = useCallback(
    (type: NodeType, position?: XY) => {
      setFlow((f) => {
        const id = newNodeId(type, f.nodes.map((n) => n.id));
        const node = newNode(type, id, t(`journeys.kind.${type}`));
        let edges = f.edges;
        let at = position;
        if (!at) {
          const from = f.nodes.find((n) => n.selected);
          if (from) {
            const outputs = isStep(from) ? outputsOf(from.data.node) : [{ handle: START_HANDLE, outcome: 'start' }];
            const free = isStep(from) ? freeOutput(from.data.node, f.edges) : f.edges.some((e) => e.source === ENTRY_ID) ? null : outputs[0];
            const index = free ? outputs.findIndex((o) => o.handle === free.handle) : 0;
            at = { x: from.position.x + (index - (outputs.length - 1) / 2) * COLUMN, y: from.position.y + ROW };
            if (free) edges = [...edges, { id: edgeId(from.id, free.handle), source: from.id, sourceHandle: free.handle, target: id }];
          } else {
            const lowest = f.nodes.reduce((best, n) => (n.position.y > best.position.y ? n : best), f.nodes[0] as FlowNode);
            at = { x: lowest.position.x, y: lowest.position.y + ROW };
          }
          // Not on top of another card.
          const spot = at;
          while (f.nodes.some((n) => Math.abs(n.position.x - spot.x) < NODE_WIDTH && Math.abs(n.position.y - spot.y) < 80)) spot.x += COLUMN;
        }
        return {
          ...f,
          edges,
          nodes: [
            ...f.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)),
            { id, type: 'step' as const, position: at, data: { node, moved: true }, selected: true },
          ],
        };
      });
      if (narrow) setDrawer(true);
    },
    [t, narrow],
  );

  const targetOptions = useCallback(
    (source: string, handle: string): TargetOption[] => {
      const others = flow.edges.filter((e) => !(e.source === source && e.sourceHandle === handle));
      return flow.nodes
        .filter(isStep)
        .filter((n) => n.id !== source && !wouldLoop(others, source, n.id))
        .map((n) => ({ value: n.id, label: typeof n.data.node.label === 'string' && n.data.node.label ? `${n.data.node.label} (${n.id})` : n.id }));
    },
    [flow.nodes, flow.edges],
  );

  const nodeName = useCallback(
    (id: string) => {
      if (id === 'entry' || id === ENTRY_ID) return t('journeys.kind.entry');
      if (id === 'goal') return t('journeys.steps.goal');
      if (id === 'exit') return t('journeys.steps.exitRule');
      const node = flow.nodes.find((n) => n.id === id);
      if (node && isStep(node) && typeof node.data.node.label === 'string' && node.data.node.label) return node.data.node.label;
      return id;
    },
    [flow.nodes, t],
  );

  // -- saving and the journey's status --------------------------------------------------------------
  async function save(): Promise<boolean> {
    if (!name.trim()) {
      setActionError(new Error(t('journeys.builder.nameRequired')));
      return false;
    }
    setBusy('save');
    setActionError(null);
    setDone(null);
    const sentKey = defKey;
    try {
      const out = await apiFetch<JourneyOut>(`/api/journeys/${encodeURIComponent(journeyId)}`, {
        method: 'PUT',
        body: { name: name.trim(), description, definition },
      });
      setInfo(out);
      setName(out.name);
      setSaved({ key: sentKey, name: out.name, description: out.description });
      setDone(t('journeys.builder.saved'));
      return true;
    } catch (error) {
      setActionError(error instanceof Error ? error : new Error(String(error)));
      return false;
    } finally {
      setValidateTick((n) => n + 1);
      setBusy(null);
    }
  }

  async function act(action: 'publish' | 'pause' | 'resume' | 'archive') {
    setConfirm(null);
    if (action === 'publish' && dirty && !(await save())) return;
    setBusy(action);
    setActionError(null);
    setDone(null);
    try {
      const out = await apiFetch<JourneyOut>(`/api/journeys/${encodeURIComponent(journeyId)}/${action}`, { method: 'POST' });
      setInfo(out);
      setDone(t(`journeys.builder.done.${action}`, { version: out.version }));
      metrics.reload();
    } catch (error) {
      setActionError(error instanceof Error ? error : new Error(String(error)));
    } finally {
      setBusy(null);
    }
  }

  const problemCount = placed.length;
  const publishBlocked = checking ? t('journeys.builder.blockedChecking') : problemCount ? t('journeys.builder.blockedProblems', { count: problemCount }) : null;

  // -- the side panel: the selected node's form, or the journey's details -----------------------------------
  let panel: ReactNode;
  if (selected && selected.id === ENTRY_ID) {
    panel = (
      <EntryForm
        base={flow.base}
        onChange={(base) => setFlow((f) => ({ ...f, base }))}
        problems={problemsByNode.get(ENTRY_ID) ?? []}
        options={options}
        targets={targetOptions(ENTRY_ID, START_HANDLE)}
        start={flow.edges.find((e) => e.source === ENTRY_ID)?.target ?? null}
        onStart={(target) => setTarget(ENTRY_ID, START_HANDLE, target)}
      />
    );
  } else if (selected && isStep(selected)) {
    const node = selected.data.node;
    panel = (
      <NodeForm
        key={selected.id}
        node={node}
        problems={problemsByNode.get(selected.id) ?? []}
        options={options}
        targets={targetOptions(selected.id, '')}
        currentTargets={new Map(flow.edges.filter((e) => e.source === selected.id).map((e) => [e.sourceHandle ?? '', e.target]))}
        onChange={(next) => updateStep(selected.id, next)}
        onTarget={(handle, target) => setTarget(selected.id, handle, target)}
        onRemovePath={(index) => removePath(selected.id, index)}
        onDelete={() => deleteNode(selected.id)}
        editable={editable}
      />
    );
  } else {
    panel = (
      <Stack gap="sm" data-testid="journey-details">
        <TextInput label={t('journeys.builder.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} maxLength={200} required error={!name.trim() ? t('journeys.problem.required') : undefined} data-testid="journey-name" />
        <Textarea label={t('journeys.builder.description')} value={description} onChange={(e) => setDescription(e.currentTarget.value)} maxLength={2000} autosize minRows={2} maxRows={8} />
        <Text size="sm" fw={500}>
          {t('journeys.builder.steps')}
        </Text>
        <Text size="xs" c="dimmed">
          {t('journeys.builder.stepsHint')}
        </Text>
        <Stack gap={4}>
          {flow.nodes.map((n) => {
            const count = problemsByNode.get(n.id)?.length ?? 0;
            return (
              <UnstyledButton key={n.id} onClick={() => selectNode(n.id)} data-testid="step-link" data-node-id={n.id} style={{ borderRadius: 6, padding: '4px 6px', border: '1px solid var(--mantine-color-gray-3)' }}>
                <Group gap={6} wrap="nowrap" justify="space-between">
                  <Text size="sm" lineClamp={1} style={{ overflowWrap: 'anywhere' }}>
                    {isStep(n) ? t(`journeys.kind.${n.data.node.type}`, { defaultValue: n.data.node.type }) : t('journeys.kind.entry')}
                    {' · '}
                    {nodeName(n.id)}
                  </Text>
                  {count > 0 && (
                    <Badge size="xs" color="red">
                      {count}
                    </Badge>
                  )}
                </Group>
              </UnstyledButton>
            );
          })}
        </Stack>
      </Stack>
    );
  }
  const panelBody = (
    <Fieldset disabled={!editable} variant="unstyled" p={0} m={0} style={{ minWidth: 0 }}>
      {panel}
    </Fieldset>
  );

  const statusLine =
    info.status === 'archived'
      ? t('journeys.builder.archivedNote')
      : info.version === 0
        ? t('journeys.builder.neverPublished')
        : t(info.status === 'paused' ? 'journeys.builder.pausedNote' : 'journeys.builder.liveNote', { version: info.version, next: info.version + 1 });

  const m = metrics.data;
  return (
    <Stack gap="md">
      <Anchor component={Link} to="/journeys" size="sm">
        {t('journeys.builder.back')}
      </Anchor>
      <Group justify="space-between" align="flex-start" gap="sm">
        <Stack gap={4} style={{ minWidth: 0, flex: '1 1 320px' }}>
          <Title order={1} size="h2" style={{ overflowWrap: 'anywhere' }} data-testid="journey-title">
            {name || info.name}
          </Title>
          <Group gap="xs" wrap="wrap">
            <span data-testid="journey-status" data-status={info.status}>
              <StatusBadge group="journeys.status" status={info.status} />
            </span>
            {info.version > 0 && (
              <Badge variant="light" color="gray" tt="none" data-testid="journey-version" data-version={info.version}>
                {t('journeys.versionN', { version: info.version })}
              </Badge>
            )}
            {dirty && editable && (
              <Badge variant="light" color="orange" tt="none" data-testid="unsaved">
                {t('journeys.builder.unsaved')}
              </Badge>
            )}
          </Group>
          <Text size="sm" c="dimmed" data-testid="journey-note">
            {statusLine}
          </Text>
          {!writer && (
            <Text size="sm" c="orange.8" data-testid="read-only">
              {t('journeys.builder.readOnly')}
            </Text>
          )}
        </Stack>
        {editable && (
          <Stack gap={4} align="flex-end" style={{ flex: '0 1 auto' }}>
            <Group gap="xs" justify="flex-end">
              <Button variant="default" onClick={() => void save()} loading={busy === 'save'} disabled={(busy !== null && busy !== 'save') || !name.trim()} data-testid="journey-save">
                {t('journeys.builder.save')}
              </Button>
              {info.status === 'live' && (
                <Button variant="light" color="yellow" onClick={() => void act('pause')} loading={busy === 'pause'} disabled={busy !== null} data-testid="journey-pause">
                  {t('journeys.builder.pause')}
                </Button>
              )}
              {info.status === 'paused' && (
                <Button variant="light" onClick={() => void act('resume')} loading={busy === 'resume'} disabled={busy !== null} data-testid="journey-resume">
                  {t('journeys.builder.resume')}
                </Button>
              )}
              <Button
                onClick={() => setConfirm('publish')}
                loading={busy === 'publish'}
                disabled={busy !== null || publishBlocked !== null}
                data-testid="journey-publish"
              >
                {info.version === 0 ? t('journeys.builder.publish') : t('journeys.builder.publishNew', { version: info.version + 1 })}
              </Button>
              <Button variant="subtle" color="red" onClick={() => setConfirm('archive')} disabled={busy !== null} data-testid="journey-archive">
                {t('journeys.builder.archive')}
              </Button>
            </Group>
            {publishBlocked && (
              <Text size="xs" c="dimmed" data-testid="publish-reason">
                {publishBlocked}
              </Text>
            )}
            <div aria-live="polite">
              {done && (
                <Text size="sm" c="teal.8" fw={500} data-testid="action-done">
                  ✓ {done}
                </Text>
              )}
            </div>
          </Stack>
        )}
      </Group>
      {actionError && <ErrorNotice error={actionError} />}

      <SimpleGrid cols={{ base: 3, md: 6 }} spacing="xs" data-testid="journey-stats">
        {(
          [
            ['entered', m?.entered],
            ['active', m?.active],
            ['completed', m?.completed],
            ['exited', m?.exited],
            ['converted', m ? m.arms.reduce((sum, arm) => sum + arm.converted, 0) : undefined],
            ['sent', m ? (m.messages.sent ?? 0) + (m.messages.delivered ?? 0) : undefined],
          ] as const
        ).map(([key, value]) => (
          <Paper key={key} withBorder px="xs" py={4} radius="md">
            <Text size="xs" c="dimmed" lineClamp={1}>
              {t(`journeys.stats.${key}`)}
            </Text>
            <Text fw={700} size="md" data-testid={`stat-${key}`} data-value={value ?? ''}>
              {value === undefined ? '–' : formatNumber(value, i18n.language)}
            </Text>
          </Paper>
        ))}
      </SimpleGrid>
      {metrics.error && !metrics.data && <ErrorNotice error={metrics.error} onRetry={metrics.reload} />}

      <ProblemsList placed={placed} checking={checking} error={validationError} nodeName={nodeName} onPick={selectNode} />

      {editable && !wide && <Palette onAdd={(type) => addNode(type)} phone={phone} />}

      <Group align="flex-start" wrap="nowrap" gap="sm">
        {editable && wide && (
          <Box w={158} style={{ flex: 'none' }}>
            <Palette onAdd={(type) => addNode(type)} phone={false} vertical />
          </Box>
        )}
        <Box style={{ flex: 1, minWidth: 0 }}>
          <JourneyCanvas
            nodes={flow.nodes}
            edges={flow.edges}
            view={view}
            phone={phone}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onNodeDragStop={onNodeDragStop}
            onSelect={onSelect}
            onDropKind={addNode}
          />
          <Group justify="space-between" mt={4} gap="xs">
            <Text size="xs" c="dimmed">
              {figures ? t('journeys.builder.countsNote') : ' '}
            </Text>
            {narrow && (
              <Button size="compact-sm" variant="light" onClick={() => setDrawer(true)} data-testid="open-panel">
                {selected ? t('journeys.builder.editSelected') : t('journeys.builder.details')}
              </Button>
            )}
          </Group>
        </Box>
        {!narrow && (
          <Box w={320} style={{ flex: 'none' }}>
            <Card withBorder radius="md" p={0} data-testid="side-panel">
              <ScrollArea h={640} type="auto" offsetScrollbars>
                <Stack p="sm" gap="sm">
                  {selected && (
                    <Anchor component="button" type="button" size="sm" onClick={() => setFlow((f) => ({ ...f, nodes: f.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)) }))} style={{ alignSelf: 'flex-start' }}>
                      {t('journeys.builder.backToDetails')}
                    </Anchor>
                  )}
                  {panelBody}
                </Stack>
              </ScrollArea>
            </Card>
          </Box>
        )}
      </Group>
      {narrow && (
        <Drawer
          opened={drawer}
          onClose={() => setDrawer(false)}
          position="bottom"
          size="85%"
          title={selected ? nodeName(selected.id) : t('journeys.builder.details')}
          data-testid="panel-drawer"
        >
          {panelBody}
        </Drawer>
      )}

      <Card withBorder radius="md">
        <Tabs defaultValue="simulate" keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="simulate" data-testid="tab-simulate">
              {t('journeys.sim.title')}
            </Tabs.Tab>
            <Tabs.Tab value="runs" data-testid="tab-runs">
              {t('journeys.runs.title')}
            </Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="simulate" pt="sm">
            <SimulationPanel
              journeyId={journeyId}
              version={info.version}
              entry={flow.base.entry}
              dirty={dirty}
              canSearch={can('profiles:read')}
              events={options.events}
              nodeName={nodeName}
              templateName={(value) => templateNames.get(value) ?? value}
              onResult={(result) => setPathSteps(result ? result.path : null)}
            />
          </Tabs.Panel>
          <Tabs.Panel value="runs" pt="sm">
            <RunsPanel journeyId={journeyId} nodeName={nodeName} onPath={(run) => setPathSteps(run ? run.steps : null)} />
          </Tabs.Panel>
        </Tabs>
      </Card>

      <Modal opened={confirm !== null} onClose={() => setConfirm(null)} title={confirm ? t(`journeys.confirm.${confirm}Title`) : ''} centered>
        <Stack gap="sm">
          <Text size="sm">{confirm ? t(`journeys.confirm.${confirm}Body`, { version: info.version + 1, name: name || info.name }) : ''}</Text>
          {confirm === 'publish' && dirty && (
            <Text size="sm" c="dimmed">
              {t('journeys.confirm.savesFirst')}
            </Text>
          )}
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={() => setConfirm(null)}>
              {t('journeys.confirm.cancel')}
            </Button>
            <Button color={confirm === 'archive' ? 'red' : undefined} onClick={() => confirm && void act(confirm)} data-testid="confirm-ok">
              {confirm ? t(`journeys.confirm.${confirm}Ok`) : ''}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

function ProblemsList({
  placed,
  checking,
  error,
  nodeName,
  onPick,
}: {
  placed: PlacedProblem[];
  checking: boolean;
  error: Error | null;
  nodeName: (id: string) => string;
  onPick: (id: string) => void;
}) {
  const { t } = useTranslation();
  if (error) return <ErrorNotice error={error} />;
  if (!placed.length) {
    return (
      <Group gap={6} data-testid={checking ? 'validation-checking' : 'validation-ok'} mih={20}>
        {checking ? <Loader size={14} /> : null}
        <Text size="sm" c={checking ? 'dimmed' : 'teal.8'}>
          {checking ? t('journeys.builder.checking') : t('journeys.builder.valid')}
        </Text>
      </Group>
    );
  }
  return (
    <Alert color="red" variant="light" title={t('journeys.builder.problemsTitle', { count: placed.length })} data-testid="problems-list">
      <Stack gap={4}>
        {placed.map((problem, index) => (
          <Group key={index} gap={6} wrap="nowrap" align="flex-start" data-testid="problem-item" data-node-id={problem.nodeId ?? ''} data-path={problem.path}>
            {problem.nodeId ? (
              <Anchor component="button" type="button" size="sm" fw={600} onClick={() => onPick(problem.nodeId as string)} style={{ flex: 'none', maxWidth: '45%', textAlign: 'left' }} lineClamp={1}>
                {nodeName(problem.nodeId)}
              </Anchor>
            ) : (
              <Text size="sm" fw={600} style={{ flex: 'none' }}>
                {t('journeys.builder.wholeJourney')}
              </Text>
            )}
            <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
              {problemText(problem, t)}
              {problemText(problem, t) !== problem.message && (
                <Text span size="xs" c="dimmed" ff="monospace">
                  {' '}
                  ({problem.path}: {problem.message})
                </Text>
              )}
            </Text>
          </Group>
        ))}
        {checking && (
          <Text size="xs" c="dimmed">
            {t('journeys.builder.checking')}
          </Text>
        )}
      </Stack>
    </Alert>
  );
}
