/** Shapes of the messaging API's answers (/api/messaging), as the templates and campaigns screens read them. */
import type { Json } from '../../api';

export type Category = 'marketing' | 'transactional';
export type Language = 'th' | 'en';

/** The channel kinds the server knows (registry.KINDS), in the order the editor shows them. */
export const KINDS = ['line', 'sms', 'email', 'facebook', 'push', 'webhook'] as const;
export type Kind = (typeof KINDS)[number];
export const LANGUAGES: Language[] = ['th', 'en'];

export type JsonObject = { [key: string]: Json };

/** {kind: {language: content}} */
export type Bodies = Partial<Record<string, Partial<Record<Language, JsonObject>>>>;

export interface Template {
  id: string;
  name: string;
  category: Category;
  bodies: Bodies;
  created_at: string;
  updated_at: string;
}

export interface TemplateInput {
  name: string;
  category: Category;
  bodies: Bodies;
}

/** POST /api/messaging/templates/preview (unsaved bodies) or /templates/{name}/preview */
export interface PreviewAnswer {
  kind: string;
  language: Language;
  content: JsonObject;
  sms_parts: number | null;
  sms_encoding: 'GSM-7' | 'UCS-2' | null;
  /** the text's length in its encoding: GSM-7 septets or UTF-16 code units */
  sms_units?: number | null;
}

export interface Channel {
  id: string;
  name: string;
  kind: string;
  config: JsonObject;
  enabled: boolean;
  rate_per_second: number | null;
  webhook_url: string | null;
  created_at: string;
  updated_at: string;
}

export type CampaignStatus = 'draft' | 'scheduled' | 'sending' | 'sent' | 'cancelled';

export interface Variant {
  name: string;
  /** a template's name or id in a request; its id in an answer */
  template: string;
  weight: number;
}

export interface CampaignInput {
  name: string;
  segment_id: string;
  channels: string[];
  category: Category;
  variants: Variant[];
  control_percent: number;
  scheduled_at: string | null;
  attribution_days: number;
  conversion_event: string;
}

export interface Campaign extends CampaignInput {
  id: string;
  status: CampaignStatus;
  launched_at: string | null;
  created_at: string;
}

export interface ArmStats {
  arm: string;
  targeted: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
  suppressed: number;
  failed: number;
  converted: number;
  revenue: number;
  conversion_rate: number;
}

export interface Uplift {
  arm: string;
  absolute: number;
  relative: number | null;
  ci_low: number;
  ci_high: number;
  p_value: number | null;
}

export interface CampaignStats {
  campaign_id: string;
  arms: ArmStats[];
  uplift: Uplift[];
}

export const CONTROL = 'control';
