/**
 * A journey definition (docs/journeys.md, src/sampan/journeys/definition.py) and the canvas:
 * pure functions from the JSON graph to @xyflow/react nodes and edges and back.
 *
 * The round trip is exact: `fromFlow(toFlow(definition))` deep-equals the definition, keys in
 * the same order, so a journey opened and saved unchanged PUTs the same JSON. Each canvas node
 * carries its definition node as it was (`data.node`); edges hold the ways out (`next`,
 * `on_event`, `on_timeout`, `yes`, `no`, `paths[i].next`) and the entry's `start`. A way out
 * the canvas has no edge for is written as it came when it was `null`, and left out otherwise
 * (the user removed the edge or its target). Positions are written only for nodes the user
 * placed (`data.moved`).
 */
import type { Edge, Node } from '@xyflow/react';
import type { Json } from '../../api';

export type JsonObject = { [key: string]: Json };

/** A node of the definition: an id, a type and the type's settings. */
export type DefNode = JsonObject & { id: string; type: string };

/** A definition: entry, rules, `start` and `nodes`. */
export type Definition = JsonObject;

/** The canvas node that stands for the entry (what starts a run); not a definition node. */
export const ENTRY_ID = '@entry';
export const START_HANDLE = 'start';

export const NODE_TYPES = [
  'wait',
  'wait_until',
  'wait_for_event',
  'branch',
  'split',
  'holdout',
  'send',
  'update_profile',
  'coupon',
  'task',
  'emit',
  'exit',
] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export const ENTRY_TYPES = ['event', 'segment', 'date', 'schedule'] as const;

export interface StepData extends Record<string, unknown> {
  /** The definition node as it is now (ways out as they came: see fromFlow). */
  node: DefNode;
  /** Placed or moved by the user: its position is written back. */
  moved?: boolean;
}
export type EntryData = Record<string, unknown>;
export type StepNode = Node<StepData, 'step'>;
export type EntryNode = Node<EntryData, 'entry'>;
export type FlowNode = StepNode | EntryNode;

export interface Flow {
  /** The definition without anything the canvas holds: kept for its other keys and order. */
  base: Definition;
  nodes: FlowNode[];
  edges: Edge[];
}

