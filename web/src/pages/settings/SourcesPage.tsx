import {
  Badge,
  Button,
  Code,
  Group,
  MultiSelect,
  Paper,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  VisuallyHidden,
} from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { apiFetch } from '../../api';
import { useAuth } from '../../auth';
import { CodeBlock, ConfirmModal, permissionLabel, SecretModal } from '../../components/settings/common';
import { byKeyword, NO_ERRORS, placeErrors, type PlacedErrors } from '../../components/settings/errors';
import { serverOrigin, Snippets } from '../../components/settings/Snippets';
import { ApiView, ErrorNotice, Panel } from '../../components/states';
import { formatDate, formatDateTime } from '../../format';
import { useApi } from '../../useApi';
import {
  SOURCE_KINDS,
  type ApiKeyInfo,
  type IssuedApiKey,
  type IssuedSource,
  type RoleInfo,
  type SourceInfo,
  type SourceKind,
} from './types';

/** `/settings/sources`: tracking sources with their write keys, and API keys. */
export default function SourcesPage() {
  const { can } = useAuth();
  return (
    <Stack gap="md">
      {can('sources:manage') && <SourcesPanel />}
      {can('keys:manage') && <KeysPanel />}
    </Stack>
  );
}

// -- sources ---------------------------------------------------------------------------------

