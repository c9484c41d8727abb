import {
  Badge,
  Button,
  Group,
  Modal,
  Paper,
  PasswordInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Tooltip,
  VisuallyHidden,
} from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useEffect, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { apiFetch } from '../../api';
import { useAuth } from '../../auth';
import { ConfirmModal, permissionLabel } from '../../components/settings/common';
import { byKeyword, NO_ERRORS, placeErrors, type PlacedErrors } from '../../components/settings/errors';
import { ApiView, ErrorNotice, Panel } from '../../components/states';
import { formatDate, formatDateTime } from '../../format';
import { useApi, type ApiState } from '../../useApi';
import type { RoleInfo, UserInfo } from './types';

/** The server's rule (src/sampan/access/passwords.py): 10 characters, no spaces around. */
const MIN_PASSWORD = 10;

const USER_FIELDS = byKeyword([
  ['password', /password/i],
  ['email', /e-mail|email|address/i],
  ['role', /role/i],
  ['name', /name/i],
]);

function passwordProblem(password: string, t: TFunction): string | null {
  if (!password) return null;
  if (password.length < MIN_PASSWORD) return t('settings.users.passwordShort', { min: MIN_PASSWORD, count: password.length });
  if (password.trim() !== password) return t('settings.users.passwordSpaces');
  return null;
}

type Pending =
  | { kind: 'role'; user: UserInfo; role: string }
  | { kind: 'disable'; user: UserInfo }
  | null;

