import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Pause before restart n (0, 1, …) of a child that keeps exiting quickly: 1 s, 2 s, 4 s … 30 s. */
export const restartDelayMs = (quickExits: number): number => Math.min(1_000 * 2 ** quickExits, 30_000);

export interface SuperviseOptions {
  name: string;
  command: string;
  args: string[];
  spawn: SpawnOptions;
  /** A child that ran this long before exiting starts again after the shortest pause. */
  stableMs?: number;
  delayMs?: (quickExits: number) => number;
  /** Where the supervisor says what it does (npm start: stderr). */
  say?: (line: string) => void;
  /** Called with every child started (the first and each restart), e.g. to read its piped output. */
  onSpawn?: (proc: ChildProcess) => void;
}

/**
 * Keeps one child process running: when it exits without being asked to, it is started again
 * after a pause that doubles with each quick exit, and the supervisor says so.
 */
export class Supervised {
  private proc: ChildProcess | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** Settles when the latest child has exited and its piped output was read to the end. */
  private closed: Promise<void> = Promise.resolve();
  /** How many times the child was started again. */
  restarts = 0;

  constructor(private readonly opts: SuperviseOptions) {}

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  start(quickExits = 0): this {
    const { name, command, args, spawn: spawnOpts, stableMs = 60_000, delayMs = restartDelayMs, say = (l: string) => console.error(l) } = this.opts;
    const startedAt = Date.now();
    const proc = spawn(command, args, spawnOpts);
    this.proc = proc;
    this.closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
    this.opts.onSpawn?.(proc);
    proc.once('exit', (code, signal) => {
      if (this.proc === proc) this.proc = null;
      if (this.stopped) return;
      const quick = Date.now() - startedAt < stableMs ? quickExits + 1 : 0;
      const delay = delayMs(Math.max(quick - 1, 0));
      say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); restarting it in ${delay / 1000} s (the rest keeps running).`);
      this.timer = setTimeout(() => {
        if (this.stopped) return;
        this.restarts++;
        this.start(quick);
        say(`${name} restarted (pid ${this.proc?.pid}).`);
      }, delay);
    });
    return this;
  }

  /** Stops supervising and ends the child: SIGTERM, SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const proc = this.proc;
    // Resolves on 'close' (exited, piped output read to the end: its last log lines are printed),
    // also when Ctrl-C reached the child first.
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return this.closed;
    proc.kill('SIGTERM');
    const kill = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    kill.unref();
    await this.closed;
    clearTimeout(kill);
  }
}
