/** The kinds of node to add: drag one onto the canvas, or press it to add it after the selected node. */
import { Box, Group, ScrollArea, Stack, Text, Tooltip, UnstyledButton } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { NODE_TYPES, type NodeType } from './graph';
import { DRAG_TYPE } from './JourneyCanvas';
import { KindIcon, kindColor } from './kinds';

export function Palette({ onAdd, phone, vertical = false }: { onAdd: (type: NodeType) => void; phone: boolean; vertical?: boolean }) {
  const { t } = useTranslation();
  const items = NODE_TYPES.map((type) => {
    const color = kindColor(type);
    return (
      <Tooltip
        key={type}
        label={t(`journeys.kindHint.${type}`)}
        multiline
        w={240}
        withArrow
        openDelay={500}
        position={vertical ? 'right' : 'top'}
        events={{ hover: true, focus: false, touch: false }}
      >
        <UnstyledButton
          draggable
          onDragStart={(event) => {
            event.dataTransfer.setData(DRAG_TYPE, type);
            event.dataTransfer.effectAllowed = 'copy';
          }}
          onClick={() => onAdd(type)}
          aria-label={t('journeys.palette.add', { kind: t(`journeys.kind.${type}`) })}
          data-testid="palette-item"
          data-type={type}
          style={{
            border: `1px solid var(--mantine-color-${color}-3)`,
            background: `var(--mantine-color-${color}-0)`,
            borderRadius: 8,
            padding: '2px 8px',
            cursor: 'grab',
            flex: 'none',
            width: vertical ? '100%' : undefined,
          }}
        >
          <Group gap={6} wrap="nowrap">
            <Box c={`${color}.7`} style={{ display: 'grid', placeItems: 'center' }}>
              <KindIcon kind={type} size={14} />
            </Box>
            <Text fz={13} style={{ whiteSpace: 'nowrap' }}>
              {t(`journeys.kind.${type}`)}
            </Text>
          </Group>
        </UnstyledButton>
      </Tooltip>
    );
  });
  return (
    <Box data-testid="palette" role="toolbar" aria-label={t('journeys.palette.label')}>
      {vertical && (
        <Text size="sm" fw={600} mb={4}>
          {t('journeys.palette.label')}
        </Text>
      )}
      {!vertical && (
        <Text size="xs" c="dimmed" mb={4}>
          {phone ? t('journeys.palette.hintPhone') : t('journeys.palette.hint')}
        </Text>
      )}
      {vertical ? (
        <Stack gap={4}>
          {items}
          <Text size="xs" c="dimmed" mt={4}>
            {t('journeys.palette.hint')}
          </Text>
        </Stack>
      ) : phone ? (
        <ScrollArea type="auto" offsetScrollbars scrollbarSize={6}>
          <Group gap={6} wrap="nowrap" pb={4}>
            {items}
          </Group>
        </ScrollArea>
      ) : (
        <Group gap={4}>{items}</Group>
      )}
    </Box>
  );
}
