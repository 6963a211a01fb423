// A PostgreSQL server of a test's own, for tests that stop and start the database: the shared
// server is used by other test files at the same time. It needs the server binaries
// (/usr/lib/postgresql/<version>/bin); as root they run as the postgres user, as initdb and
// the server refuse to run as root. The server and its files are removed when the test ends,
// also if the test process exits early.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './hookd-process.ts';

const run = promisify(execFile);
const BINARIES = '/usr/lib/postgresql';
const START_TIMEOUT_S = 30;

function binDir(): string | null {
  if (!existsSync(BINARIES)) return null;
  const versions = readdirSync(BINARIES)
    .filter((version) => existsSync(path.join(BINARIES, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(BINARIES, versions[0], 'bin') : null;
}

const isRoot = process.getuid?.() === 0;

function postgresUser(): { uid: number; gid: number } | null {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return null;
  }
}

/** Why no private server can be started on this machine, or null when one can. */
export function privatePostgresUnavailable(): string | null {
  if (binDir() === null) return `no PostgreSQL server binaries under ${BINARIES}/<version>/bin`;
  if (isRoot && postgresUser() === null) return 'running as root, and there is no postgres user to run the server as';
  return null;
}

export class PrivatePostgres {
  /** Connection URL of its `postgres` database. */
  readonly url: string;
  readonly #bin: string;
  readonly #dir: string;
  readonly #port: number;
  #destroyed = false;

  private constructor(bin: string, dir: string, port: number) {
    this.#bin = bin;
    this.#dir = dir;
    this.#port = port;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    process.once('exit', () => this.#destroyNow());
  }

  /** Creates a cluster in a temporary directory and starts it on a free port. */
  static async create(): Promise<PrivatePostgres> {
    const bin = binDir();
    if (bin === null) throw new Error(privatePostgresUnavailable()!);
    const dir = mkdtempSync(path.join(tmpdir(), 'hookd-pg-'));
    if (isRoot) {
      const { uid, gid } = postgresUser()!;
      chownSync(dir, uid, gid);
    }
    const server = new PrivatePostgres(bin, dir, await freePort());
    try {
      await server.#pg('initdb', ['-D', server.#data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
      await server.start();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  get #data(): string {
    return path.join(this.#dir, 'data');
  }

  /** The command line of a server binary, run as the postgres user when we are root. */
  #command(program: string, args: string[]): [string, string[]] {
    const binary = path.join(this.#bin, program);
    return isRoot ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  }

  #pg(program: string, args: string[]) {
    return run(...this.#command(program, args));
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const options = `-p ${this.#port} -k ${this.#dir} -c listen_addresses=127.0.0.1`;
    await this.#pg('pg_ctl', ['-D', this.#data, '-o', options, '-l', path.join(this.#dir, 'server.log'), '-w', '-t', String(START_TIMEOUT_S), 'start']);
  }

  /** Stops the server as an operator's restart would: active connections are terminated. */
  async stop(): Promise<void> {
    await this.#pg('pg_ctl', ['-D', this.#data, '-m', 'fast', '-w', 'stop']);
  }

  /** Stops the server at once and removes its files. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    await this.#pg('pg_ctl', this.#immediateStop).catch(() => {});
    this.#removeFiles();
  }

  /** The same, synchronously, for when the test process exits. */
  #destroyNow(): void {
    if (this.#destroyed) return;
    try {
      execFileSync(...this.#command('pg_ctl', this.#immediateStop), { stdio: 'ignore' });
    } catch {
      // It was not running.
    }
    this.#removeFiles();
  }

  get #immediateStop(): string[] {
    return ['-D', this.#data, '-m', 'immediate', '-w', 'stop'];
  }

  #removeFiles(): void {
    this.#destroyed = true;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
