// The application the UI shows: one (its id) or every one (null). Chosen with the switch in the
// header and kept for the browser (localStorage); every list, figure and the live tail are
// filtered by it, and new subscriptions are created in it. Views reload when it changes.
import { useEffect, useState } from 'preact/hooks';
import { PORTAL } from './paths.ts';

const STORAGE_KEY = 'hookd.application';
const listeners = new Set<() => void>();

export function currentApplication(): string | null {
  // The portal is one application's already: its token decides which.
  return PORTAL ? null : localStorage.getItem(STORAGE_KEY);
}

export function setApplication(id: string | null): void {
  if (id === null) localStorage.removeItem(STORAGE_KEY);
  else localStorage.setItem(STORAGE_KEY, id);
  for (const listener of listeners) listener();
}

export function onApplicationChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The chosen application, re-rendering when it changes. */
export function useApplication(): string | null {
  const [application, set] = useState(currentApplication());
  useEffect(() => onApplicationChange(() => set(currentApplication())), []);
  return application;
}