/** One way out of a node: the handle's id (the field), and the outcome a run takes through it. */
export interface Output {
  handle: string;
  outcome: string;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isStep(node: FlowNode): node is StepNode {
  return node.type === 'step';
}

/** The definition's nodes that have an id and a type (others are left to the server to name). */
export function definitionNodes(definition: Definition): DefNode[] {
  const nodes = definition.nodes;
  if (!Array.isArray(nodes)) return [];
  return nodes.filter((node): node is DefNode => isObject(node) && typeof node.id === 'string' && typeof node.type === 'string');
}

/** Every way out of a node, in the order the canvas draws them (left to right). */
export function outputsOf(node: DefNode): Output[] {
  switch (node.type) {
    case 'wait_for_event':
      return [
        { handle: 'on_event', outcome: 'event' },
        { handle: 'on_timeout', outcome: 'timeout' },
      ];
    case 'branch':
      return [
        { handle: 'yes', outcome: 'yes' },
        { handle: 'no', outcome: 'no' },
      ];
    case 'split': {
      const paths = Array.isArray(node.paths) ? node.paths : [];
      return paths.map((path, index) => ({
        handle: `paths.${index}`,
        outcome: isObject(path) && typeof path.name === 'string' ? path.name : String(index + 1),
      }));
    }
    case 'holdout':
      return [{ handle: 'next', outcome: 'treated' }];
    case 'exit':
      return [];
    default:
      return [{ handle: 'next', outcome: 'next' }];
  }
}

/** The value a way out holds in the node: a node id, null, or undefined when the key is absent. */
export function targetOf(node: DefNode, handle: string): Json | undefined {
  const path = /^paths\.(\d+)$/.exec(handle);
  if (path) {
    const paths = Array.isArray(node.paths) ? node.paths : [];
    const item = paths[Number(path[1])];
    return isObject(item) ? item.next : undefined;
  }
  return node[handle];
}

/** A copy of the node with one way out set to a node id, or removed (`null` target). */
export function withTarget(node: DefNode, handle: string, target: string | null): DefNode {
  const path = /^paths\.(\d+)$/.exec(handle);
  if (path) {
    const index = Number(path[1]);
    const paths = Array.isArray(node.paths) ? [...node.paths] : [];
    const item = paths[index];
    if (!isObject(item)) return node;
    const copy: JsonObject = { ...item };
    if (target === null) delete copy.next;
    else copy.next = target;
    paths[index] = copy;
    return { ...node, paths };
  }
  const copy: DefNode = { ...node };
  if (target === null) delete copy[handle];
  else copy[handle] = target;
  return copy;
}

export function edgeId(source: string, handle: string): string {
  return `${source}|${handle}`;
}

// -- layout ----------------------------------------------------------------------------------

/** Canvas pixels per stored unit: playbooks place nodes 120 apart, the cards are taller. */
export const SCALE = { x: 1.1, y: 1.4 };
const ROW = 170;
const COLUMN = 280;

export interface XY {
  x: number;
  y: number;
}

function storedPosition(node: DefNode): XY | null {
  const position = node.position;
  if (!isObject(position) || typeof position.x !== 'number' || typeof position.y !== 'number') return null;
  return { x: position.x * SCALE.x, y: position.y * SCALE.y };
}

/** The position to store for a canvas position (whole units). */
export function toStored(position: XY): { x: number; y: number } {
  return { x: Math.round(position.x / SCALE.x), y: Math.round(position.y / SCALE.y) };
}

/**
 * Canvas positions for every node: the stored one when there is one, else a layered layout
 * top to bottom by the longest way from the start (no loops in a valid graph; a loop is cut).
 * The entry sits above the start node.
 */
export function layout(definition: Definition): Map<string, XY> {
  const nodes = definitionNodes(definition);
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const depth = new Map<string, number>();
  const start = typeof definition.start === 'string' && byId.has(definition.start) ? definition.start : null;
  if (start) {
    // Longest path by relaxation, bounded so that a loop cannot run forever.
    depth.set(start, 0);
    let changed = true;
    for (let round = 0; changed && round <= nodes.length; round += 1) {
      changed = false;
      for (const node of nodes) {
        const here = depth.get(node.id);
        if (here === undefined) continue;
        for (const output of outputsOf(node)) {
          const target = targetOf(node, output.handle);
          if (typeof target !== 'string' || !byId.has(target) || target === start) continue;
          if ((depth.get(target) ?? -1) < here + 1) {
            depth.set(target, Math.min(here + 1, nodes.length));
            changed = true;
          }
        }
      }
    }
  }
  const deepest = Math.max(-1, ...depth.values());
  const rows = new Map<number, DefNode[]>();
  for (const node of nodes) {
    const row = depth.get(node.id) ?? deepest + 1;
    rows.set(row, [...(rows.get(row) ?? []), node]);
  }
  const positions = new Map<string, XY>();
  for (const [row, members] of rows) {
    members.forEach((node, index) => {
      positions.set(node.id, storedPosition(node) ?? { x: (index - (members.length - 1) / 2) * COLUMN, y: row * ROW });
    });
  }
  const first = start ? positions.get(start) : undefined;
  positions.set(ENTRY_ID, first ? { x: first.x, y: first.y - ROW } : { x: 0, y: -ROW });
  return positions;
}

// -- the round trip ---------------------------------------------------------------------------

/** The canvas of a definition. `previous` keeps positions of nodes already on the canvas. */
export function toFlow(definition: Definition, previous?: Map<string, XY>): Flow {
  const nodes = definitionNodes(definition);
  const ids = new Set(nodes.map((node) => node.id));
  const positions = layout(definition);
  const at = (id: string): XY => previous?.get(id) ?? positions.get(id) ?? { x: 0, y: 0 };
  const flowNodes: FlowNode[] = [
    { id: ENTRY_ID, type: 'entry', position: at(ENTRY_ID), data: {}, deletable: false },
    ...nodes.map((node): StepNode => ({ id: node.id, type: 'step', position: at(node.id), data: { node } })),
  ];
  const edges: Edge[] = [];
  if (typeof definition.start === 'string' && ids.has(definition.start)) {
    edges.push({ id: edgeId(ENTRY_ID, START_HANDLE), source: ENTRY_ID, sourceHandle: START_HANDLE, target: definition.start });
  }
  for (const node of nodes) {
    for (const output of outputsOf(node)) {
      const target = targetOf(node, output.handle);
      if (typeof target === 'string' && ids.has(target)) {
        edges.push({ id: edgeId(node.id, output.handle), source: node.id, sourceHandle: output.handle, target });
      }
    }
  }
  return { base: definition, nodes: flowNodes, edges };
}

/** The definition the canvas shows: see the module's comment for what is written how. */
export function fromFlow(flow: Flow): Definition {
  const steps = flow.nodes.filter(isStep);
  const ids = new Set(steps.map((node) => node.id));
  const out = new Map<string, string>();
  for (const edge of flow.edges) {
    if (ids.has(edge.target) || edge.source === ENTRY_ID) {
      out.set(edgeId(edge.source, edge.sourceHandle ?? ''), edge.target);
    }
  }
  const definition: Definition = { ...flow.base };
  const start = out.get(edgeId(ENTRY_ID, START_HANDLE));
  if (start !== undefined && ids.has(start)) definition.start = start;
  else delete definition.start;
  definition.nodes = steps.map((step) => {
    let node = step.data.node;
    for (const output of outputsOf(node)) {
      const target = out.get(edgeId(node.id, output.handle));
      if (target !== undefined) {
        if (targetOf(node, output.handle) !== target) node = withTarget(node, output.handle, target);
      } else if (typeof targetOf(node, output.handle) === 'string') {
        node = withTarget(node, output.handle, null);
      }
    }
    if (step.data.moved) {
      const stored = toStored(step.position);
      const current = node.position;
      if (!isObject(current) || current.x !== stored.x || current.y !== stored.y) node = { ...node, position: stored };
    }
    return node;
  });
  return definition;
}

/** JSON with keys sorted: equal for deep-equal values, to tell whether anything changed. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((key) => value[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${stableStringify(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

// -- editing ------------------------------------------------------------------------------------

/** A new node id for a type that no node has yet: `send-1`, `send-2`... */
export function newNodeId(type: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const stem = type.replace(/_/g, '-');
  for (let n = 1; ; n += 1) {
    const id = `${stem}-${n}`;
    if (!used.has(id)) return id;
  }
}

/** A node of a type with settings that make sense to start from. */
export function newNode(type: NodeType, id: string, label: string): DefNode {
  const node: DefNode = { id, type, label };
  switch (type) {
    case 'wait':
      return { ...node, duration: '1d' };
    case 'wait_until':
      return { ...node, time: '09:00' };
    case 'wait_for_event':
      return { ...node, event: 'Order Completed', timeout: '1d' };
    case 'branch':
      return { ...node, condition: { identity: 'line_user_id' } };
    case 'split':
      return {
        ...node,
        paths: [
          { name: 'A', weight: 50 },
          { name: 'B', weight: 50 },
        ],
      };
    case 'holdout':
      return { ...node, percent: 10 };
    case 'send':
      return { ...node, template: '', channels: [] };
    case 'update_profile':
      return { ...node, traits: {} };
    case 'coupon':
      return { ...node, percent: 10, prefix: '', valid_days: 7 };
    case 'task':
      return { ...node, team: '', title: '' };
    case 'emit':
      return { ...node, event: '', properties: {} };
    default:
      return node;
  }
}

/** The first way out of a node that leads nowhere yet, if any. */
export function freeOutput(node: DefNode, edges: Edge[]): Output | null {
  for (const output of outputsOf(node)) {
    if (!edges.some((edge) => edge.source === node.id && edge.sourceHandle === output.handle)) return output;
  }
  return null;
}

/** Whether an edge source → target would close a loop (target already leads to source). */
export function wouldLoop(edges: Edge[], source: string, target: string): boolean {
  if (source === target) return true;
  const seen = new Set<string>();
  const stack = [target];
  while (stack.length) {
    const id = stack.pop() as string;
    if (id === source) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const edge of edges) if (edge.source === id) stack.push(edge.target);
  }
  return false;
}

