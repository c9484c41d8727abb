import { Alert, Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Json } from '../api';
import { useAuth } from '../auth';
import { buildCondition, DEFAULT_VOCABULARY, newGroup, newRule, treeFromCondition, type Vocabulary } from '../segments';
import { useApi } from '../useApi';
import { SegmentBuilder, useBuilderOptions } from './SegmentBuilder';

/**
 * The segment builder in a dialog, for a condition kept elsewhere (a journey's branch):
 * opens on the current condition when the builder can show it, and gives back the JSON.
 */
export function ConditionBuilderModal({
  opened,
  value,
  onClose,
  onApply,
}: {
  opened: boolean;
  value: Json | undefined;
  onClose: () => void;
  onApply: (condition: Record<string, Json>) => void;
}) {
  const { t } = useTranslation();
  return (
    <Modal opened={opened} onClose={onClose} title={t('segments.conditions')} size="xl">
      {opened && <Editor value={value} onClose={onClose} onApply={onApply} />}
    </Modal>
  );
}

function Editor({
  value,
  onClose,
  onApply,
}: {
  value: Json | undefined;
  onClose: () => void;
  onApply: (condition: Record<string, Json>) => void;
}) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const vocabulary = useApi<Vocabulary>(can('segments:read') ? '/api/segments/vocabulary' : null);
  const words = vocabulary.data ?? DEFAULT_VOCABULARY;
  const { purposes, segments } = useBuilderOptions(words);
  const start = useMemo(() => (value === undefined ? null : treeFromCondition(value, words)), [value, words]);
  const unreadable = value !== undefined && Object.keys(value ?? {}).length > 0 && start === null;
  const [tree, setTree] = useState(() => start ?? newGroup('all', [newRule('computed')]));
  const built = buildCondition(tree, words);
  return (
    <Stack gap="sm">
      {unreadable && (
        <Alert color="yellow" role="alert">
          {t('segments.jsonNotVisual')}
        </Alert>
      )}
      <SegmentBuilder
        root={tree}
        onChange={setTree}
        problems={built.problems}
        failing={null}
        vocabulary={words}
        purposes={purposes}
        segments={segments}
      />
      {!built.condition && (
        <Text size="sm" c="dimmed">
          {t('segments.jsonIncomplete')}
        </Text>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose}>
          {t('common.cancel')}
        </Button>
        <Button
          disabled={!built.condition}
          onClick={() => {
            if (built.condition) onApply(built.condition);
            onClose();
          }}
          data-testid="condition-apply"
        >
          {t('segments.useCondition')}
        </Button>
      </Group>
    </Stack>
  );
}
