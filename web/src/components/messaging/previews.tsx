/**
 * What a customer would see: a LINE chat, an SMS with its segment count, an e-mail, a
 * Messenger chat, a push notification, a webhook's JSON. Every preview shows content the
 * server rendered; nothing here renders Jinja itself.
 */
import { Badge, Box, Code, Group, Paper, SimpleGrid, Stack, Tabs, Text } from '@mantine/core';
import thaiFontUrl from '@fontsource/noto-sans-thai/files/noto-sans-thai-thai-400-normal.woff2?url';
import { useEffect, useState } from 'react';
import type { CSSProperties, ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Json } from '../../api';
import { formatNumber } from '../../format';
import type { JsonObject, PreviewAnswer } from '../../pages/messaging/types';

const LINE_GREEN = '#06C755';
const LINE_BG = '#b6c8de';
/** Monospace for code, with the console's Thai font for Thai inside it (before the generic
 * family, which may claim Thai letters it draws as boxes). */
export const MONO_FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Noto Sans Thai', monospace";
const WRAP: CSSProperties = { whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', wordBreak: 'break-word' };

function isObject(value: unknown): value is JsonObject {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function text(value: Json | undefined): string {
  return typeof value === 'string' ? value : '';
}

function ImageIcon({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.6} aria-hidden="true">
      <rect x="3" y="4" width="18" height="16" rx="2" />
      <circle cx="9" cy="10" r="1.8" />
      <path d="M4 18l5-5 4 4 3-3 4 4" />
    </svg>
  );
}

function Placeholder({ label, detail, height = 120 }: { label: string; detail?: string; height?: number }) {
  return (
    <Stack
      gap={2}
      align="center"
      justify="center"
      style={{ height, background: 'var(--mantine-color-gray-1)', color: 'var(--mantine-color-gray-6)', borderRadius: 8 }}
      p="xs"
    >
      <ImageIcon />
      <Text size="xs" fw={600}>
        {label}
      </Text>
      {detail && (
        <Text size="10px" c="dimmed" ta="center" style={{ overflowWrap: 'anywhere' }} lineClamp={2}>
          {detail}
        </Text>
      )}
    </Stack>
  );
}

/** A phone-like frame with a title bar. */
export function PhoneFrame({
  title,
  color,
  background,
  children,
  testId,
}: {
  title: ReactNode;
  color: string;
  background: string;
  children: ReactNode;
  testId?: string;
}) {
  return (
    <Box
      data-testid={testId}
      style={{
        maxWidth: 340,
        width: '100%',
        margin: '0 auto',
        border: '8px solid #1f2328',
        borderRadius: 28,
        overflow: 'hidden',
        background,
        boxShadow: '0 4px 18px rgba(0,0,0,0.12)',
      }}
    >
      <Group justify="center" py={8} px="sm" style={{ background: color, color: '#fff' }}>
        <Text size="sm" fw={700} c="white" lineClamp={1}>
          {title}
        </Text>
      </Group>
      <Box p="sm" style={{ minHeight: 260 }}>
        {children}
      </Box>
    </Box>
  );
}

// -- LINE ------------------------------------------------------------------------------------

const FLEX_SIZES: Record<string, number> = { xxs: 10, xs: 11, sm: 13, md: 14, lg: 16, xl: 18, xxl: 22, '3xl': 26, '4xl': 30, '5xl': 34 };

function FlexNode({ node }: { node: Json }): ReactNode {
  const { t } = useTranslation();
  if (!isObject(node)) return null;
  switch (node.type) {
    case 'box': {
      const layout = node.layout === 'horizontal' || node.layout === 'baseline' ? 'row' : 'column';
      const contents = Array.isArray(node.contents) ? node.contents : [];
      return (
        <Box
          style={{
            display: 'flex',
            flexDirection: layout,
            gap: node.spacing ? 6 : 2,
            alignItems: layout === 'row' ? (node.layout === 'baseline' ? 'baseline' : 'center') : 'stretch',
            background: typeof node.backgroundColor === 'string' ? node.backgroundColor : undefined,
            padding: node.paddingAll ? 8 : undefined,
            borderRadius: node.cornerRadius ? 8 : undefined,
          }}
        >
          {contents.map((child, index) => (
            <Box key={index} style={{ flex: layout === 'row' ? 1 : undefined, minWidth: 0 }}>
              <FlexNode node={child} />
            </Box>
          ))}
        </Box>
      );
    }
    case 'text': {
      const spans = Array.isArray(node.contents) ? node.contents.map((s) => (isObject(s) ? text(s.text) : '')).join('') : '';
      return (
        <Text
          style={{
            ...(node.wrap ? WRAP : { whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }),
            fontSize: FLEX_SIZES[text(node.size)] ?? 14,
            fontWeight: node.weight === 'bold' ? 700 : 400,
            color: typeof node.color === 'string' ? node.color : '#111',
            textAlign: node.align === 'center' ? 'center' : node.align === 'end' ? 'right' : 'left',
          }}
        >
          {spans || text(node.text)}
        </Text>
      );
    }
    case 'button': {
      const action = isObject(node.action) ? node.action : {};
      const primary = node.style === 'primary';
      const secondary = node.style === 'secondary';
      return (
        <Box
          py={6}
          px="xs"
          my={2}
          style={{
            borderRadius: 6,
            textAlign: 'center',
            fontSize: 14,
            fontWeight: 600,
            background: primary ? (typeof node.color === 'string' ? node.color : LINE_GREEN) : secondary ? '#eef0f3' : 'transparent',
            color: primary ? '#fff' : '#42659a',
          }}
        >
          {text(action.label) || t('templates.preview.button')}
        </Box>
      );
    }
    case 'image':
      return <Placeholder label={t('templates.preview.image')} detail={text(node.url)} height={90} />;
    case 'icon':
      return <Box component="span" style={{ display: 'inline-block', width: 12, height: 12, borderRadius: 3, background: '#ccc' }} />;
    case 'separator':
      return <Box my={4} style={{ borderTop: '1px solid #ddd' }} />;
    case 'spacer':
    case 'filler':
      return <Box h={8} />;
    default:
      return null;
  }
}

function FlexBubble({ bubble }: { bubble: Json }) {
  if (!isObject(bubble)) return null;
  const sections = ['header', 'hero', 'body', 'footer'] as const;
  return (
    <Paper radius="lg" style={{ overflow: 'hidden', minWidth: 200, maxWidth: 240, flex: '0 0 auto', background: '#fff' }} data-testid="line-flex-bubble">
      {sections.map((section) =>
        bubble[section] ? (
          <Box key={section} p={section === 'hero' ? 0 : 'sm'}>
            <FlexNode node={bubble[section] as Json} />
          </Box>
        ) : null,
      )}
    </Paper>
  );
}

function LineMessage({ message }: { message: Json }) {
  const { t } = useTranslation();
  if (!isObject(message)) return null;
  const bubble = (children: ReactNode) => (
    <Paper px="sm" py={8} radius="lg" style={{ background: '#fff', maxWidth: '100%', borderTopLeftRadius: 4 }} data-testid="line-bubble">
      {children}
    </Paper>
  );
  switch (message.type) {
    case 'text':
      return bubble(
        <Text size="sm" style={WRAP} c="#111" data-testid="line-bubble-text">
          {text(message.text)}
        </Text>,
      );
    case 'image':
      return (
        <Box w={200} data-testid="line-image">
          <Placeholder label={t('templates.preview.image')} detail={text(message.previewImageUrl) || text(message.originalContentUrl)} height={150} />
        </Box>
      );
    case 'sticker':
      return (
        <Stack gap={2} align="center" justify="center" w={110} h={110} style={{ borderRadius: 12, border: '2px dashed rgba(0,0,0,0.2)' }} data-testid="line-sticker">
          <Text size="28px" aria-hidden="true">
            ☺
          </Text>
          <Text size="10px" c="dark.4" ta="center">
            {t('templates.preview.sticker', { pkg: text(message.packageId) || String(message.packageId ?? ''), id: text(message.stickerId) || String(message.stickerId ?? '') })}
          </Text>
        </Stack>
      );
    case 'flex': {
      const contents = isObject(message.contents) ? message.contents : {};
      const bubbles = contents.type === 'carousel' && Array.isArray(contents.contents) ? contents.contents : [contents];
      return (
        <Stack gap={4} style={{ maxWidth: '100%' }} data-testid="line-flex">
          <Group gap="xs" wrap="nowrap" style={{ overflowX: 'auto' }} pb={2}>
            {bubbles.map((b, index) => (
              <FlexBubble key={index} bubble={b} />
            ))}
          </Group>
          <Text size="10px" c="dark.5">
            {t('templates.preview.altText', { text: text(message.altText) })}
          </Text>
        </Stack>
      );
    }
    default:
      return bubble(
        <Text size="xs" c="dimmed">
          {t('templates.preview.unknownLine', { type: text(message.type) || '?' })}
        </Text>,
      );
  }
}

export function LinePreview({ content, title }: { content: JsonObject; title: string }) {
  const messages = Array.isArray(content.messages) ? content.messages : [];
  return (
    <PhoneFrame title={title} color={LINE_GREEN} background={LINE_BG} testId="line-preview">
      <Stack gap={6}>
        {messages.map((message, index) => (
          <Group key={index} gap={6} align="flex-start" wrap="nowrap">
            <Box
              aria-hidden="true"
              style={{
                width: 28,
                height: 28,
                borderRadius: '50%',
                background: LINE_GREEN,
                flex: '0 0 auto',
                visibility: index === 0 ? 'visible' : 'hidden',
              }}
            />
            <Box style={{ minWidth: 0, maxWidth: 'calc(100% - 34px)' }}>
              <LineMessage message={message} />
            </Box>
          </Group>
        ))}
      </Stack>
    </PhoneFrame>
  );
}

// -- SMS -------------------------------------------------------------------------------------

const LIMITS = { 'GSM-7': [160, 153], 'UCS-2': [70, 67] } as const;

export function SmsPreview({ answer, sender }: { answer: PreviewAnswer; sender: string }) {
  const { t, i18n } = useTranslation();
  const body = text(answer.content.text);
  const encoding = answer.sms_encoding ?? 'GSM-7';
  const [single, perPart] = LIMITS[encoding];
  // The server counts in the encoding's units; only an old server leaves it out.
  const units = answer.sms_units ?? [...body].length;
  const parts = answer.sms_parts ?? 1;
  const tracked = body.includes('/t/c/');
  return (
    <Stack gap="sm">
      <PhoneFrame title={sender} color="#3b4650" background="#f4f5f7" testId="sms-preview">
        <Paper px="sm" py={8} radius="lg" bg="gray.3" style={{ maxWidth: '88%', borderTopLeftRadius: 4 }}>
          <Text size="sm" style={WRAP} data-testid="sms-rendered">
            {body}
          </Text>
        </Paper>
      </PhoneFrame>
      <SimpleGrid cols={3} spacing="xs">
        <Figure label={t('templates.preview.smsChars')} value={formatNumber(units, i18n.language)} raw={units} testId="sms-chars" />
        <Figure
          label={t('templates.preview.smsEncoding')}
          value={encoding}
          sub={encoding === 'UCS-2' ? t('templates.preview.ucs2') : t('templates.preview.gsm7')}
          raw={encoding}
          testId="sms-encoding"
        />
        <Figure label={t('templates.preview.smsParts')} value={formatNumber(parts, i18n.language)} raw={parts} testId="sms-parts" strong />
      </SimpleGrid>
      <Text size="xs" c="dimmed">
        {t('templates.preview.smsRule', { encoding, single, perPart })}
        {tracked ? ` ${t('templates.preview.smsTracked')}` : ''}
      </Text>
    </Stack>
  );
}

function Figure({
  label,
  value,
  raw,
  testId,
  strong,
  sub,
}: {
  label: string;
  value: string;
  raw: string | number;
  testId: string;
  strong?: boolean;
  sub?: string;
}) {
  return (
    <Paper withBorder p="xs" radius="md" data-testid={testId} data-value={raw}>
      <Text size="xs" c="dimmed" lineClamp={1}>
        {label}
      </Text>
      <Text fw={700} size={strong ? 'xl' : 'md'} c={strong ? 'teal.8' : undefined} lineClamp={1}>
        {value}
      </Text>
      {sub && (
        <Text size="xs" c="dimmed" lineClamp={1}>
          {sub}
        </Text>
      )}
    </Paper>
  );
}

// -- e-mail ----------------------------------------------------------------------------------

let thaiFont: Promise<string | null> | null = null;

/**
 * The console's Thai font as a data: URL. The sandboxed frame has no origin, so it can load
 * no font from the console; without one, a computer lacking a Thai system font shows boxes.
 */
function thaiFontData(): Promise<string | null> {
  thaiFont ??= fetch(thaiFontUrl)
    .then((response) => (response.ok ? response.blob() : null))
    .then(
      (blob) =>
        new Promise<string | null>((resolve) => {
          if (!blob) return resolve(null);
          const reader = new FileReader();
          reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : null);
          reader.onerror = () => resolve(null);
          reader.readAsDataURL(blob);
        }),
    )
    .catch(() => null);
  return thaiFont;
}

