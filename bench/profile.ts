// Summarises a V8 CPU profile (.cpuprofile, written by `node --cpu-prof`): the functions
// with the most self time, and self time by area (hookd's own code, each npm package,
// Node's internals, garbage collection). Idle time is left out of the percentages.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  idleMs: number;
  top: { function: string; where: string; selfMs: number; percent: number }[];
  areas: { area: string; selfMs: number; percent: number }[];
}

function areaOf(url: string, functionName: string, repoRoot: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (inModules) return inModules[1]!;
  if (file.startsWith(path.join(repoRoot, 'src'))) return 'hookd src';
  return path.relative(repoRoot, file);
}

function whereOf(url: string, line: number, repoRoot: string): string {
  if (!url) return '';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const shown = file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file;
  return `${shown}:${line + 1}`;
}

export function summariseProfile(file: string, repoRoot: string, topCount = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const functions = new Map<string, { function: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const name = functionName || '(anonymous)';
    const where = whereOf(url, lineNumber, repoRoot);
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { function: name, where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const area = areaOf(url, functionName, repoRoot);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  const percent = (us: number) => Math.round((us / busyUs) * 1000) / 10;
  return {
    file,
    busyMs: ms(busyUs),
    idleMs: ms(idleUs),
    top: [...functions.values()].sort((a, b) => b.us - a.us).slice(0, topCount)
      .map((f) => ({ function: f.function, where: f.where, selfMs: ms(f.us), percent: percent(f.us) })),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: ms(us), percent: percent(us) })),
  };
}

/** Every profile below `root` (one folder per hookd process name), keyed by folder and file. */
export function summariseProfiles(root: string, repoRoot: string): Record<string, ProfileSummary> {
  const summaries: Record<string, ProfileSummary> = {};
  let folders: string[];
  try {
    folders = readdirSync(root);
  } catch {
    return summaries;
  }
  for (const folder of folders.sort()) {
    const files = readdirSync(path.join(root, folder)).filter((f) => f.endsWith('.cpuprofile')).sort();
    files.forEach((file, i) => {
      summaries[files.length > 1 ? `${folder} #${i + 1}` : folder] = summariseProfile(path.join(root, folder, file), repoRoot);
    });
  }
  return summaries;
}