function SourcesPanel() {
  const { t, i18n } = useTranslation();
  const sources = useApi<SourceInfo[]>('/api/sources');
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  // Write keys made during this visit: the snippets can carry the real key until the page is left.
  const [keys, setKeys] = useState<Record<string, string>>({});
  const [selected, setSelected] = useState<string | null>(null);
  const [issued, setIssued] = useState<IssuedSource | null>(null);
  const [disabling, setDisabling] = useState<SourceInfo | null>(null);
  const [toggleError, setToggleError] = useState<Error | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function setEnabled(source: SourceInfo, enabled: boolean) {
    await apiFetch<SourceInfo>(`/api/sources/${encodeURIComponent(source.id)}`, {
      method: 'PATCH',
      body: { enabled },
    });
    sources.reload();
  }

  async function enable(source: SourceInfo) {
    setBusy(source.id);
    setToggleError(null);
    try {
      await setEnabled(source, true);
    } catch (error) {
      setToggleError(error instanceof Error ? error : new Error(String(error)));
    } finally {
      setBusy(null);
    }
  }

  const list = sources.data ?? [];
  const chosen = list.find((s) => s.id === selected) ?? null;
  const detailRef = useRef<HTMLDivElement>(null);
  // A source picked in a long list: bring its set-up into view.
  useEffect(() => {
    if (selected && issued === null) detailRef.current?.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  }, [selected, issued]);

  const toggle = (source: SourceInfo) => (
    <Switch
      checked={source.enabled}
      disabled={busy === source.id}
      onChange={(event) => {
        if (event.currentTarget.checked) void enable(source);
        else setDisabling(source);
      }}
      label={source.enabled ? t('settings.sources.on') : t('settings.sources.off')}
      aria-label={t('settings.sources.enabledFor', { name: source.name })}
      data-testid="source-enabled"
    />
  );

  return (
    <Panel title={t('settings.sources.title')} testId="sources-panel">
      <Stack gap="md">
        <Text size="sm" c="dimmed">
          {t('settings.sources.intro')}
        </Text>
        <CreateSource
          onCreated={(source) => {
            setKeys((previous) => ({ ...previous, [source.id]: source.write_key }));
            setSelected(source.id);
            setIssued(source);
            sources.reload();
          }}
        />
        {toggleError && <ErrorNotice error={toggleError} />}
        <ApiView state={sources} isEmpty={(data) => data.length === 0} empty={t('settings.sources.none')}>
          {(data) =>
            phone ? (
              <Stack gap="xs">
                {data.map((source) => (
                  <Paper
                    key={source.id}
                    withBorder
                    p="sm"
                    data-testid="source-row"
                    data-source-id={source.id}
                    data-name={source.name}
                    data-enabled={source.enabled ? 'true' : 'false'}
                  >
                    <Text fw={600} style={{ overflowWrap: 'anywhere' }}>
                      {source.name}
                    </Text>
                    <Group gap="xs" mt={4}>
                      <Badge variant="light" tt="none">
                        {t(`settings.sourceKind.${source.kind}`, { defaultValue: source.kind })}
                      </Badge>
                      <Code>{source.write_key_prefix}…</Code>
                    </Group>
                    <Text size="xs" c="dimmed" mt={4}>
                      {t('settings.sources.createdOn', { date: formatDate(source.created_at, i18n.language) })}
                    </Text>
                    <Group justify="space-between" mt={6}>
                      {toggle(source)}
                      <Button
                        size="compact-sm"
                        variant={source.id === selected ? 'filled' : 'light'}
                        onClick={() => setSelected(source.id)}
                        aria-pressed={source.id === selected}
                        data-testid="source-select"
                      >
                        {t('settings.sources.howTo')}
                      </Button>
                    </Group>
                  </Paper>
                ))}
              </Stack>
            ) : (
              <Table.ScrollContainer minWidth={720}>
                <Table verticalSpacing="xs" highlightOnHover>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">{t('settings.sources.name')}</Table.Th>
                      <Table.Th scope="col">{t('settings.sources.kind')}</Table.Th>
                      <Table.Th scope="col">{t('settings.sources.key')}</Table.Th>
                      <Table.Th scope="col">{t('settings.sources.enabled')}</Table.Th>
                      <Table.Th scope="col">{t('settings.sources.created')}</Table.Th>
                      <Table.Th scope="col">
                        <VisuallyHidden>{t('settings.common.actions')}</VisuallyHidden>
                      </Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.map((source) => (
                      <Table.Tr
                        key={source.id}
                        data-testid="source-row"
                        data-source-id={source.id}
                        data-name={source.name}
                        data-enabled={source.enabled ? 'true' : 'false'}
                        bg={source.id === selected ? 'var(--mantine-color-teal-light)' : undefined}
                      >
                        <Table.Td>
                          <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }}>
                            {source.name}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Badge variant="light" tt="none">
                            {t(`settings.sourceKind.${source.kind}`, { defaultValue: source.kind })}
                          </Badge>
                        </Table.Td>
                        <Table.Td>
                          <Code>{source.write_key_prefix}…</Code>
                        </Table.Td>
                        <Table.Td>{toggle(source)}</Table.Td>
                        <Table.Td>
                          <Text size="sm">{formatDateTime(source.created_at, i18n.language)}</Text>
                        </Table.Td>
                        <Table.Td>
                          <Button
                            size="compact-sm"
                            variant={source.id === selected ? 'filled' : 'light'}
                            onClick={() => setSelected(source.id)}
                            aria-pressed={source.id === selected}
                            data-testid="source-select"
                          >
                            {t('settings.sources.howTo')}
                          </Button>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )
          }
        </ApiView>
        {chosen ? (
          <Paper ref={detailRef} withBorder p="md" radius="md" data-testid="source-detail" data-source-id={chosen.id}>
            <Stack gap="sm">
              <Group justify="space-between">
                <Text fw={700} style={{ overflowWrap: 'anywhere' }}>
                  {t('settings.sources.setUp', { name: chosen.name })}
                </Text>
                {!chosen.enabled && <Badge color="red">{t('settings.sources.disabledBadge')}</Badge>}
              </Group>
              <Snippets writeKey={keys[chosen.id] ?? null} prefix={chosen.write_key_prefix} />
              <Text size="xs" c="dimmed">
                {t('settings.sources.noRotate')}
              </Text>
            </Stack>
          </Paper>
        ) : (
          list.length > 0 && (
            <Text size="sm" c="dimmed">
              {t('settings.sources.pickOne')}
            </Text>
          )
        )}
      </Stack>
      <SecretModal
        opened={issued !== null}
        title={t('settings.sources.issuedTitle', { name: issued?.name ?? '' })}
        secret={issued?.write_key ?? ''}
        onClose={() => setIssued(null)}
      >
        {issued && <Snippets writeKey={issued.write_key} />}
      </SecretModal>
      <ConfirmModal
        opened={disabling !== null}
        title={t('settings.sources.disableTitle', { name: disabling?.name ?? '' })}
        confirmLabel={t('settings.sources.disable')}
        onConfirm={async () => {
          if (disabling) await setEnabled(disabling, false);
        }}
        onClose={() => setDisabling(null)}
      >
        {t('settings.sources.disableBody')}
      </ConfirmModal>
    </Panel>
  );
}

