/**
 * The stack `npm run bench:load` measures, as separate OS processes it owns: the embedded FerretDB
 * (spawned directly, so its pid is known and it can be `kill -9`ed), every subgraph, the router and
 * extra notifications workers, on free ports, with a data folder and DB_PREFIX of its own, so it
 * runs beside a developer's `npm start` or `npm test`. Every child writes its output to a log file
 * of its own (one per incarnation); nothing a child prints passes through this process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import { exitWithParent } from '../platform/processExit';
import { loadConfig, type Config } from '../platform/config';
import { randomSecret } from '../scripts/secrets';
import { SUBGRAPHS, subgraphUrlEnv, type SubgraphName } from '../platform/services';
import { ferretDbArgs, ferretDbBinaryToRun } from '../scripts/db';
import { seedDemoData } from '../scripts/seed';
import { restartDelayMs } from '../scripts/supervise';
import { CommandCounter } from './dbCommands';
import { deadlineSignal } from './loadClient';

const ROOT = path.join(__dirname, '..');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Something that happened to a process of the stack (for the results and the failure report). */
export interface ProcessEvent {
  at: number;
  name: string;
  what: 'spawned' | 'ready' | 'killed (SIGKILL by the benchmark)' | 'stopped' | 'exited unexpectedly' | 'restarted by the supervisor';
  detail?: string;
}