/** The e-mail's HTML with a fallback font for Thai letters only, put in its head. */
function withThaiFallback(html: string, font: string | null): string {
  if (!font) return html;
  const style =
    `<style>@font-face{font-family:'Sampan Preview Thai';src:url(${font});unicode-range:U+0E00-0E7F;}` +
    `body{font-family:'Sampan Preview Thai',system-ui,sans-serif;}</style>`;
  const head = /<head[^>]*>/i.exec(html);
  if (head) return html.slice(0, head.index + head[0].length) + style + html.slice(head.index + head[0].length);
  if (/^\s*<!doctype/i.test(html)) return html.replace(/^(\s*<!doctype[^>]*>)/i, `$1${style}`);
  return style + html;
}

export function EmailPreview({ content, sender }: { content: JsonObject; sender: string }) {
  const { t } = useTranslation();
  const html = text(content.html);
  const [font, setFont] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void thaiFontData().then((data) => {
      if (live) setFont(data);
    });
    return () => {
      live = false;
    };
  }, []);
  return (
    <Paper withBorder radius="md" data-testid="email-preview" style={{ overflow: 'hidden' }}>
      <Stack gap={4} p="sm" style={{ borderBottom: '1px solid var(--mantine-color-gray-3)' }} bg="gray.0">
        <Group gap="xs" wrap="nowrap" align="baseline">
          <Text size="xs" c="dimmed" w={56} style={{ flex: '0 0 auto' }}>
            {t('templates.preview.from')}
          </Text>
          <Text size="sm" style={{ overflowWrap: 'anywhere' }} data-testid="email-from">
            {sender}
          </Text>
        </Group>
        <Group gap="xs" wrap="nowrap" align="baseline">
          <Text size="xs" c="dimmed" w={56} style={{ flex: '0 0 auto' }}>
            {t('templates.preview.subject')}
          </Text>
          <Text size="sm" fw={700} style={{ overflowWrap: 'anywhere' }} data-testid="email-preview-subject">
            {text(content.subject)}
          </Text>
        </Group>
      </Stack>
      <Tabs defaultValue={html ? 'html' : 'text'} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="html" disabled={!html} data-testid="email-tab-html">
            {t('templates.preview.html')}
          </Tabs.Tab>
          <Tabs.Tab value="text" data-testid="email-tab-text">
            {t('templates.preview.textPart')}
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="html">
          {/* sandbox="": no scripts, no forms, no navigation, no same-origin access */}
          <iframe
            title={t('templates.preview.htmlFrame')}
            sandbox=""
            srcDoc={withThaiFallback(html, font)}
            data-testid="email-html-frame"
            style={{ width: '100%', height: 380, border: 0, background: '#fff', display: 'block' }}
          />
        </Tabs.Panel>
        <Tabs.Panel value="text">
          <Text size="sm" p="sm" style={WRAP} ff={MONO_FONT} data-testid="email-text-part">
            {text(content.text)}
          </Text>
        </Tabs.Panel>
      </Tabs>
    </Paper>
  );
}

