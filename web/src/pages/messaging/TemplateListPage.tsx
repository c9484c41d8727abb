import { Anchor, Badge, Button, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useAuth } from '../../auth';
import { ChannelBadge } from '../../components/badges';
import { ApiView, Empty } from '../../components/states';
import { formatDateTime } from '../../format';
import { useApi } from '../../useApi';
import { KINDS, LANGUAGES, type Template } from './types';

function kindsOf(template: Template): string[] {
  const present = Object.keys(template.bodies).filter((k) => Object.keys(template.bodies[k] ?? {}).length);
  return [...KINDS.filter((k) => present.includes(k)), ...present.filter((k) => !(KINDS as readonly string[]).includes(k))];
}

function languagesOf(template: Template): string[] {
  return LANGUAGES.filter((lang) => Object.values(template.bodies).some((languages) => languages && languages[lang]));
}

export function CategoryBadge({ category }: { category: string }) {
  const { t } = useTranslation();
  return (
    <Badge variant="light" color={category === 'transactional' ? 'grape' : 'teal'} tt="none" data-testid="template-category-badge">
      {t(`templates.categories.${category}`, { defaultValue: category })}
    </Badge>
  );
}

export default function TemplateListPage() {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const allowed = can('messaging:read');
  const templates = useApi<Template[]>(allowed ? '/api/messaging/templates' : null);
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const link = (template: Template) => (
    <Anchor component={Link} to={`/templates/${encodeURIComponent(template.name)}`} fw={600} style={{ overflowWrap: 'anywhere' }} data-testid="template-link">
      {template.name}
    </Anchor>
  );
  const channels = (template: Template) => (
    <Group gap={4}>
      {kindsOf(template).map((kind) => (
        <ChannelBadge key={kind} kind={kind} size="sm" />
      ))}
    </Group>
  );
  const languages = (template: Template) => (
    <Group gap={4}>
      {languagesOf(template).map((lang) => (
        <Badge key={lang} variant="outline" color="gray" size="sm" tt="uppercase">
          {lang}
        </Badge>
      ))}
    </Group>
  );

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={1} size="h2">
          {t('templates.title')}
        </Title>
        {can('messaging:send') && (
          <Button component={Link} to="/templates/new" data-testid="template-new">
            {t('templates.new')}
          </Button>
        )}
      </Group>
      <Text size="sm" c="dimmed">
        {t('templates.intro')}
      </Text>
      {!allowed ? (
        <Empty>{t('common.noPermission')}</Empty>
      ) : (
        <ApiView state={templates} isEmpty={(data) => data.length === 0} empty={t('templates.none')}>
          {(data) =>
            phone ? (
              <Stack gap="xs" data-testid="template-table">
                {data.map((template) => (
                  <Paper key={template.id} withBorder p="sm" radius="md" data-testid="template-row" data-name={template.name}>
                    <Group justify="space-between" wrap="nowrap" align="flex-start">
                      {link(template)}
                      <CategoryBadge category={template.category} />
                    </Group>
                    <Group gap="xs" mt={6} justify="space-between">
                      {channels(template)}
                      {languages(template)}
                    </Group>
                  </Paper>
                ))}
              </Stack>
            ) : (
              <Table.ScrollContainer minWidth={640}>
                <Table highlightOnHover striped verticalSpacing="sm" data-testid="template-table">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">{t('templates.name')}</Table.Th>
                      <Table.Th scope="col">{t('templates.category')}</Table.Th>
                      <Table.Th scope="col">{t('templates.channels')}</Table.Th>
                      <Table.Th scope="col">{t('templates.languages')}</Table.Th>
                      <Table.Th scope="col">{t('templates.updated')}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.map((template) => (
                      <Table.Tr key={template.id} data-testid="template-row" data-name={template.name}>
                        <Table.Td>{link(template)}</Table.Td>
                        <Table.Td>
                          <CategoryBadge category={template.category} />
                        </Table.Td>
                        <Table.Td>{channels(template)}</Table.Td>
                        <Table.Td>{languages(template)}</Table.Td>
                        <Table.Td>
                          <Text size="sm">{formatDateTime(template.updated_at, i18n.language)}</Text>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )
          }
        </ApiView>
      )}
    </Stack>
  );
}
