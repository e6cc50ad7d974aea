/**
 * `npm run bench:load`: the measurements of the issue "Sound under load and faults" (point 7 and
 * "Done means"), run by hand, never by `npm test`:
 *
 *   npm run bench:load                                  # every step, about 30 min
 *   npm run bench:load -- --only=idle,nofaults,faults   # some steps (always in the order below)
 *
 * Steps (each bounded by a time budget; see STEP_BUDGET_S):
 *   idle        database CPU over 60 s without client traffic, on fresh demo data, and again after
 *               the no-faults bookings when that step runs too (target ≤ 5 % of one core)
 *   nofaults    500 bookings from 20 concurrent clients, after 1,500 warm-up bookings reported apart:
 *               bookings/s, p50/p99 (≥ 100/s, p99 ≤ 500 ms),
 *               beside the plain insertOne rate of the same database at the same concurrency
 *   faults      500 more bookings with Idempotency-Keys and retries while appointments,
 *               notifications and the database are each killed (SIGKILL) and started again:
 *               acknowledged / stored / told failed / duplicates / confirmations, and the time from
 *               the last restart until every stored booking had its SENT confirmation
 *   contention  1,000 concurrent bookings of one slot: stored (must be 1), answers by code, p99
 *   dayview     a day view of 50 doctors through the router, one client: p50 over 20 runs
 *   reminders   2,000 bookings whose reminders fall due at one moment a few minutes later, two
 *               notifications workers, one killed halfway: confirmations and reminders SENT exactly
 *               once, reminder delay after falling due (p99, max)
 *   scale       a doctor's day view and a patient's appointment list at 100 and at 50,000 stored
 *               appointments (ratio; target ≤ 2×), on a fresh DB_PREFIX
 *
 * The stack is its own (bench/loadStack.ts): the embedded FerretDB spawned directly on a free port
 * with a temporary data folder, every subgraph and the router as separate processes on free ports,
 * DB_PREFIX `load_<hex>`, demo data seeded, supervised like `npm start` (a process that exits on its
 * own is started again and reported); it runs beside `npm start` or `npm test`. All traffic
 * goes to 127.0.0.1. Every process it started is stopped at the end, also on failure or Ctrl-C.
 * The results replace this benchmark's own steps in the "## Load and faults" section of
 * bench/RESULTS.md (other sections, and steps not run this time, are kept). Each run first times a
 * fixed reference workload (bench/referenceWork.ts, also `npx tsx bench/referenceWork.ts`): this
 * shared VM's speed drifts by ±20 % and more between hours, so compare runs whose figures agree.
 *
 * Options: --only=<steps> · --results=<file> (bench/RESULTS.md) · --no-results (print only) ·
 * --keep (keep the run folder: data and every process's log) · --idle-seconds=60 · --bookings=500 ·
 * --warm-up=1500 (no-faults bookings on other days before the timed ones) ·
 * --clients=20 · --contention=1000 · --dayview-runs=20 · --reminders=2000 ·
 * --reminder-booking-seconds=180 · --reminder-margin-seconds=90 · --reminder-wait-seconds=240 ·
 * --confirm-wait-seconds=300 · --scale=50000 · --scale-runs=20
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GraphClient } from './loadClient';
import { referenceWorkMs } from './referenceWork';
import { Stack } from './loadStack';
import { contention, dayView, faults, idle, noFaults, noFaultsConfirmed, reminders, scale, StepOut, type Check, type LoadOptions, type Run } from './loadSteps';
import { People, Stores } from './loadWorld';

const STEPS = ['idle', 'nofaults', 'faults', 'contention', 'dayview', 'reminders', 'scale'] as const;
type StepName = (typeof STEPS)[number];

function title(step: StepName, o: LoadOptions): string {
  const n = (x: number) => x.toLocaleString('en-US');
  switch (step) {
    case 'idle':
      return 'Idle: database CPU without client traffic';
    case 'nofaults':
      return `No faults: ${n(o.bookings)} bookings, ${o.clients} clients`;
    case 'faults':
      return `Faults: ${n(o.bookings)} bookings while appointments, notifications and the database are killed`;
    case 'contention':
      return `Contention: ${n(o.contention)} concurrent bookings of one slot`;
    case 'dayview':
      return 'Day view of 50 doctors';
    case 'reminders':
      return `Reminders: ${n(o.reminderBookings)} bookings whose reminders fall due together`;
    case 'scale':
      return `Scale: 100 vs ${n(o.scaleAppointments)} stored appointments`;
  }
}

/** Time budget of each step in seconds (the step stops starting work and reports what it has). */
function stepBudgetSeconds(step: StepName, o: LoadOptions): number {
  switch (step) {
    case 'idle':
      return 2 * o.idleSeconds + o.confirmWaitSeconds / 2 + 60;
    case 'nofaults':
      return 300;
    case 'faults':
      return 300 + o.confirmWaitSeconds + 60;
    case 'contention':
      return 420;
    case 'dayview':
      return 300;
    case 'reminders':
      return Math.ceil(o.reminderBookings / 50) + o.reminderBookingSeconds + o.reminderMarginSeconds + o.reminderWaitSeconds + 180;
    case 'scale':
      return 300;
  }
}

