/** Shapes of the journeys API's answers (src/sampan/journeys/schemas.py). */
import type { Json } from '../../api';

export type JourneyStatus = 'draft' | 'live' | 'paused' | 'archived';
export type RunStatus = 'active' | 'completed' | 'exited' | 'held_out' | 'failed';

/** A journey definition as JSON: entry, rules and the node graph (docs/journeys.md). */
export type JsonObject = { [key: string]: Json };

export interface JourneyOut {
  id: string;
  name: string;
  description: string;
  status: JourneyStatus;
  /** The version now published; 0 before the first publish. */
  version: number;
  draft: JsonObject;
  playbook: string | null;
  created_at: string;
  updated_at: string;
}

export interface ProblemOut {
  path: string;
  message: string;
}

export interface ValidationOut {
  valid: boolean;
  problems: ProblemOut[];
}

export interface NodeCounts {
  node_id: string;
  type: string;
  entered: number;
  waiting: number;
  outcomes: Record<string, number>;
  converted: Record<string, number>;
  messages: Record<string, number>;
}

export interface ArmOut {
  arm: string;
  runs: number;
  converted: number;
  conversion_rate: number;
  revenue: number;
}

export interface JourneyMetrics {
  journey_id: string;
  entered: number;
  active: number;
  waiting: number;
  completed: number;
  exited: number;
  held_out: number;
  failed: number;
  nodes: NodeCounts[];
  arms: ArmOut[];
  uplift: { arm: string; absolute: number; relative: number | null; ci_low: number; ci_high: number; p_value: number | null }[];
  messages: Record<string, number>;
}

export interface StepOut {
  node_id: string;
  outcome: string;
  detail: string | null;
  at: string;
}

export interface RunOut {
  id: string;
  journey_id: string;
  version: number;
  profile_id: string;
  status: RunStatus;
  node_id: string | null;
  waiting: boolean;
  due_at: string | null;
  entry_key: string | null;
  entered_at: string;
  finished_at: string | null;
  reason: string | null;
  goal_at: string | null;
  revenue: number | null;
  path: string | null;
  steps: StepOut[];
}

export interface PlaybookOut {
  key: string;
  /** "ไทย / English" */
  name: string;
  /** "ไทย. English." */
  description: string;
  entry: 'event' | 'segment' | 'date' | 'schedule';
  nodes: number;
  templates: string[];
  /** channel kinds its sends use (line, email, sms); missing on older servers */
  channels?: string[];
  /** event names it reacts to; missing on older servers */
  events?: string[];
}

export interface SimulatedStep {
  node_id: string;
  outcome: string;
  detail: string | null;
  at: string;
  offset: string;
}

export interface SimulatedMessage {
  node_id: string;
  at: string;
  offset: string;
  template: string;
  channels: string[];
  category: string;
  coupon_code: string | null;
  preview: Record<string, Json>;
}

export interface SimulationOut {
  status: 'completed' | 'exited' | 'held_out' | 'failed' | 'waiting';
  reason: string | null;
  converted_at: string | null;
  path: SimulatedStep[];
  messages: SimulatedMessage[];
  events: { type: string; event: string | null; traits: Record<string, Json> | null }[];
  coupons: string[];
  tasks: string[];
}

export interface TemplateOut {
  id: string;
  name: string;
  category: 'marketing' | 'transactional';
  bodies: Record<string, Record<string, Json>>;
}

export interface ChannelOut {
  id: string;
  name: string;
  kind: string;
  enabled: boolean;
}

export interface Vocabulary {
  events: { name: string; people: number; properties: string[] }[];
}
