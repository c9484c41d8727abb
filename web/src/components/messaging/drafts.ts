/**
 * The template editor's model: each channel kind's content as editable strings (a draft), and
 * back to the content shape the server stores. JSON typed by hand is parsed here, so a broken
 * JSON field is reported on that field and never sent.
 */
import type { Json } from '../../api';
import type { Bodies, JsonObject, Language } from '../../pages/messaging/types';

export interface LineMessageDraft {
  key: number;
  /** 'text': a plain text message edited in a text box; 'json': any LINE message object */
  mode: 'text' | 'json';
  text: string;
  json: string;
}

export type BodyDraft =
  | { type: 'line'; messages: LineMessageDraft[] }
  | { type: 'email'; subject: string; text: string; html: string }
  | { type: 'sms'; text: string }
  | { type: 'facebook'; mode: 'text' | 'json'; text: string; json: string }
  | { type: 'push'; title: string; body: string; url: string; icon: string; rest: JsonObject }
  | { type: 'json'; root: string; json: string };

export type DraftBodies = Partial<Record<string, Partial<Record<Language, BodyDraft>>>>;

/** A problem with one field of one body: `field` is the editor's field key (see fieldOf). */
export interface FieldProblem {
  kind: string;
  language: Language;
  field: string;
  message: string;
}

let nextKey = 1;
export function newKey(): number {
  nextKey += 1;
  return nextKey;
}

const pretty = (value: Json | undefined) => JSON.stringify(value ?? {}, null, 2);