// -- Messenger, push, webhook ----------------------------------------------------------------

export function MessengerPreview({ content, title }: { content: JsonObject; title: string }) {
  const { t } = useTranslation();
  const message = isObject(content.message) ? content.message : {};
  const replies = Array.isArray(content.quick_replies) ? content.quick_replies : [];
  const attachment = isObject(message.attachment) ? message.attachment : null;
  return (
    <PhoneFrame title={title} color="#0866ff" background="#fff" testId="facebook-preview">
      <Stack gap="xs" align="flex-start">
        {attachment ? (
          <Box w={200}>
            <Placeholder
              label={t('templates.preview.attachment', { type: text(attachment.type) })}
              detail={isObject(attachment.payload) ? text(attachment.payload.url) : undefined}
            />
          </Box>
        ) : (
          <Paper px="sm" py={8} radius="lg" bg="gray.2" style={{ maxWidth: '88%' }}>
            <Text size="sm" style={WRAP}>
              {text(message.text)}
            </Text>
          </Paper>
        )}
        {replies.length > 0 && (
          <Group gap={4}>
            {replies.map((reply, index) => (
              <Badge key={index} variant="outline" color="blue" tt="none" radius="xl">
                {isObject(reply) ? text(reply.title) || text(reply.content_type) : ''}
              </Badge>
            ))}
          </Group>
        )}
      </Stack>
    </PhoneFrame>
  );
}

export function PushPreview({ content }: { content: JsonObject }) {
  return (
    <Paper withBorder radius="lg" p="sm" shadow="sm" data-testid="push-preview" style={{ maxWidth: 360, margin: '0 auto' }}>
      <Group gap="sm" wrap="nowrap" align="flex-start">
        <Box style={{ width: 36, height: 36, borderRadius: 8, background: 'var(--mantine-color-teal-6)', flex: '0 0 auto' }} aria-hidden="true" />
        <Stack gap={2} style={{ minWidth: 0 }}>
          <Text size="sm" fw={700} style={WRAP}>
            {text(content.title)}
          </Text>
          <Text size="sm" style={WRAP}>
            {text(content.body)}
          </Text>
          {text(content.url) && (
            <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
              {text(content.url)}
            </Text>
          )}
        </Stack>
      </Group>
    </Paper>
  );
}

export function JsonPreview({ content }: { content: JsonObject }) {
  return (
    <Code block data-testid="json-preview" ff={MONO_FONT} style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', maxHeight: 420, overflow: 'auto' }}>
      {JSON.stringify(content, null, 2)}
    </Code>
  );
}