interface Args {
  only: StepName[];
  results: string | null;
  keep: boolean;
  opts: LoadOptions;
  argv: string[];
}

function parseArgs(argv: string[]): Args {
  const named = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a} (see the comment at the top of bench/load.ts)`);
    named.set(m[1], m[2] ?? 'true');
  }
  const int = (name: string, fallback: number, least = 1) => {
    const raw = named.get(name);
    named.delete(name);
    if (raw === undefined) return fallback;
    const v = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(v) || v < least) throw new Error(`--${name} must be an integer of at least ${least}`);
    return v;
  };
  const onlyRaw = named.get('only');
  named.delete('only');
  const only = onlyRaw ? onlyRaw.split(',').map((s) => s.trim()) : [...STEPS];
  for (const s of only) if (!(STEPS as readonly string[]).includes(s)) throw new Error(`--only: unknown step ${s} (steps: ${STEPS.join(', ')})`);
  const resultsArg = named.get('results');
  named.delete('results');
  const noResults = named.delete('no-results');
  const keep = named.delete('keep');
  const opts: LoadOptions = {
    idleSeconds: int('idle-seconds', 60),
    bookings: int('bookings', 500),
    warmUp: int('warm-up', 1_500, 0),
    clients: int('clients', 20),
    contention: int('contention', 1_000),
    dayViewRuns: int('dayview-runs', 20),
    reminderBookings: int('reminders', 2_000),
    reminderBookingSeconds: int('reminder-booking-seconds', 180),
    reminderMarginSeconds: int('reminder-margin-seconds', 90),
    reminderWaitSeconds: int('reminder-wait-seconds', 240),
    confirmWaitSeconds: int('confirm-wait-seconds', 300),
    scaleAppointments: int('scale', 50_000),
    scaleRuns: int('scale-runs', 20),
  };
  if (named.size) throw new Error(`unknown option(s): ${[...named.keys()].map((k) => `--${k}`).join(', ')}`);
  return {
    only: STEPS.filter((s) => only.includes(s)),
    results: noResults ? null : path.resolve(resultsArg ?? path.join(__dirname, 'RESULTS.md')),
    keep,
    opts,
    argv,
  };
}

// ---------------------------------------------------------------------------------------------
// Machine and checkout.

function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `nproc ${os.availableParallelism()} (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GB RAM, Linux ${os.release()}, Node ${process.version}`;
}

function checkout(): string {
  const git = (...a: string[]) => spawnSync('git', a, { cwd: path.join(__dirname, '..'), encoding: 'utf8' }).stdout?.trimEnd() ?? '';
  const head = git('rev-parse', '--short', 'HEAD').trim();
  const dirty = git('status', '--porcelain', '--untracked-files=no')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3))
    .filter((f) => !f.startsWith('bench/') && f !== 'package.json');
  return `commit ${head}${dirty.length ? `; the working tree also had uncommitted changes (other engineers' work in progress) in ${dirty.map((f) => `\`${f}\``).join(', ')}, which this run measured too` : ''}`;
}

/** The 1-minute load average, sampled every 5 s (the CPU is shared with other engineers' tests). */
class LoadAverage {
  readonly first = os.loadavg()[0];
  max = this.first;
  private readonly timer = setInterval(() => (this.max = Math.max(this.max, os.loadavg()[0])), 5_000).unref();

  stop(): { first: number; max: number; last: number } {
    clearInterval(this.timer);
    const last = os.loadavg()[0];
    return { first: this.first, max: Math.max(this.max, last), last };
  }
}

const la = (l: { first: number; max: number; last: number }) => `${l.first.toFixed(2)} at the start, ${l.last.toFixed(2)} at the end, highest seen ${l.max.toFixed(2)}`;

// ---------------------------------------------------------------------------------------------
// Results in bench/RESULTS.md: one "## Load and faults" section; inside it one block per step,
// replaced when the step runs again, kept otherwise.