function CreateSource({ onCreated }: { onCreated: (source: IssuedSource) => void }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<SourceKind | null>(null);
  const [saving, setSaving] = useState(false);
  const [errors, setErrors] = useState<PlacedErrors>(NO_ERRORS);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim() || !kind) return;
    setSaving(true);
    setErrors(NO_ERRORS);
    try {
      const source = await apiFetch<IssuedSource>('/api/sources', {
        method: 'POST',
        body: { name: name.trim(), kind },
      });
      setName('');
      setKind(null);
      onCreated(source);
    } catch (error) {
      setErrors(placeErrors(error, byKeyword([['name', /name/i], ['kind', /kind/i]])));
    } finally {
      setSaving(false);
    }
  }

  return (
    <form onSubmit={submit} data-testid="source-create">
      <Group align="flex-start" gap="sm" wrap="wrap">
        <TextInput
          label={t('settings.sources.newName')}
          placeholder={t('settings.sources.newNamePlaceholder')}
          value={name}
          onChange={(event) => setName(event.currentTarget.value)}
          error={errors.fields.name}
          maxLength={200}
          required
          style={{ flex: '1 1 220px' }}
          data-testid="source-create-name"
        />
        <Select
          label={t('settings.sources.kind')}
          placeholder={t('settings.sources.kindPlaceholder')}
          value={kind}
          onChange={(value) => setKind(value as SourceKind | null)}
          data={SOURCE_KINDS.map((k) => ({ value: k, label: t(`settings.sourceKind.${k}`) }))}
          error={errors.fields.kind}
          required
          allowDeselect={false}
          style={{ flex: '1 1 180px' }}
          data-testid="source-create-kind"
        />
        <Button
          type="submit"
          mt={{ base: 0, xs: 25 }}
          loading={saving}
          disabled={!name.trim() || !kind}
          data-testid="source-create-submit"
        >
          {t('settings.sources.create')}
        </Button>
      </Group>
      {errors.general && (
        <div style={{ marginTop: 8 }}>
          <ErrorNotice error={errors.general} />
        </div>
      )}
    </form>
  );
}

// -- API keys --------------------------------------------------------------------------------

function keyState(key: ApiKeyInfo): 'revoked' | 'expired' | 'active' {
  if (key.revoked_at) return 'revoked';
  if (key.expires_at && new Date(key.expires_at).getTime() < Date.now()) return 'expired';
  return 'active';
}

