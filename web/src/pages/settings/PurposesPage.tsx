import { Alert, Badge, Code, Group, Paper, Stack, Table, Text } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useTranslation } from 'react-i18next';
import type { ConsentPurpose } from '../../api';
import { ChannelBadge } from '../../components/badges';
import { CodeBlock } from '../../components/settings/common';
import { ApiView, Panel } from '../../components/states';
import { useApi } from '../../useApi';

/** The contact channels a per-channel purpose is consented on (src/sampan/settings.py). */
const CONTACT_CHANNELS = ['email', 'sms', 'line', 'push', 'facebook', 'phone'];

function Basis({ purpose }: { purpose: ConsentPurpose }) {
  const { t } = useTranslation();
  return purpose.requires_consent ? (
    <Badge variant="light" color="teal" tt="none">
      {t('settings.purposes.consent')}
    </Badge>
  ) : (
    <Badge variant="light" color="blue" tt="none" h="auto" py={2} styles={{ label: { whiteSpace: 'normal', lineHeight: 1.4 } }}>
      {t('settings.purposes.otherBasis')}
    </Badge>
  );
}

function Channels({ purpose }: { purpose: ConsentPurpose }) {
  const { t } = useTranslation();
  if (!purpose.per_channel) {
    return (
      <Text size="sm" c="dimmed">
        {t('settings.purposes.oneForAll')}
      </Text>
    );
  }
  return (
    <Group gap={4}>
      {CONTACT_CHANNELS.map((channel) => (
        <ChannelBadge key={channel} kind={channel} size="sm" />
      ))}
    </Group>
  );
}

/** `/settings/purposes`: what consent is asked for; read-only, set in the server's settings. */
export default function PurposesPage() {
  const { t, i18n } = useTranslation();
  const purposes = useApi<ConsentPurpose[]>('/api/privacy/purposes');
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const mine = (purpose: ConsentPurpose) => (i18n.language === 'en' ? purpose.title_en : purpose.title_th);
  return (
    <Stack gap="md">
      <Panel title={t('settings.purposes.title')} testId="purposes-panel">
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            {t('settings.purposes.intro')}
          </Text>
          <ApiView state={purposes} isEmpty={(data) => data.length === 0} empty={t('settings.purposes.none')}>
            {(data) =>
              phone ? (
                <Stack gap="xs">
                  {data.map((purpose) => (
                    <Paper key={purpose.name} withBorder p="sm" data-testid="purpose-row" data-purpose={purpose.name}>
                      <Text fw={600}>{mine(purpose)}</Text>
                      <Code>{purpose.name}</Code>
                      <Text size="sm" mt={4} c="dimmed" lang={i18n.language === 'en' ? 'th' : 'en'}>
                        {i18n.language === 'en' ? purpose.title_th : purpose.title_en}
                      </Text>
                      <Group gap="xs" mt={6}>
                        <Basis purpose={purpose} />
                      </Group>
                      <Stack gap={2} mt={6}>
                        <Text size="xs" fw={600}>
                          {t('settings.purposes.channels')}
                        </Text>
                        <Channels purpose={purpose} />
                      </Stack>
                    </Paper>
                  ))}
                </Stack>
              ) : (
                <Table.ScrollContainer minWidth={760}>
                  <Table verticalSpacing="sm">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th scope="col">{t('settings.purposes.name')}</Table.Th>
                        <Table.Th scope="col">{t('settings.purposes.titleTh')}</Table.Th>
                        <Table.Th scope="col">{t('settings.purposes.titleEn')}</Table.Th>
                        <Table.Th scope="col">{t('settings.purposes.channels')}</Table.Th>
                        <Table.Th scope="col">{t('settings.purposes.basis')}</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {data.map((purpose) => (
                        <Table.Tr key={purpose.name} data-testid="purpose-row" data-purpose={purpose.name}>
                          <Table.Td>
                            <Code>{purpose.name}</Code>
                          </Table.Td>
                          <Table.Td lang="th">
                            <Text size="sm">{purpose.title_th}</Text>
                          </Table.Td>
                          <Table.Td lang="en">
                            <Text size="sm">{purpose.title_en}</Text>
                          </Table.Td>
                          <Table.Td maw={260}>
                            <Channels purpose={purpose} />
                          </Table.Td>
                          <Table.Td maw={220}>
                            <Basis purpose={purpose} />
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )
            }
          </ApiView>
        </Stack>
      </Panel>
      <Panel title={t('settings.purposes.changeTitle')} testId="purposes-config">
        <Stack gap="sm">
          <Alert color="blue" data-testid="purposes-readonly">
            {t('settings.purposes.readOnly')}
          </Alert>
          {purposes.data && (
            <CodeBlock
              label={t('settings.purposes.envLabel')}
              code={`SAMPAN_CONSENT_PURPOSES='${JSON.stringify(purposes.data).replace(/'/g, "'\\''")}'`}
              testId="purposes-env"
            />
          )}
        </Stack>
      </Panel>
    </Stack>
  );
}
