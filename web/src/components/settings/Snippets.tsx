import { Stack, Tabs, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { CodeBlock } from './common';

export const KEY_PLACEHOLDER = 'YOUR_WRITE_KEY';

type Language = 'js' | 'python' | 'node' | 'curl';

/** The Sampan server as the browser sees it: where SDKs must send. */
export function serverOrigin(): string {
  return window.location.origin;
}

/**
 * Copy-paste set-up of the Segment SDKs pointed at this Sampan server (docs/collection.md,
 * "SDKs"): analytics.js takes the host without the scheme, the others the base URL.
 */
export function snippet(language: Language, writeKey: string, origin: string): string {
  const url = new URL(origin);
  const protocol = url.protocol.replace(':', '');
  const base = origin.replace(/\/$/, '');
  switch (language) {
    case 'js':
      return `// npm install @segment/analytics-next
// Sends to Sampan at ${base}, not to Segment.
import { AnalyticsBrowser } from '@segment/analytics-next'

const writeKey = '${writeKey}'
export const analytics = AnalyticsBrowser.load(
  // Sampan serves no CDN settings: give them here so nothing is asked of Segment's CDN.
  { writeKey, cdnSettings: { integrations: { 'Segment.io': { apiKey: writeKey } } } },
  { integrations: { 'Segment.io': { apiHost: '${url.host}/v1', protocol: '${protocol}' } } },
)

analytics.identify('M000123', { email: 'somchai@example.co.th' })
analytics.track('Product Viewed', { product_id: 'VC-30', price: 590, currency: 'THB' })
`;
    case 'python':
      return `# pip install segment-analytics-python
from segment.analytics import Client

analytics = Client(write_key="${writeKey}", host="${base}", gzip=True)
analytics.identify("M000123", {"email": "somchai@example.co.th", "phone": "081-234-5678"})
analytics.track(
    "M000123",
    "Order Completed",
    {"order_id": "W00001234", "total": 1180, "currency": "THB"},
)
analytics.flush()
`;
    case 'node':
      return `// npm install @segment/analytics-node
import { Analytics } from '@segment/analytics-node'

const analytics = new Analytics({ writeKey: '${writeKey}', host: '${base}' })
analytics.track({ userId: 'M000123', event: 'Order Completed',
                  properties: { order_id: 'W00001234', total: 1180, currency: 'THB' } })
await analytics.closeAndFlush()
`;
    case 'curl':
      return `curl -u '${writeKey}:' ${base}/v1/track \\
  -H 'Content-Type: application/json' \\
  -d '{"userId": "M000123", "event": "Product Viewed",
       "properties": {"product_id": "VC-30", "price": 590, "currency": "THB"}}'
# {"success":true}
`;
  }
}

/** The snippets for one source, with its real key when it was just made, else a placeholder. */
export function Snippets({ writeKey, prefix }: { writeKey: string | null; prefix?: string }) {
  const { t } = useTranslation();
  const origin = serverOrigin();
  const key = writeKey ?? KEY_PLACEHOLDER;
  return (
    <Stack gap="xs" data-testid="snippets" data-has-key={writeKey ? 'true' : 'false'}>
      <Text size="sm" c="dimmed">
        {writeKey
          ? t('settings.snippets.withKey', { origin })
          : t('settings.snippets.placeholder', { placeholder: KEY_PLACEHOLDER, prefix: prefix ?? 'wk_' })}
      </Text>
      <Tabs defaultValue="js" keepMounted>
        <Tabs.List>
          <Tabs.Tab value="js" data-testid="snippet-tab-js">
            JavaScript
          </Tabs.Tab>
          <Tabs.Tab value="python" data-testid="snippet-tab-python">
            Python
          </Tabs.Tab>
          <Tabs.Tab value="node">Node.js</Tabs.Tab>
          <Tabs.Tab value="curl">curl</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="js" pt="sm">
          <CodeBlock code={snippet('js', key, origin)} label={t('settings.snippets.js')} testId="snippet-js" />
        </Tabs.Panel>
        <Tabs.Panel value="python" pt="sm">
          <CodeBlock code={snippet('python', key, origin)} label={t('settings.snippets.python')} testId="snippet-python" />
        </Tabs.Panel>
        <Tabs.Panel value="node" pt="sm">
          <CodeBlock code={snippet('node', key, origin)} label={t('settings.snippets.node')} testId="snippet-node" />
        </Tabs.Panel>
        <Tabs.Panel value="curl" pt="sm">
          <CodeBlock code={snippet('curl', key, origin)} label={t('settings.snippets.curl')} testId="snippet-curl" />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
