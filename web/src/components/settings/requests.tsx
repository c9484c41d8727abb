import { Badge, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { apiFetchFile } from '../../api';
import { formatDate } from '../../format';
import type { PrivacyRequest } from '../../pages/settings/types';

const DAY = 24 * 60 * 60 * 1000;

const STATUS_COLOR: Record<string, string> = {
  open: 'blue',
  in_progress: 'yellow',
  completed: 'teal',
  rejected: 'gray',
};

export function RequestStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return (
    <Badge variant="dot" color={STATUS_COLOR[status] ?? 'gray'} tt="none" data-testid="request-status" data-status={status}>
      {t(`settings.requests.status.${status}`, { defaultValue: status })}
    </Badge>
  );
}

export function RequestTypeBadge({ type }: { type: string }) {
  const { t } = useTranslation();
  return (
    <Badge variant="light" color={type === 'erasure' ? 'red' : 'indigo'} tt="none" data-testid="request-type" data-type={type}>
      {t(`settings.requests.type.${type}`, { defaultValue: type })}
    </Badge>
  );
}

/** The due date, and for an open request the days left, or how late it is in red (PDPA: 30 days). */
export function DueDate({ request }: { request: PrivacyRequest }) {
  const { t, i18n } = useTranslation();
  const open = request.status === 'open' || request.status === 'in_progress';
  const due = new Date(request.due_at).getTime();
  const days = Math.ceil((due - Date.now()) / DAY);
  let note: string | null = null;
  if (open) {
    if (request.overdue || days < 0) note = t('settings.requests.overdueBy', { count: Math.max(1, -days) });
    else if (days === 0) note = t('settings.requests.dueToday');
    else note = t('settings.requests.daysLeft', { count: days });
  }
  const late = open && (request.overdue || days < 0);
  const soon = open && !late && days <= 7;
  return (
    <div data-testid="request-due" data-due={request.due_at} data-overdue={late ? 'true' : 'false'} data-days-left={open ? days : undefined}>
      <Text size="sm" c={late ? 'red.7' : undefined} fw={late ? 700 : undefined}>
        {formatDate(request.due_at, i18n.language)}
      </Text>
      {note && (
        <Text size="xs" c={late ? 'red.7' : soon ? 'orange.8' : 'dimmed'} fw={late ? 700 : undefined}>
          {note}
        </Text>
      )}
    </div>
  );
}

/** POST a request's export and hand the ZIP to the browser. */
export async function downloadExport(request: PrivacyRequest): Promise<{ url: string; name: string; bytes: number }> {
  const { blob, filename } = await apiFetchFile(`/api/privacy/requests/${encodeURIComponent(request.id)}/export`, {
    method: 'POST',
  });
  return { url: URL.createObjectURL(blob), name: filename ?? `sampan-${request.id}.zip`, bytes: blob.size };
}
