import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import {
  ApiError,
  apiFetch,
  mayHaveSession,
  setCsrfToken,
  setSessionHint,
  setUnauthorizedHandler,
  type LoginAnswer,
  type PrincipalInfo,
} from './api';

type Status = 'checking' | 'signed-in' | 'signed-out';

interface AuthValue {
  status: Status;
  user: PrincipalInfo | null;
  /** Set when the session ended by itself (expired, revoked): the log-in page says so. */
  expired: boolean;
  login: (email: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
  can: (permission: string) => boolean;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>('checking');
  const [user, setUser] = useState<PrincipalInfo | null>(null);
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setUser(null);
      setExpired(true);
      setStatus('signed-out');
    });
    const controller = new AbortController();
    if (!mayHaveSession()) {
      setStatus('signed-out');
      return () => setUnauthorizedHandler(null);
    }
    apiFetch<PrincipalInfo>('/api/auth/me', { signal: controller.signal, quietUnauthorized: true })
      .then((me) => {
        setUser(me);
        setStatus('signed-in');
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setCsrfToken(null);
        setSessionHint(false);
        // The session this browser had has ended: the log-in page says so.
        setExpired(error instanceof ApiError && error.status === 401);
        setStatus('signed-out');
      });
    return () => {
      controller.abort();
      setUnauthorizedHandler(null);
    };
  }, []);

  const login = useCallback(async (email: string, password: string) => {
    const answer = await apiFetch<LoginAnswer>('/api/auth/login', {
      method: 'POST',
      body: { email, password },
      quietUnauthorized: true,
    });
    setCsrfToken(answer.csrf_token);
    setSessionHint(true);
    const me = await apiFetch<PrincipalInfo>('/api/auth/me');
    setUser(me);
    setExpired(false);
    setStatus('signed-in');
  }, []);

  const logout = useCallback(async () => {
    try {
      await apiFetch<null>('/api/auth/logout', { method: 'POST', quietUnauthorized: true });
    } catch {
      // Logged out either way: the cookie is refused or already gone.
    }
    setCsrfToken(null);
    setSessionHint(false);
    setUser(null);
    setExpired(false);
    setStatus('signed-out');
  }, []);

  const value = useMemo<AuthValue>(
    () => ({
      status,
      user,
      expired,
      login,
      logout,
      can: (permission: string) =>
        !!user && (user.permissions.includes('*') || user.permissions.includes(permission)),
    }),
    [status, user, expired, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}