const SECTION_BEGIN = '<!-- load-and-faults -->';
const SECTION_END = '<!-- /load-and-faults -->';
const blockBegin = (s: StepName) => `<!-- load-step ${s} -->`;
const BLOCK_END = '<!-- /load-step -->';
const NOTES_BEGIN = '<!-- load-notes -->';
const NOTES_END = '<!-- /load-notes -->';

interface StepReport {
  step: StepName;
  started: Date;
  ms: number;
  load: { first: number; max: number; last: number };
  lines: string[];
  checks: Check[];
  error: string | null;
  timedOut: boolean;
}

/** Markdown: a blank line between paragraphs, none inside a table. */
function paragraphs(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev !== '' && l !== '' && !(prev.startsWith('|') && l.startsWith('|'))) out.push('');
    out.push(l);
  }
  return out;
}

function renderStep(r: StepReport, runId: string, o: LoadOptions): string {
  const head = [
    blockBegin(r.step),
    `### ${title(r.step, o)}`,
    '',
    `Run ${runId}, ${r.started.toISOString()}, ${(r.ms / 1000).toFixed(0)} s; 1-minute load average ${la(r.load)}.${r.timedOut ? ' **The step hit its time budget**; figures are what it had by then.' : ''}`,
    '',
  ];
  const error = r.error ? ['', `**The step failed:** \`${r.error.replace(/`/g, "'").slice(0, 600)}\``, ''] : [];
  const checks = r.checks.length
    ? ['', '| check | target | measured | result |', '|---|---|---|---|', ...r.checks.map((c) => `| ${c.name} | ${c.target} | ${c.value} | ${c.ok ? 'pass' : '**fail**'} |`), '']
    : [];
  return [...head, ...paragraphs(r.lines), ...error, ...checks, BLOCK_END].join('\n').replace(/\n{3,}/g, '\n\n');
}

function intro(): string {
  return [
    '## Load and faults',
    '',
    'Produced by `npm run bench:load` (bench/load.ts, bench/loadSteps.ts, bench/loadStack.ts, bench/loadClient.ts, bench/loadWorld.ts; never part of `npm test`), for point 7 and "Done means" of the issue "Sound under load and faults".',
    'It starts a stack of its own as separate processes (embedded FerretDB spawned directly, the seven subgraphs, the router, on free ports, a temporary data folder, DB_PREFIX `load_<hex>`, demo data seeded), supervised as `npm start` does it (a process that exits on its own is started again after 1 s, doubling with each quick exit; each such exit is reported and fails its step), and drives it through the router on 127.0.0.1 as the super admin.',
    'Each step below carries the run and the time it was measured; a run with `--only` replaces only its own steps. Figures are measured, none estimated; targets are the issue\'s. The machine has 2 cores shared with other engineers\' test runs: see the load averages.',
    '',
  ].join('\n');
}

