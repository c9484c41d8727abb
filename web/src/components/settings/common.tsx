import {
  ActionIcon,
  Alert,
  Box,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  ScrollArea,
  Stack,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { ErrorNotice } from '../states';

/** Monospace with a Thai fallback: code blocks may hold Thai titles and names. */
export const MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace, 'Noto Sans Thai'";

function CopyIcon({ size = 16 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <rect x="9" y="9" width="12" height="12" rx="2" />
      <path d="M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1" />
    </svg>
  );
}

function CheckIcon({ size = 16 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2.5} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d="M5 12l5 5L20 7" />
    </svg>
  );
}

/** A labelled copy button that says "Copied" for two seconds. */
export function CopyTextButton({ value, label, testId }: { value: string; label?: string; testId?: string }) {
  const { t } = useTranslation();
  return (
    <CopyButton value={value} timeout={2000}>
      {({ copied, copy }) => (
        <Button
          size="compact-sm"
          variant={copied ? 'filled' : 'light'}
          color={copied ? 'teal' : 'gray'}
          leftSection={copied ? <CheckIcon size={14} /> : <CopyIcon size={14} />}
          onClick={copy}
          data-testid={testId}
          data-copied={copied ? 'true' : 'false'}
          aria-live="polite"
        >
          {copied ? t('settings.common.copied') : (label ?? t('settings.common.copy'))}
        </Button>
      )}
    </CopyButton>
  );
}

/** A value shown in monospace with a copy icon next to it (a URL, a key prefix). */
export function CopyValue({ value, label, testId }: { value: string; label: string; testId?: string }) {
  const { t } = useTranslation();
  return (
    <Group gap={6} wrap="nowrap" align="center">
      <Code style={{ overflowWrap: 'anywhere', whiteSpace: 'normal', fontFamily: MONO }} data-testid={testId}>
        {value}
      </Code>
      <CopyButton value={value} timeout={2000}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? t('settings.common.copied') : t('settings.common.copyThing', { thing: label })} withArrow>
            <ActionIcon
              variant="subtle"
              color={copied ? 'teal' : 'gray'}
              onClick={copy}
              aria-label={t('settings.common.copyThing', { thing: label })}
              data-testid={testId ? `${testId}-copy` : undefined}
            >
              {copied ? <CheckIcon /> : <CopyIcon />}
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}

/** A block of code to paste somewhere, with a copy button above it. */
export function CodeBlock({ code, label, testId }: { code: string; label: string; testId?: string }) {
  return (
    <Stack gap={6}>
      <Group justify="space-between" wrap="nowrap">
        <Text size="sm" fw={600}>
          {label}
        </Text>
        <CopyTextButton value={code} testId={testId ? `${testId}-copy` : undefined} />
      </Group>
      <ScrollArea.Autosize mah={360} type="auto" offsetScrollbars>
        <Code block data-testid={testId} style={{ fontSize: 12.5, whiteSpace: 'pre', fontFamily: MONO }}>
          {code}
        </Code>
      </ScrollArea.Autosize>
    </Stack>
  );
}

/**
 * Ask before a consequential write. With `typeWord`, the button stays off until that word
 * (or `altWord`) is typed. The server's refusal stays in the dialog.
 */
export function ConfirmModal({
  opened,
  title,
  children,
  confirmLabel,
  color = 'red',
  typeWord,
  altWord,
  onConfirm,
  onClose,
}: {
  opened: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  color?: string;
  typeWord?: string;
  altWord?: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    if (opened) {
      setTyped('');
      setError(null);
      setBusy(false);
    }
  }, [opened]);
  const wordOk = !typeWord || [typeWord, altWord].includes(typed.trim());
  async function confirm() {
    if (!wordOk) return;
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (failure) {
      setError(failure instanceof Error ? failure : new Error(String(failure)));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal opened={opened} onClose={busy ? () => undefined : onClose} title={title} centered data-testid="confirm-modal">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void confirm();
        }}
      >
        <Stack gap="sm">
          <Box fz="sm">{children}</Box>
          {typeWord && (
            <TextInput
              label={t('settings.common.typeToConfirm', { word: typeWord })}
              value={typed}
              onChange={(event) => setTyped(event.currentTarget.value)}
              autoComplete="off"
              data-autofocus
              data-testid="confirm-word"
            />
          )}
          {error && <ErrorNotice error={error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose} disabled={busy} data-testid="confirm-cancel">
              {t('settings.common.cancel')}
            </Button>
            <Button type="submit" color={color} loading={busy} disabled={!wordOk} data-testid="confirm-ok">
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** A secret shown once, right after it was made: copy it now, it cannot be shown again. */
export function SecretModal({
  opened,
  title,
  secret,
  onClose,
  children,
}: {
  opened: boolean;
  title: string;
  secret: string;
  onClose: () => void;
  children?: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={title}
      size="xl"
      centered
      closeOnClickOutside={false}
      data-testid="secret-modal"
    >
      <Stack gap="md">
        <Alert color="orange" title={t('settings.secret.onceTitle')} role="alert">
          {t('settings.secret.onceBody')}
        </Alert>
        <Stack gap={6}>
          <Text size="sm" fw={600}>
            {t('settings.secret.value')}
          </Text>
          <Group gap="sm" wrap="nowrap" align="flex-start">
            <Code
              block
              style={{ flex: 1, overflowWrap: 'anywhere', whiteSpace: 'pre-wrap', fontSize: 14 }}
              data-testid="secret-value"
            >
              {secret}
            </Code>
            <CopyTextButton value={secret} testId="secret-copy" />
          </Group>
        </Stack>
        {children}
        <Group justify="flex-end">
          <Button onClick={onClose} data-testid="secret-close">
            {t('settings.secret.done')}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** "Yes" / "No" in words, for a table cell. */
export function YesNo({ value }: { value: boolean }) {
  const { t } = useTranslation();
  return (
    <Text size="sm" c={value ? 'teal.8' : 'dimmed'}>
      {value ? t('common.yes') : t('common.no')}
    </Text>
  );
}

/** A permission such as `consent:read` in the reader's language (falls back to the code). */
export function permissionLabel(t: TFunction, permission: string): string {
  return t(`settings.permission.${permission.replace(/:/g, '_')}`, { defaultValue: permission });
}
