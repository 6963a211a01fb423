// The API key for this browser session. hookd answers 401 when API keys are on; the app then
// asks for a key, keeps it in sessionStorage (gone when the tab closes) and sends it as
// `Authorization: Bearer <key>`.
import { PORTAL } from './paths.ts';

// The portal keeps its session token apart: an admin's key in the same tab is never sent from it.
const STORAGE_KEY = PORTAL ? 'hookd.portalToken' : 'hookd.apiKey';

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

/**
 * The tab's storage, or a page-long memory where the browser denies storage (a portal framed by
 * another site, with third-party storage blocked): the key then lasts until the page is left.
 */
const memory = new Map<string, string>();
export const tabStorage = {
  get(key: string): string | null {
    try {
      return sessionStorage.getItem(key);
    } catch {
      return memory.get(key) ?? null;
    }
  },
  set(key: string, value: string): void {
    try {
      sessionStorage.setItem(key, value);
    } catch {
      memory.set(key, value);
    }
  },
  remove(key: string): void {
    try {
      sessionStorage.removeItem(key);
    } catch {
      memory.delete(key);
    }
  },
};

export function apiKey(): string | null {
  return tabStorage.get(STORAGE_KEY);
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
  tabStorage.set(STORAGE_KEY, key.trim());
  update({ keyNeeded: false, epoch: state.epoch + 1 });
}

export function forgetKey(): void {
  tabStorage.remove(STORAGE_KEY);
  update({ keyNeeded: false, epoch: state.epoch + 1 });
}