function KeysPanel() {
  const { t, i18n } = useTranslation();
  const keys = useApi<ApiKeyInfo[]>('/api/keys');
  const roles = useApi<RoleInfo[]>('/api/roles');
  const [issued, setIssued] = useState<IssuedApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyInfo | null>(null);
  const [showRevoked, setShowRevoked] = useState(false);
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const origin = serverOrigin();

  const statusBadge = (key: ApiKeyInfo) => {
    const state = keyState(key);
    return (
      <Badge variant="dot" color={state === 'active' ? 'teal' : state === 'expired' ? 'orange' : 'red'} tt="none">
        {t(`settings.keys.state.${state}`)}
      </Badge>
    );
  };
  const scopes = (key: ApiKeyInfo) =>
    key.scopes === null ? (
      <Text size="sm" c="dimmed">
        {t('settings.keys.allOfRole')}
      </Text>
    ) : (
      <Group gap={4}>
        {key.scopes.map((scope) => (
          <Code key={scope}>{scope}</Code>
        ))}
      </Group>
    );
  const revokeButton = (key: ApiKeyInfo) =>
    keyState(key) === 'revoked' ? null : (
      <Button size="compact-sm" variant="light" color="red" onClick={() => setRevoking(key)} data-testid="key-revoke">
        {t('settings.keys.revoke')}
      </Button>
    );

  return (
    <Panel title={t('settings.keys.title')} testId="keys-panel">
      <Stack gap="md">
        <Text size="sm" c="dimmed">
          {t('settings.keys.intro')}
        </Text>
        <IssueKey
          roles={roles.data ?? []}
          onIssued={(key) => {
            setIssued(key);
            keys.reload();
          }}
        />
        <ApiView state={keys} isEmpty={(data) => data.length === 0} empty={t('settings.keys.none')}>
          {(data) => {
            const shown = showRevoked ? data : data.filter((key) => keyState(key) !== 'revoked');
            const hidden = data.length - shown.length;
            return (
              <Stack gap="xs">
                {phone ? (
                  shown.map((key) => (
                    <Paper key={key.id} withBorder p="sm" data-testid="key-row" data-key-id={key.id} data-state={keyState(key)}>
                      <Group justify="space-between" wrap="nowrap">
                        <Text fw={600} style={{ overflowWrap: 'anywhere' }}>
                          {key.name}
                        </Text>
                        {statusBadge(key)}
                      </Group>
                      <Group gap="xs" mt={4}>
                        <Code>{key.prefix}…</Code>
                        <Badge variant="light" tt="none">
                          {t(`role.${key.role}`, { defaultValue: key.role })}
                        </Badge>
                      </Group>
                      <Text size="xs" c="dimmed" mt={4}>
                        {t('settings.keys.createdOn', { date: formatDate(key.created_at, i18n.language) })}
                        {key.expires_at ? ` · ${t('settings.keys.expiresOn', { date: formatDate(key.expires_at, i18n.language) })}` : ''}
                      </Text>
                      <Group justify="flex-end" mt={6}>
                        {revokeButton(key)}
                      </Group>
                    </Paper>
                  ))
                ) : (
                  <Table.ScrollContainer minWidth={820}>
                    <Table verticalSpacing="xs">
                      <Table.Thead>
                        <Table.Tr>
                          <Table.Th scope="col">{t('settings.keys.name')}</Table.Th>
                          <Table.Th scope="col">{t('settings.keys.prefix')}</Table.Th>
                          <Table.Th scope="col">{t('settings.keys.role')}</Table.Th>
                          <Table.Th scope="col">{t('settings.keys.scopes')}</Table.Th>
                          <Table.Th scope="col">{t('settings.keys.created')}</Table.Th>
                          <Table.Th scope="col">{t('settings.keys.expires')}</Table.Th>
                          <Table.Th scope="col">{t('settings.keys.status')}</Table.Th>
                          <Table.Th scope="col">
                            <VisuallyHidden>{t('settings.common.actions')}</VisuallyHidden>
                          </Table.Th>
                        </Table.Tr>
                      </Table.Thead>
                      <Table.Tbody>
                        {shown.map((key) => (
                          <Table.Tr key={key.id} data-testid="key-row" data-key-id={key.id} data-state={keyState(key)}>
                            <Table.Td>
                              <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }}>
                                {key.name}
                              </Text>
                            </Table.Td>
                            <Table.Td>
                              <Code>{key.prefix}…</Code>
                            </Table.Td>
                            <Table.Td>
                              <Text size="sm">{t(`role.${key.role}`, { defaultValue: key.role })}</Text>
                            </Table.Td>
                            <Table.Td>{scopes(key)}</Table.Td>
                            <Table.Td>
                              <Text size="sm">{formatDate(key.created_at, i18n.language)}</Text>
                            </Table.Td>
                            <Table.Td>
                              <Text size="sm">{key.expires_at ? formatDate(key.expires_at, i18n.language) : t('settings.keys.never')}</Text>
                            </Table.Td>
                            <Table.Td>{statusBadge(key)}</Table.Td>
                            <Table.Td>{revokeButton(key)}</Table.Td>
                          </Table.Tr>
                        ))}
                      </Table.Tbody>
                    </Table>
                  </Table.ScrollContainer>
                )}
                {(hidden > 0 || showRevoked) && (
                  <Group>
                    <Button variant="subtle" size="compact-sm" onClick={() => setShowRevoked((v) => !v)} data-testid="keys-show-revoked">
                      {showRevoked ? t('settings.keys.hideRevoked') : t('settings.keys.showRevoked', { count: hidden })}
                    </Button>
                  </Group>
                )}
              </Stack>
            );
          }}
        </ApiView>
      </Stack>
      <SecretModal
        opened={issued !== null}
        title={t('settings.keys.issuedTitle', { name: issued?.name ?? '' })}
        secret={issued?.api_key ?? ''}
        onClose={() => setIssued(null)}
      >
        {issued && (
          <CodeBlock
            label={t('settings.keys.tryIt')}
            code={`curl -H 'Authorization: Bearer ${issued.api_key}' ${origin}/api/auth/me`}
            testId="key-example"
          />
        )}
      </SecretModal>
      <ConfirmModal
        opened={revoking !== null}
        title={t('settings.keys.revokeTitle', { name: revoking?.name ?? '' })}
        confirmLabel={t('settings.keys.revoke')}
        onConfirm={async () => {
          if (!revoking) return;
          await apiFetch<ApiKeyInfo>(`/api/keys/${encodeURIComponent(revoking.id)}`, { method: 'DELETE' });
          keys.reload();
        }}
        onClose={() => setRevoking(null)}
      >
        {t('settings.keys.revokeBody', { prefix: revoking?.prefix ?? '' })}
      </ConfirmModal>
    </Panel>
  );
}

