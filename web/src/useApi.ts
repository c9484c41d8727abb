import { useCallback, useEffect, useState } from 'react';
import { apiFetch } from './api';

export interface ApiState<T> {
  data: T | undefined;
  error: Error | null;
  /** True until the first answer (or error) for the current path. */
  loading: boolean;
  reload: () => void;
}

/**
 * GET `path` (nothing while it is null), optionally again every `refreshMs`.
 * A refresh keeps the data on screen; a new path starts from loading.
 */
export function useApi<T>(path: string | null, refreshMs?: number): ApiState<T> {
  const [state, setState] = useState<{ path: string | null; data?: T; error: Error | null }>({
    path: null,
    error: null,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    apiFetch<T>(path, { signal: controller.signal }).then(
      (data) => {
        if (!controller.signal.aborted) setState({ path, data, error: null });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState((previous) => ({
          path,
          // A failed refresh of the same path keeps what was shown, with the error.
          data: previous.path === path ? previous.data : undefined,
          error: error instanceof Error ? error : new Error(String(error)),
        }));
      },
    );
    return () => controller.abort();
  }, [path, tick]);

  useEffect(() => {
    if (!refreshMs || path === null) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') setTick((n) => n + 1);
    }, refreshMs);
    return () => window.clearInterval(timer);
  }, [refreshMs, path]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  const fresh = state.path === path;
  return {
    data: fresh ? state.data : undefined,
    error: fresh ? state.error : null,
    loading: path !== null && !fresh,
    reload,
  };
}
