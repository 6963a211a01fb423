// The API key for this browser session. hookd answers 401 when API keys are on; the app then
// asks for a key, keeps it in sessionStorage (gone when the tab closes) and sends it as
// `Authorization: Bearer <key>`.
const STORAGE_KEY = 'hookd.apiKey';

export interface AuthState {
  /** The API refused the current key (or its absence): the app should ask for one. */
  keyNeeded: boolean;
  /** Changes whenever the key does, so that views load again with it. */
  epoch: number;
}

let state: AuthState = { keyNeeded: false, epoch: 0 };
const listeners = new Set<() => void>();

function update(next: AuthState): void {
  state = next;
  for (const listener of listeners) listener();
}

export function authState(): AuthState {
  return state;
}

export function onAuthChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function apiKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function authHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

export function keyRejected(): void {
  if (!state.keyNeeded) update({ ...state, keyNeeded: true });
}

/** Shows the key prompt again (after it was dismissed). */
export function askForKey(): void {
  update({ ...state, keyNeeded: true });
}

export function setApiKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key.trim());
  update({ keyNeeded: false, epoch: state.epoch + 1 });
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  update({ keyNeeded: false, epoch: state.epoch + 1 });
}