function isObject(value: unknown): value is JsonObject {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function str(value: Json | undefined): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

export function lineMessageDraft(message: Json): LineMessageDraft {
  if (isObject(message) && message.type === 'text' && Object.keys(message).every((k) => k === 'type' || k === 'text')) {
    return { key: newKey(), mode: 'text', text: str(message.text), json: '' };
  }
  return { key: newKey(), mode: 'json', text: '', json: pretty(message) };
}

/** Starting points for LINE messages edited as JSON. */
export const LINE_SAMPLES: Record<'flex' | 'image' | 'sticker', JsonObject> = {
  flex: {
    type: 'flex',
    altText: 'โปรโมชันเดือนนี้',
    contents: {
      type: 'bubble',
      body: {
        type: 'box',
        layout: 'vertical',
        contents: [
          { type: 'text', text: 'ลด 20% ทั้งร้าน', weight: 'bold', size: 'xl' },
          { type: 'text', text: 'คุณ{{ profile.firstName or "ลูกค้า" }} ใช้โค้ด {{ coupon_code }}', wrap: true },
        ],
      },
      footer: {
        type: 'box',
        layout: 'vertical',
        contents: [{ type: 'button', style: 'primary', action: { type: 'uri', label: 'ช้อปเลย', uri: 'https://shop.example/sale' } }],
      },
    },
  },
  image: {
    type: 'image',
    originalContentUrl: 'https://shop.example/images/sale.jpg',
    previewImageUrl: 'https://shop.example/images/sale-preview.jpg',
  },
  sticker: { type: 'sticker', packageId: '446', stickerId: '1988' },
};

/** The editor's draft of a stored body, or a blank one for a kind just added. */
export function draftFor(kind: string, content?: JsonObject): BodyDraft {
  const c = content ?? {};
  switch (kind) {
    case 'line': {
      const messages = Array.isArray(c.messages) ? c.messages : [];
      return {
        type: 'line',
        messages: messages.length ? messages.map(lineMessageDraft) : [{ key: newKey(), mode: 'text', text: '', json: '' }],
      };
    }
    case 'email':
      return { type: 'email', subject: str(c.subject), text: str(c.text), html: str(c.html) };
    case 'sms':
      return { type: 'sms', text: str(c.text) };
    case 'facebook': {
      const message = isObject(c.message) ? c.message : {};
      const plain = Object.keys(c).every((k) => k === 'message') && Object.keys(message).every((k) => k === 'text');
      return plain
        ? { type: 'facebook', mode: 'text', text: str(message.text), json: '' }
        : { type: 'facebook', mode: 'json', text: '', json: pretty(c) };
    }
    case 'push': {
      const { title, body, url, icon, ...rest } = c;
      return { type: 'push', title: str(title), body: str(body), url: str(url), icon: str(icon), rest };
    }
    case 'webhook':
      return { type: 'json', root: 'payload', json: pretty(isObject(c.payload) ? c.payload : {}) };
    default:
      return { type: 'json', root: '', json: pretty(c) };
  }
}

type Built = { content: JsonObject; problems: { field: string; message: string }[] };

function parseJson(text: string, field: string, problems: Built['problems']): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    problems.push({ field, message: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}

/** The content a draft stands for, and the fields that cannot be turned into it yet. */
export function contentOf(draft: BodyDraft): Built {
  const problems: Built['problems'] = [];
  switch (draft.type) {
    case 'line': {
      const messages: Json[] = [];
      draft.messages.forEach((message, index) => {
        if (message.mode === 'text') {
          messages.push({ type: 'text', text: message.text });
          return;
        }
        const parsed = parseJson(message.json, `messages[${index}]`, problems);
        if (parsed !== undefined) {
          if (!isObject(parsed)) problems.push({ field: `messages[${index}]`, message: 'JSON object expected' });
          messages.push(parsed);
        }
      });
      return { content: { messages }, problems };
    }
    case 'email': {
      const content: JsonObject = { subject: draft.subject, text: draft.text };
      if (draft.html.trim()) content.html = draft.html;
      return { content, problems };
    }
    case 'sms':
      return { content: { text: draft.text }, problems };
    case 'facebook': {
      if (draft.mode === 'text') return { content: { message: { text: draft.text } }, problems };
      const parsed = parseJson(draft.json, 'message', problems);
      if (parsed !== undefined && !isObject(parsed)) problems.push({ field: 'message', message: 'JSON object expected' });
      return { content: isObject(parsed) ? parsed : {}, problems };
    }
    case 'push': {
      const content: JsonObject = { ...draft.rest, title: draft.title, body: draft.body };
      if (draft.url.trim()) content.url = draft.url.trim();
      if (draft.icon.trim()) content.icon = draft.icon.trim();
      return { content, problems };
    }
    case 'json': {
      const parsed = parseJson(draft.json, 'json', problems);
      if (parsed !== undefined && !isObject(parsed)) problems.push({ field: 'json', message: 'JSON object expected' });
      const value = isObject(parsed) ? parsed : {};
      return { content: draft.root ? { [draft.root]: value } : value, problems };
    }
  }
}

/** Whether nothing has been written in a draft yet (no preview is asked for then). */
export function isBlank(draft: BodyDraft): boolean {
  switch (draft.type) {
    case 'line':
      return draft.messages.every((m) => (m.mode === 'text' ? !m.text.trim() : !m.json.trim()));
    case 'email':
      return !draft.subject.trim() && !draft.text.trim() && !draft.html.trim();
    case 'sms':
      return !draft.text.trim();
    case 'facebook':
      return draft.mode === 'text' ? !draft.text.trim() : !draft.json.trim();
    case 'push':
      return !draft.title.trim() && !draft.body.trim();
    case 'json':
      return !draft.json.trim();
  }
}

/** Every body of the template as the server takes it, and the problems found on the way. */
export function buildBodies(drafts: DraftBodies): { bodies: Bodies; problems: FieldProblem[] } {
  const bodies: Bodies = {};
  const problems: FieldProblem[] = [];
  for (const [kind, languages] of Object.entries(drafts)) {
    if (!languages) continue;
    for (const [language, draft] of Object.entries(languages) as [Language, BodyDraft | undefined][]) {
      if (!draft) continue;
      const built = contentOf(draft);
      for (const problem of built.problems) problems.push({ kind, language, ...problem });
      bodies[kind] = { ...bodies[kind], [language]: built.content };
    }
  }
  return { bodies, problems };
}

/** The editor field a server path inside one body names, e.g. "messages[0].text" → "messages[0]". */
export function fieldOf(draft: BodyDraft, path: string): string {
  const first = /^([A-Za-z_]+)(\[\d+\])?/.exec(path);
  if (!first) return draft.type === 'json' ? 'json' : '';
  switch (draft.type) {
    case 'line':
      return first[2] ? `messages${first[2]}` : 'messages';
    case 'facebook':
      return draft.mode === 'text' ? 'text' : 'message';
    case 'json':
      return 'json';
    default:
      return first[1] ?? '';
  }
}

/**
 * Split a server message such as "bodies.sms.th.text: line 1: unexpected end of template"
 * into the body and the path inside it, and the message itself.
 */
export function parseBodyError(message: string): { kind: string; language: Language; path: string; message: string } | null {
  const match = /^bodies\.([a-z_]+)\.(th|en)((?:\.[A-Za-z_][\w]*|\[\d+\])*): ([\s\S]*)$/.exec(message);
  if (!match) return null;
  return {
    kind: match[1] ?? '',
    language: match[2] as Language,
    path: (match[3] ?? '').replace(/^\./, ''),
    message: match[4] ?? message,
  };
}

/** A server error about one kind as a whole ("bodies.fax: kind must be ..."). */
export function parseKindError(message: string): string | null {
  return /^bodies\.([a-z_]+): /.exec(message)?.[1] ?? null;
}
