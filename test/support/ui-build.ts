// The browser tests test the pages as the sources are now, not as an earlier `npm install`
// built them. Test files run in parallel, and a build empties dist/ui: one file building while
// another's browser loads pages showed that browser a blank page. So dist/ui is rebuilt only
// when a source is newer than it, by one process at a time (a lock file beside it); the others
// wait for that build, and none rebuilds what is current.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { eventually } from './receiver.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SOURCES = ['src/ui/client', 'src/ui/vite.config.ts', 'src/client/api-types.ts'].map((p) => path.join(ROOT, p));
const BUILT = path.join(ROOT, 'dist/ui/index.html');
const LOCK = path.join(ROOT, 'dist/ui-build.lock');
/** Long enough for a build on a busy machine. */
const BUILD_WAIT_MS = 180_000;

function newest(file: string): number {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(file).map((entry) => newest(path.join(file, entry))));
}

function stale(): boolean {
  if (!existsSync(BUILT)) return true;
  return statSync(BUILT).mtimeMs < Math.max(...SOURCES.map(newest));
}

export async function buildUiIfStale(): Promise<void> {
  for (;;) {
    if (!existsSync(LOCK) && !stale()) return;
    let lock: number;
    try {
      lock = openSync(LOCK, 'wx');
    } catch {
      await eventually(() => (existsSync(LOCK) ? undefined : true), BUILD_WAIT_MS, `another test's UI build to finish (remove ${LOCK} if none runs)`);
      continue;
    }
    try {
      if (stale()) {
        execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'src/ui/vite.config.ts', '--logLevel', 'error'], { cwd: ROOT, stdio: 'inherit' });
      }
    } finally {
      closeSync(lock);
      rmSync(LOCK, { force: true });
    }
    return;
  }
}