/** `count` distinct free TCP ports on 127.0.0.1 (held open together while choosing, so they differ). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(server);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Resolves when a TCP connection to 127.0.0.1:port succeeds; rejects after `timeoutMs`. */
async function waitForPort(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error(`the process meant to listen on port ${port} exited`);
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** Resolves when GET url answers 2xx; rejects after `timeoutMs` or when the process died. */
export async function waitForHttp(url: string, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const deadline = deadlineSignal(2_000);
      try {
        const res = await fetch(url, { signal: deadline.signal });
        await res.arrayBuffer();
        if (res.ok) return;
        last = `HTTP ${res.status}`;
      } finally {
        deadline.clear();
      }
    } catch (err) {
      last = (err as Error).message;
    }
    if (!alive()) throw new Error(`${url}: the process exited (${last})`);
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs / 1000} s (${last})`);
    await sleep(200);
  }
}

interface Launch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** 'pipe' for a child that stops when this process is gone (platform/processExit.ts exitWithParent). */
  stdin?: 'pipe';
}

/** A child that ran this long before exiting is started again after the shortest pause (as `npm start`). */
const STABLE_MS = 60_000;

/** The last log lines of a process at error level or above (evidence for a crash), shortened. */
function lastErrors(file: string, count = 2): string {
  try {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => /"level":(50|60)/.test(l));
    return lines
      .slice(-count)
      .map((l) => {
        try {
          const j = JSON.parse(l) as { msg?: string; err?: string | { message?: string } };
          const err = typeof j.err === 'string' ? j.err : j.err?.message;
          return `"${j.msg ?? ''}${err ? `: ${err}` : ''}"`.slice(0, 200);
        } catch {
          return l.slice(0, 200);
        }
      })
      .join('; ');
  } catch {
    return '';
  }
}

/**
 * One process of the stack, supervised like `npm start` does it (scripts/supervise.ts): when it
 * exits without being asked to, the exit is recorded (with its last error log lines) and it is
 * started again after a pause that doubles with each quick exit (1 s … 30 s). The benchmark's own
 * `kill9` is not such an exit: the fault steps start the process again themselves, at once.
 * Every incarnation writes a log file of its own; port and data stay the same.
 */
export class ManagedProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private expectingExit = false;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private quickExits = 0;
  incarnation = 0;
  readonly logFiles: string[] = [];

  constructor(
    readonly name: string,
    private readonly launch: () => Launch,
    private readonly logDir: string,
    private readonly events: ProcessEvent[],
    /** Where it answers: /ready (subgraphs) or /health (router), or a bare port (database). */
    readonly probe: { url: string } | { port: number },
  ) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Neither running nor about to be started again by the supervisor. */
  get down(): boolean {
    return !this.running && this.restartTimer === null;
  }

  spawn(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.stopped = false;
    this.incarnation++;
    const logFile = path.join(this.logDir, `${this.name}.${this.incarnation}.log`);
    this.logFiles.push(logFile);
    const fd = openSync(logFile, 'a');
    const { command, args, env, stdin } = this.launch();
    const child = spawn(command, args, { cwd: ROOT, env, stdio: [stdin ?? 'ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    this.expectingExit = false;
    const startedAt = Date.now();
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        if (!this.expectingExit && !this.stopped) {
          const evidence = lastErrors(logFile);
          this.events.push({ at: Date.now(), name: this.name, what: 'exited unexpectedly', detail: `${signal ?? `code ${code}`}, pid ${child.pid}${evidence ? `, last error log: ${evidence}` : ''}` });
          this.quickExits = Date.now() - startedAt < STABLE_MS ? this.quickExits + 1 : 0;
          const delay = restartDelayMs(Math.max(this.quickExits - 1, 0));
          this.restartTimer = setTimeout(() => {
            this.restartTimer = null;
            if (this.stopped || this.running) return;
            this.spawn();
            this.events.push({ at: Date.now(), name: this.name, what: 'restarted by the supervisor', detail: `after ${delay / 1000} s, pid ${this.pid}` });
          }, delay);
        }
        resolve();
      });
      child.once('error', (err) => {
        this.events.push({ at: Date.now(), name: this.name, what: 'exited unexpectedly', detail: `spawn error: ${err.message}` });
        resolve();
      });
    });
    this.events.push({ at: Date.now(), name: this.name, what: 'spawned', detail: `pid ${child.pid}` });
  }

  /** Waits until the process answers its probe. */
  async ready(timeoutMs: number): Promise<void> {
    const alive = () => !this.down;
    if ('url' in this.probe) await waitForHttp(this.probe.url, timeoutMs, alive);
    else await waitForPort(this.probe.port, timeoutMs, alive);
    this.events.push({ at: Date.now(), name: this.name, what: 'ready' });
  }

  /** kill -9, and waits until it is gone (its port is free again); not restarted by the supervisor. */
  async kill9(): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (!this.child || !this.running) return;
    this.expectingExit = true;
    this.events.push({ at: Date.now(), name: this.name, what: 'killed (SIGKILL by the benchmark)', detail: `pid ${this.child.pid}` });
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (!this.child || !this.running) return;
    this.expectingExit = true;
    const child = this.child;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.events.push({ at: Date.now(), name: this.name, what: 'stopped' });
  }

  /** Last resort from a synchronous 'exit' handler. */
  killNow(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.child && this.running) {
      this.expectingExit = true;
      this.child.kill('SIGKILL');
    }
  }
}

export type ServiceName = SubgraphName | 'router';

export interface StackOptions {
  /** Holds the data folder and the logs. */
  runDir: string;
  prefix: string;
  /** Extra environment for every node process (e.g. the raised rate limit). */
  env: Record<string, string>;
}

const BENCH_SECRETS = { INTERNAL_SECRET: randomSecret('INTERNAL_SECRET'), JWT_SECRET: randomSecret('JWT_SECRET'), SUPERADMIN_PASSWORD: randomSecret('SUPERADMIN_PASSWORD') };

/** Environment every node process of the stack gets (besides its PORT), reported with the results. */
export function stackEnvironment(uri: string, prefix: string, urls: Record<string, string>, extra: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    HOST: '127.0.0.1',
    MONGODB_URI: uri,
    DB_PREFIX: prefix,
    // Random secrets of this benchmark run (no published default protects a running graph).
    ...BENCH_SECRETS,
    ...urls,
    ...extra,
  };
}

/**
 * Database + subgraphs + router. Start order as scripts/start.ts: database, every subgraph (ready
 * on /ready), demo data, router (ready on /health).
 */
export class Stack {
  readonly events: ProcessEvent[] = [];
  readonly dataDir: string;
  readonly logDir: string;
  readonly uri: string;
  prefix: string;
  readonly db: ManagedProcess;
  readonly services = new Map<ServiceName, ManagedProcess>();
  /** Extra notifications workers (reminders step), by name. */
  readonly extras = new Map<string, ManagedProcess>();
  private conn: Connection | null = null;

  private constructor(
    private readonly opts: StackOptions,
    readonly dbPort: number,
    readonly ports: Record<ServiceName, number>,
    private readonly bin: string,
    /** With BENCH_DB_COUNT=1: the stack talks to the database through this counting proxy. */
    readonly commands: { counter: CommandCounter; port: number } | null = null,
  ) {
    this.dataDir = path.join(opts.runDir, 'ferretdb');
    this.logDir = path.join(opts.runDir, 'logs');
    mkdirSync(this.dataDir, { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
    this.prefix = opts.prefix;
    this.uri = `mongodb://127.0.0.1:${commands?.port ?? dbPort}/`;
    this.db = new ManagedProcess(
      'ferretdb',
      () => {
        const watch = exitWithParent();
        return {
          command: this.bin,
          // BENCH_FERRETDB_PPROF=127.0.0.1:6060 serves Go's profiler (go tool pprof http://…/debug/pprof/profile).
          args: [...ferretDbArgs(this.dbPort, this.dataDir), ...(process.env.BENCH_FERRETDB_PPROF ? ['-pprof-addr', process.env.BENCH_FERRETDB_PPROF] : [])],
          env: { ...process.env, ...watch.env },
          stdin: watch.stdin,
        };
      },
      this.logDir,
      this.events,
      { port: dbPort },
    );
    for (const name of [...SUBGRAPHS, 'router'] as const) {
      const entry = name === 'router' ? 'router/index.ts' : `subgraphs/${name}/index.ts`;
      const probe = `http://127.0.0.1:${this.ports[name]}/${name === 'router' ? 'health' : 'ready'}`;
      this.services.set(name, new ManagedProcess(name, () => this.nodeLaunch(entry, this.ports[name]), this.logDir, this.events, { url: probe }));
    }
  }

  static async create(opts: StackOptions): Promise<Stack> {
    const bin = ferretDbBinaryToRun((m) => console.log(m));
    const [dbPort, ...rest] = await freePorts(SUBGRAPHS.length + 2);
    const ports = Object.fromEntries([...SUBGRAPHS, 'router'].map((name, i) => [name, rest[i]])) as Record<ServiceName, number>;
    // BENCH_DB_COUNT=1 counts the database commands the stack sends (bench/dbCommands.ts).
    let commands: { counter: CommandCounter; port: number } | null = null;
    if (process.env.BENCH_DB_COUNT) {
      const counter = new CommandCounter(() => dbPort);
      commands = { counter, port: await counter.listen() };
    }
    return new Stack(opts, dbPort, ports, bin, commands);
  }

  get routerUrl(): string {
    return `http://127.0.0.1:${this.ports.router}/graphql`;
  }

  /** SUBGRAPH_<NAME>_URL for every subgraph. */
  private urls(): Record<string, string> {
    return Object.fromEntries(SUBGRAPHS.map((n) => [subgraphUrlEnv(n), `http://127.0.0.1:${this.ports[n]}/graphql`]));
  }

  environment(): Record<string, string> {
    return stackEnvironment(this.uri, this.prefix, this.urls(), this.opts.env);
  }

  private nodeLaunch(entry: string, port: number): Launch {
    // BENCH_NODE_PROF=appointments,router writes V8 CPU profiles of those processes into <run folder>/prof (with --keep).
    const name = path.basename(entry === 'router/index.ts' ? 'router' : path.dirname(entry));
    const prof = (process.env.BENCH_NODE_PROF ?? '').split(',').includes(name) ? ['--cpu-prof', `--cpu-prof-dir=${path.join(this.logDir, '..', 'prof')}`] : [];
    // A benchmark stopped hard (Ctrl-C twice, SIGKILL) leaves no services behind.
    const watch = exitWithParent();
    return {
      command: process.execPath,
      args: [...prof, '--import', 'tsx', path.join(ROOT, entry)],
      env: { ...process.env, ...this.environment(), PORT: String(port), ...watch.env },
      stdin: watch.stdin,
    };
  }

  /** The config the stack's processes read (for dbName and the seed). */
  config(): Config {
    return loadConfig({ ...process.env, ...this.environment() });
  }

  service(name: ServiceName): ManagedProcess {
    const p = this.services.get(name);
    if (!p) throw new Error(`unknown service ${name}`);
    return p;
  }

  /** Every process, the database last. */
  all(): ManagedProcess[] {
    return [...this.extras.values(), ...this.services.values(), this.db];
  }

  async startDatabase(timeoutMs = 30_000): Promise<void> {
    this.db.spawn();
    await this.db.ready(timeoutMs);
    await this.ping(timeoutMs);
  }

  /** The benchmark's own connection to the stack's database (counts, direct inserts). */
  async connection(): Promise<Connection> {
    if (!this.conn) this.conn = await mongoose.createConnection(this.uri, { dbName: `${this.prefix}_bench`, serverSelectionTimeoutMS: 5_000, maxPoolSize: 50 }).asPromise();
    return this.conn;
  }

  /** Resolves when the database answers a ping. */
  async ping(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const conn = await this.connection();
        await conn.db!.admin().ping();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`database at ${this.uri} does not answer: ${(err as Error).message}`);
        await sleep(200);
      }
    }
  }

  async startSubgraphs(timeoutMs = 120_000): Promise<void> {
    for (const name of SUBGRAPHS) this.service(name).spawn();
    await Promise.all(SUBGRAPHS.map((name) => this.service(name).ready(timeoutMs)));
  }

  async seed(): Promise<Awaited<ReturnType<typeof seedDemoData>>> {
    return seedDemoData(this.config());
  }

  async startRouter(timeoutMs = 60_000): Promise<void> {
    const router = this.service('router');
    router.spawn();
    await router.ready(timeoutMs);
  }

  /** A second (third, …) notifications worker on a port of its own. */
  async startExtraNotifications(name: string, timeoutMs = 60_000): Promise<ManagedProcess> {
    const [port] = await freePorts(1);
    const worker = new ManagedProcess(name, () => this.nodeLaunch('subgraphs/notifications/index.ts', port), this.logDir, this.events, {
      url: `http://127.0.0.1:${port}/ready`,
    });
    this.extras.set(name, worker);
    worker.spawn();
    await worker.ready(timeoutMs);
    return worker;
  }

  /** Stops the subgraphs and the router (not the database), e.g. to start them again with another DB_PREFIX. */
  async stopServices(): Promise<void> {
    await Promise.all([...this.extras.values()].map((p) => p.stop()));
    await this.service('router').stop();
    await Promise.all(SUBGRAPHS.map((n) => this.service(n).stop()));
  }

  /** Starts the subgraphs and the router again with another DB_PREFIX (same ports, same database). */
  async restartServicesWithPrefix(prefix: string): Promise<void> {
    await this.stopServices();
    this.prefix = prefix;
    await this.startSubgraphs();
    await this.startRouter();
  }

  /** Services that are not running although they should (crashed), restarted; returns their names. */
  async reviveCrashed(timeoutMs = 120_000): Promise<string[]> {
    const revived: string[] = [];
    if (this.db.down) {
      await this.startDatabase(timeoutMs);
      revived.push(this.db.name);
    }
    for (const [name, p] of this.services) {
      if (p.incarnation > 0 && p.down) {
        p.spawn();
        revived.push(name);
      }
    }
    // Whatever the supervisor started again (or is about to) must be ready before the next step.
    await Promise.all([this.db, ...this.services.values()].filter((p) => p.incarnation > 0).map((p) => p.ready(timeoutMs)));
    return revived;
  }

  /** Stops everything this stack started: SIGTERM (then SIGKILL), the database last. */
  async stopAll(): Promise<void> {
    await this.conn?.close(true).catch(() => undefined);
    this.conn = null;
    await Promise.all([...this.extras.values(), ...this.services.values()].map((p) => p.stop()));
    await this.db.stop();
    await this.commands?.counter.close();
  }

  /** From a synchronous 'exit' handler: SIGKILL whatever still runs. */
  killAllNow(): void {
    for (const p of this.all()) p.killNow();
  }
}

// ---------------------------------------------------------------------------------------------
// CPU of a process, from /proc/<pid>/stat (utime + stime, in clock ticks).

let clockTicks: number | null = null;
function ticksPerSecond(): number {
  if (clockTicks === null) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(out.stdout?.trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** CPU seconds (user + system) a process has used so far; null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces), from field 3 (state) on.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** Resident memory of a process in MB; null when it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}
