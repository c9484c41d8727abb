import {
  Alert,
  Button,
  Center,
  Group,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation } from 'react-router';
import { ApiError } from '../api';
import { useAuth } from '../auth';
import { LanguageSwitch } from '../components/Layout';

/** Where to go after logging in: the page asked for, never back to /login or off-site. */
function destination(state: unknown): string {
  const from =
    state && typeof state === 'object' && 'from' in state ? (state as { from: unknown }).from : null;
  if (typeof from === 'string' && from.startsWith('/') && !from.startsWith('//') && !from.startsWith('/login')) {
    return from;
  }
  return '/';
}

export function LoginPage() {
  const { t } = useTranslation();
  const { status, login, expired } = useAuth();
  const location = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ title: string; detail: string | null } | null>(null);
  const target = destination(location.state);

  if (status === 'signed-in') return <Navigate to={target} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // Signed in: the <Navigate> above takes the reader where they were going.
      await login(email.trim(), password);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) {
        setError({ title: t('login.failed'), detail: caught.message });
      } else if (caught instanceof ApiError && caught.status === 429) {
        setError({ title: t('login.tooMany'), detail: caught.message });
      } else if (caught instanceof ApiError) {
        setError({ title: t('login.failed'), detail: caught.message });
      } else {
        setError({ title: t('errors.network'), detail: null });
      }
      setBusy(false);
    }
  }

  return (
    <Center mih="100dvh" p="md" bg="gray.0">
      <Paper withBorder shadow="sm" radius="md" p="xl" w="100%" maw={400}>
        <form onSubmit={submit} noValidate>
          <Stack gap="md">
            <Group justify="space-between" align="flex-start">
              <div>
                <Title order={1} size="h2" c="teal.8">
                  Sampan
                </Title>
                <Text size="sm" c="dimmed">
                  {t('login.subtitle')}
                </Text>
              </div>
              <LanguageSwitch />
            </Group>
            {expired && !error && (
              <Alert color="yellow" role="status" data-testid="login-expired">
                {t('login.expired')}
              </Alert>
            )}
            <TextInput
              label={t('login.email')}
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(event) => setEmail(event.currentTarget.value)}
              data-testid="login-email"
              autoFocus
            />
            <PasswordInput
              label={t('login.password')}
              autoComplete="current-password"
              required
              value={password}
              onChange={(event) => setPassword(event.currentTarget.value)}
              data-testid="login-password"
            />
            {error && (
              <Alert color="red" title={error.title} role="alert" data-testid="login-error">
                {error.detail}
              </Alert>
            )}
            <Button
              type="submit"
              loading={busy}
              disabled={!email.trim() || !password}
              data-testid="login-submit"
              fullWidth
            >
              {t('login.submit')}
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
