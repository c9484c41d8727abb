import { Alert, Button, Card, Group, Loader, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, MissingCsrfError } from '../api';
import type { ApiState } from '../useApi';

export function Loading({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <Group gap="xs" py="sm" role="status" aria-live="polite" data-testid="loading">
      <Loader size="sm" />
      <Text size="sm" c="dimmed">
        {label ?? t('common.loading')}
      </Text>
    </Group>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Text size="sm" c="dimmed" py="xs" data-testid="empty">
      {children}
    </Text>
  );
}

/** What went wrong, in the reader's language, with the server's own words under it. */
export function ErrorNotice({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  const { t } = useTranslation();
  let title = t('errors.generic');
  let detail: string | null = error.message;
  let retry = !!onRetry;
  if (error instanceof MissingCsrfError) {
    title = t('errors.noCsrf');
    detail = null;
    retry = false;
  } else if (error instanceof ApiError) {
    if (error.status === 403) {
      title = t('errors.forbidden');
      retry = false;
    } else if (error.status === 404) {
      title = t('errors.notFound');
      retry = false;
    } else if (error.status === 429) {
      title = t('errors.tooMany');
    } else if (error.status >= 500) {
      title = t('errors.server');
    }
  } else if (error instanceof TypeError) {
    // fetch's network failure
    title = t('errors.network');
    detail = null;
  }
  return (
    <Alert color={error instanceof ApiError && error.status === 403 ? 'yellow' : 'red'} title={title} role="alert" data-testid="error">
      <Stack gap="xs" align="flex-start">
        {detail && <Text size="sm">{detail}</Text>}
        {retry && onRetry && (
          <Button size="xs" variant="light" onClick={onRetry}>
            {t('common.retry')}
          </Button>
        )}
      </Stack>
    </Alert>
  );
}

/**
 * Render an API read: a spinner, the error (a 403 is a notice, not a crash), the empty
 * text when `isEmpty` says so, else the children with the data.
 */
export function ApiView<T>({
  state,
  isEmpty,
  empty,
  children,
}: {
  state: ApiState<T>;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (state.data === undefined) {
    if (state.error) return <ErrorNotice error={state.error} onRetry={state.reload} />;
    return <Loading />;
  }
  if (isEmpty?.(state.data)) return <Empty>{empty}</Empty>;
  return <>{children(state.data)}</>;
}

/** A card with a heading: one panel of a page, loading and failing on its own. */
export function Panel({
  title,
  testId,
  actions,
  children,
}: {
  title: ReactNode;
  testId?: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <Card withBorder radius="md" padding="md" data-testid={testId} component="section">
      <Group justify="space-between" mb="sm" wrap="nowrap">
        <Title order={2} size="h4">
          {title}
        </Title>
        {actions}
      </Group>
      {children}
    </Card>
  );
}
