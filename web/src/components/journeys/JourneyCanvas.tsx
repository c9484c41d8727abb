/**
 * The journey canvas: @xyflow/react with the entry and one card per node, the ways out as
 * labelled handles, problems and live counts on the cards, and a run's path highlighted.
 */
import '@xyflow/react/dist/style.css';
import { Badge, Box, Group, Text, Tooltip } from '@mantine/core';
import {
  Background,
  Controls,
  Handle,
  MiniMap,
  Position,
  ReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type IsValidConnection,
  type NodeChange,
  type NodeProps,
  type OnSelectionChangeParams,
  useNodesInitialized,
  useReactFlow,
} from '@xyflow/react';
import { createContext, memo, useCallback, useContext, useEffect, useMemo, useRef, type DragEvent, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import { formatNumber } from '../../format';
import {
  ENTRY_ID,
  START_HANDLE,
  outputsOf,
  wouldLoop,
  type EntryNode,
  type FlowNode,
  type NodeType,
  type PlacedProblem,
  type StepNode,
  type XY,
} from './graph';
import { KindIcon, kindColor, nodeSummary } from './kinds';
import { problemText } from './problems';

export const NODE_WIDTH = 240;
export const DRAG_TYPE = 'application/x-sampan-journey-node';

export interface NodeFigures {
  /** runs that passed the node (waits: started waiting there) */
  entered: number;
  /** runs waiting there now */
  waiting: number;
  messages?: Record<string, number>;
}

export interface CanvasView {
  editable: boolean;
  problems: Map<string, PlacedProblem[]>;
  figures: Map<string, NodeFigures> | null;
  highlight: { nodes: Set<string>; edges: Set<string> } | null;
  entrySummary: string;
  templateNames: Map<string, string>;
}

const ViewContext = createContext<CanvasView>({
  editable: false,
  problems: new Map(),
  figures: null,
  highlight: null,
  entrySummary: '',
  templateNames: new Map(),
});

function useCardLook(id: string, selected: boolean, color: string) {
  const view = useContext(ViewContext);
  const problems = view.problems.get(id) ?? [];
  const inPath = view.highlight?.nodes.has(id) ?? false;
  const dimmed = view.highlight !== null && !inPath;
  const border = problems.length
    ? 'var(--mantine-color-red-6)'
    : inPath
      ? 'var(--mantine-color-teal-6)'
      : selected
        ? `var(--mantine-color-${color}-6)`
        : 'var(--mantine-color-gray-4)';
  return {
    view,
    problems,
    highlight: inPath ? 'path' : dimmed ? 'dimmed' : '',
    style: {
      width: NODE_WIDTH,
      background: inPath ? 'var(--mantine-color-teal-0)' : 'var(--mantine-color-white)',
      border: `${problems.length || inPath || selected ? 2 : 1}px solid ${border}`,
      borderRadius: 10,
      boxShadow: selected ? '0 0 0 3px var(--mantine-color-teal-2)' : '0 1px 3px rgba(0,0,0,0.08)',
      opacity: dimmed ? 0.35 : 1,
      padding: '8px 10px',
      paddingBottom: 10,
      transition: 'opacity 120ms',
    } as const,
  };
}

function Figures({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const view = useContext(ViewContext);
  const figures = view.figures?.get(id);
  // No figures: the node is new in the draft, not in the version that runs.
  if (!figures) return null;
  const entered = figures.entered;
  const waiting = figures.waiting;
  const sent = figures.messages ? (figures.messages.sent ?? 0) + (figures.messages.delivered ?? 0) : null;
  return (
    <Group gap={4} mt={6} wrap="wrap" data-testid="node-figures">
      <Tooltip label={t(id === ENTRY_ID ? 'journeys.figures.enteredEntryHint' : 'journeys.figures.enteredHint')} withArrow>
        <Badge size="sm" variant="light" color="gray" tt="none" data-testid="node-entered" data-value={entered}>
          {t('journeys.figures.entered', { count: entered, value: formatNumber(entered, i18n.language) })}
        </Badge>
      </Tooltip>
      <Tooltip label={t(id === ENTRY_ID ? 'journeys.figures.activeHint' : 'journeys.figures.waitingHint')} withArrow>
        <Badge size="sm" variant={waiting ? 'filled' : 'light'} color="blue" tt="none" data-testid="node-waiting" data-value={waiting}>
          {t(id === ENTRY_ID ? 'journeys.figures.active' : 'journeys.figures.waiting', { count: waiting, value: formatNumber(waiting, i18n.language) })}
        </Badge>
      </Tooltip>
      {sent !== null && (
        <Badge size="sm" variant="light" color="teal" tt="none" data-testid="node-sent" data-value={sent}>
          {t('journeys.figures.sent', { value: formatNumber(sent, i18n.language) })}
        </Badge>
      )}
    </Group>
  );
}

function Problems({ problems }: { problems: PlacedProblem[] }) {
  const { t } = useTranslation();
  if (!problems.length) return null;
  return (
    <Box mt={6} data-testid="node-problems">
      {problems.slice(0, 2).map((problem, index) => (
        <Text key={index} size="xs" c="red.8" lh={1.3} data-testid="node-problem" style={{ overflowWrap: 'anywhere' }}>
          ⚠ {problemText(problem, t)}
        </Text>
      ))}
      {problems.length > 2 && (
        <Text size="xs" c="red.8">
          {t('journeys.problems.more', { count: problems.length - 2 })}
        </Text>
      )}
    </Box>
  );
}

function Header({ kind, title, problems }: { kind: string; title: string; problems: number }) {
  const color = kindColor(kind);
  return (
    <Group gap={6} wrap="nowrap">
      <Box
        c={`${color}.7`}
        bg={`${color}.0`}
        style={{ borderRadius: 6, width: 24, height: 24, display: 'grid', placeItems: 'center', flex: 'none' }}
      >
        <KindIcon kind={kind} />
      </Box>
      <Text size="xs" fw={700} c={`${color}.8`} tt="uppercase" style={{ letterSpacing: 0.3 }} lineClamp={1}>
        {title}
      </Text>
      {problems > 0 && (
        <Badge size="xs" color="red" variant="filled" ml="auto" style={{ flex: 'none' }}>
          {problems}
        </Badge>
      )}
    </Group>
  );
}

const handleStyle = { width: 12, height: 12, background: 'var(--mantine-color-gray-6)', border: '2px solid white' };

const EntryCard = memo(function EntryCard({ id, selected }: NodeProps<EntryNode>) {
  const { t } = useTranslation();
  const { view, problems, highlight, style } = useCardLook(id, selected, 'teal');
  return (
    <div style={style} data-testid="journey-node" data-node-id={ENTRY_ID} data-type="entry" data-problems={problems.length} data-highlight={highlight}>
      <Header kind="entry" title={t('journeys.kind.entry')} problems={problems.length} />
      <Text size="sm" fw={600} mt={4} lineClamp={2} style={{ overflowWrap: 'anywhere' }}>
        {view.entrySummary}
      </Text>
      <Figures id={ENTRY_ID} />
      <Problems problems={problems} />
      <Handle type="source" id={START_HANDLE} position={Position.Bottom} style={handleStyle} isConnectable={view.editable} />
    </div>
  );
});

const StepCard = memo(function StepCard({ id, data, selected }: NodeProps<StepNode>) {
  const { t } = useTranslation();
  const { view, problems, highlight, style } = useCardLook(id, selected, kindColor(data.node.type));
  const node = data.node;
  const outputs = outputsOf(node);
  const summary = nodeSummary(node, t, view.templateNames);
  const label = typeof node.label === 'string' && node.label ? node.label : null;
  return (
    <div
      style={{ ...style, paddingBottom: outputs.length > 1 ? 22 : 10 }}
      data-testid="journey-node"
      data-node-id={id}
      data-type={node.type}
      data-problems={problems.length}
      data-highlight={highlight}
    >
      <Handle type="target" position={Position.Top} style={handleStyle} isConnectable={view.editable} />
      <Header kind={node.type} title={t(`journeys.kind.${node.type}`, { defaultValue: node.type })} problems={problems.length} />
      <Text size="sm" fw={600} mt={4} lineClamp={2} style={{ overflowWrap: 'anywhere' }}>
        {label ?? id}
      </Text>
      {summary && (
        <Text size="xs" c="dimmed" lineClamp={2} style={{ overflowWrap: 'anywhere' }}>
          {summary}
        </Text>
      )}
      <Figures id={id} />
      <Problems problems={problems} />
      {outputs.map((output, index) => {
        const left = `${((index + 1) / (outputs.length + 1)) * 100}%`;
        return (
          <div key={output.handle}>
            {outputs.length > 1 && (
              <Text
                size="10px"
                fw={600}
                c="dimmed"
                style={{ position: 'absolute', bottom: 6, left, transform: 'translateX(-50%)', whiteSpace: 'nowrap', maxWidth: NODE_WIDTH / outputs.length, overflow: 'hidden', textOverflow: 'ellipsis' }}
              >
                {outputLabel(node.type, output.outcome, t)}
              </Text>
            )}
            <Handle
              type="source"
              id={output.handle}
              position={Position.Bottom}
              style={{ ...handleStyle, left, background: `var(--mantine-color-${kindColor(node.type)}-6)` }}
              isConnectable={view.editable}
              aria-label={outputLabel(node.type, output.outcome, t)}
            />
          </div>
        );
      })}
    </div>
  );
});

/** The words for a way out: ใช่ / ไม่ใช่, เกิดเหตุการณ์ / หมดเวลา, a split path's own name. */
export function outputLabel(type: string, outcome: string, t: (key: string, options?: Record<string, unknown>) => string): string {
  if (type === 'split') return outcome;
  return t(`journeys.output.${outcome}`, { defaultValue: outcome });
}

const nodeTypes = { entry: EntryCard, step: StepCard };

const READABLE_ZOOM = 0.6;

/**
 * The first view, once the cards are measured: the whole graph when it fits at a readable
 * size, else its top (the trigger) at a readable zoom, to be panned from there.
 */
function InitialView({ box }: { box: RefObject<HTMLDivElement | null> }) {
  const ready = useNodesInitialized();
  const { fitView, getNodes, getNodesBounds, setViewport } = useReactFlow();
  const done = useRef(false);
  useEffect(() => {
    if (!ready || done.current || !box.current) return;
    done.current = true;
    const bounds = getNodesBounds(getNodes());
    const { clientWidth: width, clientHeight: height } = box.current;
    const padding = 40;
    const fit = Math.min((width - 2 * padding) / Math.max(bounds.width, 1), (height - 2 * padding) / Math.max(bounds.height, 1), 1);
    if (fit >= READABLE_ZOOM) {
      void fitView({ padding: 0.15, maxZoom: 1 });
      return;
    }
    const zoom = Math.max(READABLE_ZOOM, Math.min(0.8, (width - 2 * padding) / Math.max(bounds.width, 1)));
    void setViewport({ x: width / 2 - (bounds.x + bounds.width / 2) * zoom, y: padding - bounds.y * zoom, zoom });
  }, [ready, box, fitView, getNodes, getNodesBounds, setViewport]);
  return null;
}

export interface JourneyCanvasProps {
  nodes: FlowNode[];
  edges: Edge[];
  view: CanvasView;
  phone: boolean;
  onNodesChange: (changes: NodeChange<FlowNode>[]) => void;
  onEdgesChange: (changes: EdgeChange[]) => void;
  onConnect: (connection: Connection) => void;
  onNodeDragStop: (nodes: FlowNode[]) => void;
  onSelect: (id: string | null) => void;
  onDropKind: (type: NodeType, position: XY) => void;
}

export function JourneyCanvas({
  nodes,
  edges,
  view,
  phone,
  onNodesChange,
  onEdgesChange,
  onConnect,
  onNodeDragStop,
  onSelect,
  onDropKind,
}: JourneyCanvasProps) {
  const { t } = useTranslation();
  const { screenToFlowPosition } = useReactFlow();
  const box = useRef<HTMLDivElement>(null);

  const shownEdges = useMemo(
    () =>
      edges.map((edge): Edge => {
        const inPath = view.highlight?.edges.has(edge.id) ?? false;
        const dimmed = view.highlight !== null && !inPath;
        return {
          ...edge,
          type: 'smoothstep',
          animated: inPath,
          style: {
            stroke: inPath ? 'var(--mantine-color-teal-6)' : edge.selected ? 'var(--mantine-color-dark-6)' : 'var(--mantine-color-gray-5)',
            strokeWidth: inPath || edge.selected ? 3 : 2,
            opacity: dimmed ? 0.25 : 1,
          },
          deletable: view.editable,
          focusable: true,
          ariaLabel: t('journeys.canvas.edgeLabel', { source: edge.source === ENTRY_ID ? t('journeys.kind.entry') : edge.source, target: edge.target }),
        };
      }),
    [edges, view.highlight, view.editable, t],
  );

  const isValidConnection: IsValidConnection = useCallback(
    (connection) => connection.target !== ENTRY_ID && !wouldLoop(edges.filter((e) => !(e.source === connection.source && e.sourceHandle === connection.sourceHandle)), connection.source, connection.target),
    [edges],
  );

  const onSelectionChange = useCallback(
    ({ nodes: picked }: OnSelectionChangeParams) => onSelect(picked.length === 1 ? (picked[0]?.id ?? null) : null),
    [onSelect],
  );

  function onDragOver(event: DragEvent) {
    if (!view.editable) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  }

  function onDrop(event: DragEvent) {
    if (!view.editable) return;
    const type = event.dataTransfer.getData(DRAG_TYPE);
    if (!type) return;
    event.preventDefault();
    const position = screenToFlowPosition({ x: event.clientX, y: event.clientY });
    onDropKind(type as NodeType, { x: position.x - NODE_WIDTH / 2, y: position.y - 30 });
  }

  return (
    <ViewContext.Provider value={view}>
      <Box
        ref={box}
        h={phone ? '62vh' : 640}
        style={{ border: '1px solid var(--mantine-color-gray-3)', borderRadius: 8, overflow: 'hidden', background: 'var(--mantine-color-gray-0)' }}
        onDragOver={onDragOver}
        onDrop={onDrop}
        data-testid="journey-canvas"
        role="application"
        aria-label={t('journeys.canvas.label')}
      >
        <ReactFlow<FlowNode, Edge>
          nodes={nodes}
          edges={shownEdges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={onConnect}
          onNodeDragStop={(_, __, dragged) => onNodeDragStop(dragged)}
          onSelectionChange={onSelectionChange}
          isValidConnection={isValidConnection}
          nodesDraggable={view.editable}
          nodesConnectable={view.editable}
          elementsSelectable
          deleteKeyCode={view.editable ? ['Backspace', 'Delete'] : null}
          minZoom={0.2}
          maxZoom={1.5}
          attributionPosition="top-right"
        >
          <InitialView box={box} />
          <Background gap={20} />
          <Controls showInteractive={false} position="bottom-left" />
          {!phone && <MiniMap pannable zoomable position="bottom-right" nodeStrokeWidth={3} style={{ width: 140, height: 100 }} />}
        </ReactFlow>
      </Box>
    </ViewContext.Provider>
  );
}