function IssueKey({ roles, onIssued }: { roles: RoleInfo[]; onIssued: (key: IssuedApiKey) => void }) {
  const { t } = useTranslation();
  const { can, user } = useAuth();
  const [name, setName] = useState('');
  const [role, setRole] = useState<string | null>(null);
  const [scopes, setScopes] = useState<string[]>([]);
  const [expires, setExpires] = useState('');
  const [saving, setSaving] = useState(false);
  const [errors, setErrors] = useState<PlacedErrors>(NO_ERRORS);
  // Roles whose every permission the issuer holds: the server refuses any other.
  const grantable = useMemo(
    () => roles.filter((r) => user?.permissions.includes('*') || r.permissions.every((p) => can(p))),
    [roles, can, user],
  );
  const rolePermissions = roles.find((r) => r.name === role)?.permissions ?? [];
  const today = new Date().toISOString().slice(0, 10);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim() || !role) return;
    setSaving(true);
    setErrors(NO_ERRORS);
    try {
      const body: Record<string, unknown> = { name: name.trim(), role };
      if (scopes.length) body.scopes = scopes;
      // The end of the chosen day, in the browser's time zone.
      if (expires) body.expires_at = new Date(`${expires}T23:59:59`).toISOString();
      const key = await apiFetch<IssuedApiKey>('/api/keys', { method: 'POST', body });
      setName('');
      setScopes([]);
      setExpires('');
      onIssued(key);
    } catch (error) {
      setErrors(
        placeErrors(
          error,
          byKeyword([
            ['scopes', /scope/i],
            ['role', /role/i],
            ['expires_at', /expir|expires_at/i],
            ['name', /name/i],
          ]),
        ),
      );
    } finally {
      setSaving(false);
    }
  }

  return (
    <form onSubmit={submit} data-testid="key-create">
      <Stack gap="sm">
        <Group align="flex-start" gap="sm" wrap="wrap">
          <TextInput
            label={t('settings.keys.newName')}
            placeholder={t('settings.keys.newNamePlaceholder')}
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            error={errors.fields.name}
            maxLength={200}
            required
            style={{ flex: '1 1 200px' }}
            data-testid="key-create-name"
          />
          <Select
            label={t('settings.keys.role')}
            placeholder={t('settings.keys.rolePlaceholder')}
            value={role}
            onChange={(value) => {
              setRole(value);
              setScopes([]);
            }}
            data={grantable.map((r) => ({ value: r.name, label: t(`role.${r.name}`, { defaultValue: r.name }) }))}
            error={errors.fields.role}
            required
            disabled={grantable.length === 0}
            allowDeselect={false}
            style={{ flex: '1 1 180px' }}
            data-testid="key-create-role"
          />
          <TextInput
            type="date"
            label={t('settings.keys.expiresLabel')}
            description={t('settings.keys.expiresHint')}
            value={expires}
            min={today}
            onChange={(event) => setExpires(event.currentTarget.value)}
            error={errors.fields.expires_at}
            style={{ flex: '0 1 190px' }}
            data-testid="key-create-expires"
          />
        </Group>
        {role && (
          <MultiSelect
            label={t('settings.keys.scopesLabel')}
            description={t('settings.keys.scopesHint')}
            placeholder={scopes.length ? undefined : t('settings.keys.allOfRole')}
            data={rolePermissions.map((p) => ({ value: p, label: `${permissionLabel(t, p)} (${p})` }))}
            value={scopes}
            onChange={setScopes}
            error={errors.fields.scopes}
            searchable
            clearable
            data-testid="key-create-scopes"
          />
        )}
        {errors.general && <ErrorNotice error={errors.general} />}
        <Group>
          <Button type="submit" loading={saving} disabled={!name.trim() || !role} data-testid="key-create-submit">
            {t('settings.keys.issue')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