// -- problems -----------------------------------------------------------------------------------

const ENTRY_FIELDS = /^(entry|reentry|goal|exit|start|max_entries|migrate_runs)(?=$|[.[])/;

export interface PlacedProblem {
  path: string;
  message: string;
  /** The canvas node it belongs to (ENTRY_ID for entry and journey rules), or null. */
  nodeId: string | null;
  /** The node's field it names (`template`, `paths`...), or the whole path for the entry. */
  field: string | null;
}

/** Put each problem on the node its path names (`nodes[2].template`), by the ids sent. */
export function placeProblems(problems: { path: string; message: string }[], sentIds: (string | null)[]): PlacedProblem[] {
  return problems.map((problem) => {
    const found = /^nodes\[(\d+)\](?:\.([A-Za-z_]+))?/.exec(problem.path);
    if (found) {
      const id = sentIds[Number(found[1])] ?? null;
      return { ...problem, nodeId: id, field: id ? found[2] ?? null : null };
    }
    if (ENTRY_FIELDS.test(problem.path)) return { ...problem, nodeId: ENTRY_ID, field: problem.path };
    return { ...problem, nodeId: null, field: null };
  });
}

/** The ids of the definition's nodes by position, as sent for validation. */
export function sentNodeIds(definition: Definition): (string | null)[] {
  const nodes = definition.nodes;
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => (isObject(node) && typeof node.id === 'string' ? node.id : null));
}

// -- a run's path on the canvas ------------------------------------------------------------------

/** The nodes and edges a path of steps went through (simulated or real), entry included. */
export function pathHighlight(
  known: Set<string>,
  edges: Edge[],
  steps: { node_id: string }[],
): { nodes: Set<string>; edges: Set<string> } {
  const nodeIds = new Set<string>([ENTRY_ID]);
  const edgeIds = new Set<string>();
  const visited: string[] = [ENTRY_ID];
  for (const step of steps) {
    if (!known.has(step.node_id)) continue;
    nodeIds.add(step.node_id);
    if (visited[visited.length - 1] !== step.node_id) visited.push(step.node_id);
  }
  for (let i = 1; i < visited.length; i += 1) {
    const edge = edges.find((e) => e.source === visited[i - 1] && e.target === visited[i]);
    if (edge) edgeIds.add(edge.id);
  }
  return { nodes: nodeIds, edges: edgeIds };
}