function writeResults(file: string, runHeader: string, reports: StepReport[], runId: string, o: LoadOptions): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const begin = text.indexOf(SECTION_BEGIN);
  const end = text.indexOf(SECTION_END);
  const old = begin >= 0 && end > begin ? text.slice(begin, end) : '';
  const blocks = new Map<StepName, string>();
  for (const s of STEPS) {
    const i = old.indexOf(blockBegin(s));
    if (i >= 0) blocks.set(s, old.slice(i, old.indexOf(BLOCK_END, i) + BLOCK_END.length));
  }
  for (const r of reports) blocks.set(r.step, renderStep(r, runId, o));
  // Run headers: kept while a kept step block refers to them.
  const runs = new Map<string, string>([[runId, runHeader]]);
  for (const m of old.matchAll(/<!-- load-run (.+?) -->\n([\s\S]*?)\n<!-- \/load-run -->/g)) {
    if (!runs.has(m[1]) && [...blocks.values()].some((b) => b.includes(`Run ${m[1]},`))) runs.set(m[1], m[2]);
  }
  const runBlocks = [...runs].map(([id, header]) => `<!-- load-run ${id} -->\n${header}\n<!-- /load-run -->`).join('\n\n');
  // Notes written by hand between <!-- load-notes --> and <!-- /load-notes --> are kept as they are.
  const notesAt = old.indexOf(NOTES_BEGIN);
  const notes = notesAt >= 0 && old.indexOf(NOTES_END, notesAt) > 0 ? [old.slice(notesAt, old.indexOf(NOTES_END, notesAt) + NOTES_END.length), ''] : [];
  const section = [SECTION_BEGIN, intro(), ...notes, runBlocks, '', ...STEPS.filter((s) => blocks.has(s)).flatMap((s) => [blocks.get(s)!, '']), SECTION_END].join('\n');
  const next = begin >= 0 && end > begin ? text.slice(0, begin) + section + text.slice(end + SECTION_END.length) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { opts } = args;
  const runId = new Date().toISOString().slice(0, 16).replace('T', ' ') + 'Z';
  const loadAverage = new LoadAverage();
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'healthsync-load-'));
  const prefix = `load_${randomBytes(3).toString('hex')}`;
  const budget = args.only.reduce((a, s) => a + stepBudgetSeconds(s, opts), 0);
  console.log(`bench:load — steps ${args.only.join(', ')}; DB_PREFIX ${prefix}; run folder ${runDir}; time budget of the steps ${Math.round(budget / 60)} min`);
  const reference = referenceWorkMs();
  console.log(`machine: ${machine()}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; reference workload ${reference} ms (lower is faster)`);

  // RATE_LIMIT_PER_MINUTE: 600 a minute per user would cap the super admin at 10 requests/s.
  const extraEnv = { RATE_LIMIT_PER_MINUTE: '1000000' };
  const stack = await Stack.create({ runDir, prefix, env: extraEnv });
  let current: AbortController | null = null;
  let interrupted = false;
  let failed = false;
  // Whatever happens, no process of ours outlives us.
  process.on('exit', () => stack.killAllNow());
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the step and every process of the stack…`);
    current?.abort();
    void stack.stopAll().finally(() => {
      if (!args.keep) rmSync(runDir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const reports: StepReport[] = [];
  let startLine = '';
  try {
    const t = performance.now();
    await stack.startDatabase();
    await stack.startSubgraphs();
    const seeded = await stack.seed();
    await stack.startRouter();
    const startMs = performance.now() - t;
    startLine = `stack started in ${(startMs / 1000).toFixed(1)} s (database pid ${stack.db.pid}, port ${stack.dbPort}; router port ${stack.ports.router}); demo data: ${seeded.doctors} doctors, ${seeded.patients} patients, ${seeded.appointments} appointments`;
    console.log(startLine);

    const cfg = stack.config();
    const client = new GraphClient(stack.routerUrl, cfg.SUPERADMIN_EMAIL, cfg.SUPERADMIN_PASSWORD);
    await client.accessToken();
    const conn = await stack.connection();
    const run: Run = { stack, client, cfg, conn, stores: new Stores(conn, cfg), people: new People(client), opts, noFaults: null };

    const runStep = async (step: StepName, body: (out: StepOut, signal: AbortSignal) => Promise<void>) => {
      if (interrupted) return;
      const revived = await stack.reviveCrashed();
      console.log(`\n== ${title(step, opts)} (budget ${stepBudgetSeconds(step, opts)} s)`);
      const out = new StepOut();
      if (revived.length) out.line(`Before this step the benchmark started again what had crashed earlier: ${revived.join(', ')}.`);
      const stepLoad = new LoadAverage();
      const started = new Date();
      const t0 = performance.now();
      current = new AbortController();
      const ac = current;
      // Every request under way listens to the step's signal (1,000 at once in the contention step).
      setMaxListeners(0, ac.signal);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        ac.abort();
      }, stepBudgetSeconds(step, opts) * 1000);
      let error: string | null = null;
      try {
        await body(out, ac.signal);
      } catch (err) {
        error = (err as Error).message ?? String(err);
        console.error(`  step ${step} failed: ${(err as Error).stack ?? error}`);
      } finally {
        clearTimeout(timer);
      }
      const crashes = stack.events.filter((e) => e.what === 'exited unexpectedly' && e.at >= started.getTime());
      if (crashes.length) {
        const restarts = stack.events.filter((e) => e.what === 'restarted by the supervisor' && e.at >= started.getTime());
        out.line();
        out.line(
          `Processes that exited on their own during this step (the benchmark supervises them as \`npm start\` does, scripts/supervise.ts: started again after 1 s, doubling with each quick exit): ` +
            `${crashes.map((e) => `${e.name} at ${new Date(e.at).toISOString()} (${e.detail ?? ''})`).join('; ')}. Restarts: ${restarts.map((e) => `${e.name} at ${new Date(e.at).toISOString()} (${e.detail ?? ''})`).join('; ') || 'none'}.`,
        );
        out.check(`${step}: no process of the stack crashed`, 'none', crashes.map((e) => e.name).join(', '), false);
      }
      reports.push({ step, started, ms: performance.now() - t0, load: stepLoad.stop(), lines: out.lines, checks: out.checks, error, timedOut });
    };

    for (const step of args.only) {
      switch (step) {
        case 'idle':
          await runStep('idle', async (out, signal) => {
            const ids = async () => (await run.stores.appointments.countDocuments({ outboxPending: true })) === 0;
            await idle(run, out, 'on fresh demo data', signal, { what: 'the demo appointments\' outbox events to be handed on (none pending)', until: ids, maxMs: 60_000 });
          });
          break;
        case 'nofaults':
          await runStep('nofaults', (out, signal) => noFaults(run, out, signal));
          if (args.only.includes('idle') && run.noFaults) {
            // The second idle measurement belongs to the idle step's block.
            const idleReport = reports.find((r) => r.step === 'idle');
            await runStep('idle', (out, signal) => idle(run, out, 'after the no-faults bookings', signal, noFaultsConfirmed(run)));
            const second = reports.pop()!;
            if (idleReport) {
              idleReport.lines.push('', ...second.lines);
              idleReport.checks.push(...second.checks);
              idleReport.ms += second.ms;
              idleReport.error ??= second.error;
              idleReport.timedOut ||= second.timedOut;
            } else reports.push(second);
          }
          break;
        case 'faults':
          await runStep('faults', (out, signal) => faults(run, out, signal));
          break;
        case 'contention':
          await runStep('contention', (out, signal) => contention(run, out, signal));
          break;
        case 'dayview':
          await runStep('dayview', (out, signal) => dayView(run, out, signal));
          break;
        case 'reminders':
          await runStep('reminders', (out, signal) => reminders(run, out, signal));
          break;
        case 'scale':
          await runStep('scale', (out, signal) => scale(run, out, signal));
          break;
      }
    }
  } catch (err) {
    failed = true;
    console.error(`bench:load failed: ${(err as Error).stack ?? err}`);
  } finally {
    if (!interrupted) {
      console.log('\nstopping the stack…');
      await stack.stopAll();
    }
  }
  if (interrupted) return;

  const load = loadAverage.stop();
  const crashes = stack.events.filter((e) => e.what === 'exited unexpectedly');
  const runHeader = [
    `#### Run ${runId}`,
    '',
    `- Command: \`npm run bench:load${args.argv.length ? ` -- ${args.argv.join(' ')}` : ''}\` (steps: ${args.only.join(', ')})`,
    `- Machine: ${machine()}; speed now: a fixed reference workload took ${reference} ms before the stack started (best of five, lower is faster; bench/referenceWork.ts: compare runs only when these agree)`,
    `- CPU: shared with other engineers' test runs; 1-minute load average ${la(load)}`,
    `- Code: ${checkout()}`,
    `- Stack: ${startLine || 'did not start'}; FerretDB 1.24 (SQLite backend, scripts/ferretdb), NODE_ENV=development, LOG_LEVEL=info (logs to files), the development secrets, every other setting at its default except RATE_LIMIT_PER_MINUTE=1000000 (600 a minute per user would cap the one benchmark user at 10 requests/s)`,
    `- Processes that exited on their own (started again by the benchmark's supervisor, as \`npm start\` does): ${crashes.length ? crashes.map((e) => `${e.name} at ${new Date(e.at).toISOString()} (${e.detail ?? ''})`).join('; ') : 'none'}`,
  ].join('\n');
  const allChecks = reports.flatMap((r) => r.checks);
  console.log(`\n${allChecks.filter((c) => c.ok).length} of ${allChecks.length} checks passed; load average ${la(load)}`);
  for (const c of allChecks.filter((x) => !x.ok)) console.log(`  FAIL ${c.name}: ${c.value} (target ${c.target})`);
  if (args.results && reports.length) {
    writeResults(args.results, runHeader, reports, runId, opts);
    console.log(`written to ${path.relative(process.cwd(), args.results)}`);
  }
  const stepErrors = reports.filter((r) => r.error);
  if (args.keep || failed || stepErrors.length || crashes.length) {
    // Keep the logs as evidence; the database files are large and not needed unless asked for.
    if (!args.keep) rmSync(path.join(runDir, 'ferretdb'), { recursive: true, force: true });
    if (args.keep) console.log(`run folder kept: ${runDir}`);
    else console.log(`logs kept for the failures above: ${path.join(runDir, 'logs')}`);
  } else {
    rmSync(runDir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});