/** `/settings/users`: console users and what each role may do. */
export default function UsersPage() {
  const { t, i18n } = useTranslation();
  const { user: me } = useAuth();
  const users = useApi<UserInfo[]>('/api/users');
  const roles = useApi<RoleInfo[]>('/api/roles');
  const phone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false });
  const [pending, setPending] = useState<Pending>(null);
  const [rowError, setRowError] = useState<Error | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [resetting, setResetting] = useState<UserInfo | null>(null);
  const roleOptions = (roles.data ?? []).map((r) => ({ value: r.name, label: t(`role.${r.name}`, { defaultValue: r.name }) }));

  async function patch(user: UserInfo, body: Record<string, unknown>) {
    await apiFetch<UserInfo>(`/api/users/${encodeURIComponent(user.id)}`, { method: 'PATCH', body });
    users.reload();
  }

  async function enable(user: UserInfo) {
    setBusy(user.id);
    setRowError(null);
    try {
      await patch(user, { disabled: false });
    } catch (error) {
      setRowError(error instanceof Error ? error : new Error(String(error)));
    } finally {
      setBusy(null);
    }
  }

  const status = (user: UserInfo) => {
    if (user.disabled)
      return (
        <Badge variant="dot" color="gray" tt="none">
          {t('settings.users.disabled')}
        </Badge>
      );
    if (user.locked_until && new Date(user.locked_until).getTime() > Date.now())
      return (
        <Tooltip label={t('settings.users.lockedUntil', { time: formatDateTime(user.locked_until, i18n.language) })}>
          <Badge variant="dot" color="orange" tt="none">
            {t('settings.users.locked')}
          </Badge>
        </Tooltip>
      );
    return (
      <Badge variant="dot" color="teal" tt="none">
        {t('settings.users.active')}
      </Badge>
    );
  };

  const self = (user: UserInfo) => me?.id === user.id;

  const roleControl = (user: UserInfo) =>
    self(user) ? (
      <Tooltip label={t('settings.users.notYourself')}>
        <Text size="sm">
          {t(`role.${user.role}`, { defaultValue: user.role })} <Text span size="xs" c="dimmed">({t('settings.users.you')})</Text>
        </Text>
      </Tooltip>
    ) : (
      <Select
        size="xs"
        value={user.role}
        data={roleOptions.length ? roleOptions : [{ value: user.role, label: t(`role.${user.role}`, { defaultValue: user.role }) }]}
        onChange={(role) => role && role !== user.role && setPending({ kind: 'role', user, role })}
        allowDeselect={false}
        aria-label={t('settings.users.roleOf', { name: user.name })}
        w={240}
        comboboxProps={{ width: 'target', withinPortal: true }}
        data-testid="user-role-select"
      />
    );

  const activeControl = (user: UserInfo) => (
    <Switch
      checked={!user.disabled}
      disabled={self(user) || busy === user.id}
      onChange={(event) => {
        if (event.currentTarget.checked) void enable(user);
        else setPending({ kind: 'disable', user });
      }}
      aria-label={t('settings.users.activeFor', { name: user.name })}
      data-testid="user-active"
    />
  );

  const resetButton = (user: UserInfo) => (
    <Button size="compact-xs" variant="subtle" onClick={() => setResetting(user)} data-testid="user-reset-password">
      {t('settings.users.resetPassword')}
    </Button>
  );

  return (
    <Stack gap="md">
      <Panel title={t('settings.users.title')} testId="users-panel">
        <Stack gap="md">
          {rowError && <ErrorNotice error={rowError} />}
          <ApiView state={users} isEmpty={(data) => data.length === 0} empty={t('settings.users.none')}>
            {(data) =>
              phone ? (
                <Stack gap="xs">
                  {data.map((user) => (
                    <Paper key={user.id} withBorder p="sm" data-testid="user-row" data-email={user.email} data-role={user.role} data-disabled={user.disabled ? 'true' : 'false'}>
                      <Group justify="space-between" wrap="nowrap" align="flex-start">
                        <div style={{ minWidth: 0 }}>
                          <Text fw={600} style={{ overflowWrap: 'anywhere' }}>
                            {user.name}
                          </Text>
                          <Text size="sm" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
                            {user.email}
                          </Text>
                        </div>
                        {status(user)}
                      </Group>
                      <Group justify="space-between" mt="xs" wrap="wrap" gap="xs">
                        {roleControl(user)}
                        {activeControl(user)}
                      </Group>
                      <Group justify="space-between" mt={4}>
                        <Text size="xs" c="dimmed">
                          {t('settings.users.lastLoginAt', { time: formatDateTime(user.last_login_at, i18n.language) })}
                        </Text>
                        {resetButton(user)}
                      </Group>
                    </Paper>
                  ))}
                </Stack>
              ) : (
                <Table.ScrollContainer minWidth={860}>
                  <Table verticalSpacing="xs">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th scope="col">{t('settings.users.name')}</Table.Th>
                        <Table.Th scope="col">{t('settings.users.role')}</Table.Th>
                        <Table.Th scope="col">{t('settings.users.status')}</Table.Th>
                        <Table.Th scope="col">{t('settings.users.enabled')}</Table.Th>
                        <Table.Th scope="col">{t('settings.users.lastLogin')}</Table.Th>
                        <Table.Th scope="col">{t('settings.users.created')}</Table.Th>
                        <Table.Th scope="col">
                          <VisuallyHidden>{t('settings.common.actions')}</VisuallyHidden>
                        </Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {data.map((user) => (
                        <Table.Tr key={user.id} data-testid="user-row" data-email={user.email} data-role={user.role} data-disabled={user.disabled ? 'true' : 'false'}>
                          <Table.Td>
                            <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }}>
                              {user.name}
                            </Text>
                            <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
                              {user.email}
                            </Text>
                          </Table.Td>
                          <Table.Td>{roleControl(user)}</Table.Td>
                          <Table.Td miw={120}>{status(user)}</Table.Td>
                          <Table.Td>{activeControl(user)}</Table.Td>
                          <Table.Td>
                            <Text size="sm">{formatDateTime(user.last_login_at, i18n.language)}</Text>
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm">{formatDate(user.created_at, i18n.language)}</Text>
                          </Table.Td>
                          <Table.Td>{resetButton(user)}</Table.Td>
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
      <Panel title={t('settings.users.addTitle')} testId="user-add-panel">
        <AddUser roles={roleOptions} onAdded={users.reload} />
      </Panel>
      <RolesPanel roles={roles} />
      <ConfirmModal
        opened={pending !== null}
        title={
          pending?.kind === 'role'
            ? t('settings.users.roleTitle', { name: pending.user.name })
            : t('settings.users.disableTitle', { name: pending?.user.name ?? '' })
        }
        confirmLabel={pending?.kind === 'role' ? t('settings.users.changeRole') : t('settings.users.disable')}
        color={pending?.kind === 'role' ? 'teal' : 'red'}
        onConfirm={async () => {
          if (!pending) return;
          if (pending.kind === 'role') await patch(pending.user, { role: pending.role });
          else await patch(pending.user, { disabled: true });
        }}
        onClose={() => setPending(null)}
      >
        {pending?.kind === 'role'
          ? t('settings.users.roleBody', {
              from: t(`role.${pending.user.role}`, { defaultValue: pending.user.role }),
              to: t(`role.${pending.role}`, { defaultValue: pending.role }),
            })
          : t('settings.users.disableBody')}
      </ConfirmModal>
      <ResetPassword user={resetting} onClose={() => setResetting(null)} onDone={users.reload} />
    </Stack>
  );
}

function AddUser({ roles, onAdded }: { roles: Array<{ value: string; label: string }>; onAdded: () => void }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [saving, setSaving] = useState(false);
  const [errors, setErrors] = useState<PlacedErrors>(NO_ERRORS);
  const [added, setAdded] = useState<string | null>(null);
  const complete = name.trim() && email.trim() && role && password;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!complete) return;
    setSaving(true);
    setErrors(NO_ERRORS);
    setAdded(null);
    try {
      const user = await apiFetch<UserInfo>('/api/users', {
        method: 'POST',
        body: { name: name.trim(), email: email.trim(), role, password },
      });
      setAdded(user.email);
      setName('');
      setEmail('');
      setRole(null);
      setPassword('');
      onAdded();
    } catch (error) {
      setErrors(placeErrors(error, USER_FIELDS));
    } finally {
      setSaving(false);
    }
  }

  const hint = passwordProblem(password, t);
  return (
    <form onSubmit={submit} data-testid="user-add">
      <Stack gap="sm">
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md" verticalSpacing="sm">
          <TextInput
            label={t('settings.users.name')}
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            error={errors.fields.name}
            required
            maxLength={200}
            data-testid="user-add-name"
          />
          <TextInput
            label={t('settings.users.email')}
            type="email"
            value={email}
            onChange={(event) => setEmail(event.currentTarget.value)}
            error={errors.fields.email}
            required
            maxLength={320}
            autoComplete="off"
            data-testid="user-add-email"
          />
          <Select
            label={t('settings.users.role')}
            placeholder={t('settings.users.rolePlaceholder')}
            value={role}
            onChange={setRole}
            data={roles}
            error={errors.fields.role}
            required
            disabled={roles.length === 0}
            allowDeselect={false}
            data-testid="user-add-role"
          />
          <PasswordInput
            label={t('settings.users.password')}
            description={hint ?? t('settings.users.passwordHint', { min: MIN_PASSWORD })}
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
            error={errors.fields.password}
            required
            autoComplete="new-password"
            data-testid="user-add-password"
          />
        </SimpleGrid>
        {errors.general && <ErrorNotice error={errors.general} />}
        {added && (
          <Text size="sm" c="teal.8" role="status" data-testid="user-added">
            {t('settings.users.added', { email: added })}
          </Text>
        )}
        <Group>
          <Button type="submit" loading={saving} disabled={!complete} data-testid="user-add-submit">
            {t('settings.users.add')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function ResetPassword({ user, onClose, onDone }: { user: UserInfo | null; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation();
  const [password, setPassword] = useState('');
  const [saving, setSaving] = useState(false);
  const [errors, setErrors] = useState<PlacedErrors>(NO_ERRORS);
  useEffect(() => {
    setPassword('');
    setErrors(NO_ERRORS);
  }, [user]);
  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!user || !password) return;
    setSaving(true);
    setErrors(NO_ERRORS);
    try {
      await apiFetch<UserInfo>(`/api/users/${encodeURIComponent(user.id)}`, { method: 'PATCH', body: { password } });
      onDone();
      onClose();
    } catch (error) {
      setErrors(placeErrors(error, USER_FIELDS));
    } finally {
      setSaving(false);
    }
  }
  const hint = passwordProblem(password, t);
  return (
    <Modal opened={user !== null} onClose={onClose} title={t('settings.users.resetTitle', { name: user?.name ?? '' })} centered>
      <form onSubmit={submit}>
        <Stack gap="sm">
          <Text size="sm">{t('settings.users.resetBody')}</Text>
          <PasswordInput
            label={t('settings.users.newPassword')}
            description={hint ?? t('settings.users.passwordHint', { min: MIN_PASSWORD })}
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
            error={errors.fields.password}
            required
            autoComplete="new-password"
            data-autofocus
            data-testid="user-reset-input"
          />
          {errors.general && <ErrorNotice error={errors.general} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t('settings.common.cancel')}
            </Button>
            <Button type="submit" loading={saving} disabled={!password} data-testid="user-reset-submit">
              {t('settings.users.setPassword')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function RolesPanel({ roles }: { roles: ApiState<RoleInfo[]> }) {
  const { t } = useTranslation();
  const describe = (role: RoleInfo): ReactNode =>
    t(`settings.roles.description.${role.name}`, { defaultValue: role.description });
  return (
    <Panel title={t('settings.roles.title')} testId="roles-panel">
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          {t('settings.roles.intro')}
        </Text>
        <ApiView state={roles} isEmpty={(data) => data.length === 0} empty={t('settings.roles.none')}>
          {(data) => (
            <Stack gap="xs">
              {data.map((role) => (
                <Paper key={role.name} withBorder p="sm" data-testid="role-row" data-role={role.name}>
                  <Group gap="xs" align="baseline" wrap="wrap">
                    <Text fw={700}>{t(`role.${role.name}`, { defaultValue: role.name })}</Text>
                    <Text size="xs" c="dimmed" ff="monospace">
                      {role.name}
                    </Text>
                  </Group>
                  <Text size="sm" mb={6}>
                    {describe(role)}
                  </Text>
                  <Group gap={4}>
                    {role.permissions.map((permission) => (
                      <Tooltip key={permission} label={permission} withArrow>
                        <Badge variant="light" color="gray" tt="none" radius="sm" data-permission={permission}>
                          {permissionLabel(t, permission)}
                        </Badge>
                      </Tooltip>
                    ))}
                  </Group>
                </Paper>
              ))}
            </Stack>
          )}
        </ApiView>
      </Stack>
    </Panel>
  );
}
