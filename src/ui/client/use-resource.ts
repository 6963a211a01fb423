// Loading what a view shows: loading and error states, reloading when its inputs or the API
// key change, and optional refreshing while the tab is visible (keeping what is shown meanwhile).
import { useEffect, useRef, useState } from 'preact/hooks';
import { useApplication } from './application.ts';
import { authState, onAuthChange } from './auth.ts';

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload(): void;
}

export function useAuthEpoch(): number {
  const [epoch, setEpoch] = useState(authState().epoch);
  useEffect(() => onAuthChange(() => setEpoch(authState().epoch)), []);
  return epoch;
}

export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, inputs: unknown[], refreshMs = 0): Resource<T> {
  // Whatever a view loads is of the chosen application: another one is other inputs.
  const application = useApplication();
  const key = JSON.stringify([application, ...inputs]);
  const [state, setState] = useState<{ key: string; data?: T; error?: Error; loading: boolean }>({ key, loading: true });
  const [nonce, setNonce] = useState(0);
  const epoch = useAuthEpoch();
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    // Other inputs: what was shown belongs to something else. A refresh keeps it until replaced.
    setState((previous) => (previous.key === key ? { ...previous, loading: true } : { key, loading: true }));
    loadRef.current(controller.signal).then(
      (data) => setState({ key, data, loading: false }),
      (error: Error) => {
        if (!controller.signal.aborted) setState((previous) => ({ ...previous, key, error, loading: false }));
      },
    );
    return () => controller.abort();
  }, [key, nonce, epoch]);

  useEffect(() => {
    if (refreshMs <= 0) return;
    const timer = setInterval(() => {
      if (!document.hidden) setNonce((n) => n + 1);
    }, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);

  const current = state.key === key ? state : { key, loading: true };
  return { data: current.data, error: current.error, loading: current.loading, reload: () => setNonce((n) => n + 1) };
}
