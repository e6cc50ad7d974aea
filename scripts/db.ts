import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { NO_DATABASE_HELP } from '../platform/db';
import { exitWithParent } from '../platform/processExit';
import { DEFAULT_PORTS } from '../platform/services';
import { OVERLAY_FILES, preparePatchedFerretDb } from './ferretdb/patch';

const ROOT = path.join(__dirname, '..');
const FERRETDB_SRC = path.join(ROOT, 'scripts', 'ferretdb');
export const FERRETDB_BIN = path.join(ROOT, '.tools', 'bin', 'healthsync-ferretdb');
export const DEFAULT_DATA_DIR = path.join(ROOT, '.data', 'ferretdb');

export interface Database {
  uri: string;
  /** True when MONGODB_URI pointed at a server we did not start. */
  external: boolean;
  stop(): Promise<void>;
  /** Ends the embedded server at once (SIGKILL), as a crash would; for fault tests. */
  kill(): Promise<void>;
  /** Settles when the embedded server's process has ended, for whatever reason (never for an external one). */
  exited: Promise<void>;
  /** The embedded server's process id (none for an external server). */
  pid?: number;
}

function newestSource(): number {
  const sources = ['main.go', path.join('walsync', 'walsync.go'), 'go.mod', 'go.sum', 'patch.ts', ...OVERLAY_FILES.map((f) => path.join('overlay', f))];
  return Math.max(...sources.map((f) => statSync(path.join(FERRETDB_SRC, f)).mtimeMs));
}

/** Builds the embedded FerretDB with the Go toolchain when it is missing or older than its source. */
export function ensureFerretDbBinary(log: (msg: string) => void = console.log): string {
  if (existsSync(FERRETDB_BIN) && statSync(FERRETDB_BIN).mtimeMs >= newestSource()) return FERRETDB_BIN;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new Error(`MONGODB_URI is not set and Go is not installed, so the embedded FerretDB cannot be built.\n${NO_DATABASE_HELP}`);
  }
  log('Building the embedded FerretDB (MongoDB wire protocol on SQLite) with Go; the first build takes a few minutes…');
  mkdirSync(path.dirname(FERRETDB_BIN), { recursive: true });
  const modfile = preparePatchedFerretDb(FERRETDB_SRC, path.join(path.dirname(FERRETDB_BIN), '..', 'ferretdb-patched'));
  const build = spawnSync('go', ['build', '-trimpath', `-modfile=${modfile}`, '-o', FERRETDB_BIN, '.'], { cwd: FERRETDB_SRC, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`Building FerretDB failed (go build exited ${build.status}).\n${NO_DATABASE_HELP}`);
  return FERRETDB_BIN;
}

function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /^listening (mongodb:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`FerretDB exited with code ${code} before it was ready:\n${stderr}`)));
    child.once('error', reject);
  });
}

/**
 * The embedded FerretDB to run: the project's build, or HEALTHSYNC_FERRETDB_BIN, another build
 * (the benchmarks compare builds with it, e.g. bench/lookups.ts the stock pushdown with ours).
 */
export function ferretDbBinaryToRun(log: (msg: string) => void = console.log): string {
  return process.env.HEALTHSYNC_FERRETDB_BIN ?? ensureFerretDbBinary(log);
}

/** Default of DB_SYNC_MS: as often as MongoDB's journal commits (storage.journal.commitIntervalMs). */
const DEFAULT_SYNC_MS = 100;

/**
 * DB_SYNC_MS: how often the embedded database makes committed writes durable on disk (group
 * commit, scripts/ferretdb/walsync); 0 makes every commit wait for its own fsync. A write it
 * acknowledged survives any crash of the database process either way.
 */
export function syncEveryMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.DB_SYNC_MS?.trim();
  if (raw === undefined || raw === '') return DEFAULT_SYNC_MS;
  if (!/^\d+$/.test(raw) || Number(raw) > 60_000) throw new Error(`DB_SYNC_MS must be a whole number of milliseconds from 0 to 60000, not "${raw}"`);
  return Number(raw);
}

/** The embedded server's command line (scripts/ferretdb/main.go), for everything that starts one. */
export function ferretDbArgs(port: number, dataDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return ['-listen-addr', `127.0.0.1:${port}`, '-data-dir', dataDir, '-sync-every', `${syncEveryMs(env)}ms`];
}

/**
 * The database every script and test uses: MONGODB_URI when set, otherwise the embedded FerretDB
 * (built on first use) listening on `port` (0 = any free port) with its files in `dataDir`.
 * `embedded` starts the embedded server even when MONGODB_URI is set: for tests that stop, kill
 * and restart a server of their own.
 */
export async function startDatabase(opts: { dataDir?: string; port?: number; log?: (msg: string) => void; embedded?: boolean } = {}): Promise<Database> {
  if (process.env.MONGODB_URI && !opts.embedded) {
    return {
      uri: process.env.MONGODB_URI,
      external: true,
      stop: async () => undefined,
      exited: new Promise<void>(() => undefined),
      kill: async () => {
        throw new Error('MONGODB_URI points at a server this process did not start');
      },
    };
  }
  const bin = ferretDbBinaryToRun(opts.log);
  const dataDir = opts.dataDir ?? DEFAULT_DATA_DIR;
  const port = opts.port ?? DEFAULT_PORTS.db;
  mkdirSync(dataDir, { recursive: true });
  // Stops by itself when this process is gone, however it ended (a killed test runner or npm start).
  const watch = exitWithParent();
  const child = spawn(bin, ferretDbArgs(port, dataDir), { env: { ...process.env, ...watch.env }, stdio: [watch.stdin, 'pipe', 'pipe'] });
  let uri: string;
  try {
    uri = await waitForListening(child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\nIs port ${port} already in use? Set DB_PORT or MONGODB_URI.`);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    uri,
    external: false,
    exited,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

if (require.main === module && process.argv.includes('--build-only')) {
  try {
    console.log(`embedded FerretDB: ${ensureFerretDbBinary()}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
} else if (require.main === module) {
  const port = process.env.DB_PORT ? Number(process.env.DB_PORT) : undefined;
  startDatabase({ port }).then(
    (db) => {
      console.log(`MongoDB-wire server ready at ${db.uri}`);
      const stop = () => void db.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err: unknown) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
