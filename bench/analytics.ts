/**
 * Analytics benchmark (not part of `npm test`): loads N synthetic appointments, runs the
 * materialisation job (`Refresher.run`) twice and times every materialised report (`Reports`),
 * plus one naive report computed straight from the raw appointments for contrast.
 *
 *   npm run bench:analytics                              # N = 1,000,000, embedded FerretDB
 *   BENCH_APPOINTMENTS=20000 npm run bench:analytics     # quick run
 *   MONGODB_URI=mongodb://127.0.0.1:27017 npm run bench:analytics
 *
 * Environment: BENCH_APPOINTMENTS (N), BENCH_BATCH (insert batch, 5000), BENCH_RUNS (timed runs
 * per report, 20), BENCH_REPORT_BUDGET_SECONDS (stop timing one report after this long once it
 * has 3 runs, 120), BENCH_MAX_LOAD_MINUTES (stop loading after this long and go on with what
 * was loaded, 25), BENCH_MAX_JOB_MINUTES (give up on a job run after this long: the remaining
 * steps are skipped and the database is stopped, 30), BENCH_BREAKDOWN (0 to skip timing each
 * job pipeline alone), BENCH_RESULTS (output file, bench/RESULTS.md).
 *
 * Order: load, naive baseline, job run 1 and 2, materialised reads, then each job pipeline
 * alone (aggregation only, no writes), so that what can be measured is measured before a slow
 * step hits its limit.
 *
 * Never touches dev data: without MONGODB_URI it starts its own FerretDB on a free port with a
 * fresh temporary data folder (removed at the end); with MONGODB_URI it uses a random
 * `bench_<hex>` DB_PREFIX and drops those databases at the end.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection, mongo } from 'mongoose';
import { dbName, loadConfig, type Config } from '../platform/config';
import { connectDb } from '../platform/db';
import { createLogger } from '../platform/logger';
import { startDatabase, FERRETDB_BIN, type Database } from '../scripts/db';
import { createAnalyticsModels, type AnalyticsModels, type RunDoc } from '../subgraphs/analytics/model';
import { PIPELINES, Refresher } from '../subgraphs/analytics/pipelines';
import { Reports, type Range } from '../subgraphs/analytics/reports';
import { createAppointmentModels, type AppointmentDoc } from '../subgraphs/appointments/model';
import { FIRST_DAY, LAST_DAY, World, DOCTOR_COUNT, PATIENT_COUNT, SPECIALTIES, ZONES } from './fixtures';

const RESULTS_DEFAULT = path.join(__dirname, 'RESULTS.md');
const TWO_YEARS: Range = { from: FIRST_DAY, to: LAST_DAY };
const ONE_MONTH: Range = { from: '2026-10-01', to: '2026-10-31' };

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return v;
}

const now = () => performance.now();
const mb = (bytes: number) => Math.round(bytes / 1_048_576);
const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const fmtInt = (n: number) => n.toLocaleString('en-US');
const fmtS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/** Nearest-rank percentile. */
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}

// ---------------------------------------------------------------------------------------------
// Memory: this process's RSS and, for the embedded database, the FerretDB child's RSS.

/** The pid of the FerretDB process this script started (a direct child running FERRETDB_BIN). */
function findOwnFerretDbPid(): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readlinkSync(`/proc/${entry}/exe`) === FERRETDB_BIN) return Number(entry);
    } catch {
      // the process went away, or is not ours to read
    }
  }
  return null;
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

class MemorySampler {
  private timer: NodeJS.Timeout | null = null;
  nodePeak = 0;
  dbPeak = 0;

  constructor(private readonly dbPid: number | null) {}

  private sample(): void {
    this.nodePeak = Math.max(this.nodePeak, process.memoryUsage().rss);
    if (this.dbPid) this.dbPeak = Math.max(this.dbPeak, rssOf(this.dbPid));
  }

  start(): this {
    this.nodePeak = 0;
    this.dbPeak = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), 100).unref();
    return this;
  }

  stop(): { nodePeakMb: number; dbPeakMb: number | null } {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return { nodePeakMb: mb(this.nodePeak), dbPeakMb: this.dbPid ? mb(this.dbPeak) : null };
  }
}

function dirSize(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Measurements.

interface LoadResult {
  requested: number;
  loaded: number;
  ms: number;
  stoppedEarly: boolean;
  nodePeakMb: number;
  dbPeakMb: number | null;
  diskMb: number | null;
}

interface JobResult {
  wallMs: number;
  /** null: failed (error) or did not finish within BENCH_MAX_JOB_MINUTES (abandoned). */
  run: RunDoc | null;
  error: string | null;
  abandoned: boolean;
  nodePeakMb: number;
  dbPeakMb: number | null;
}

interface PipelineTiming {
  name: string;
  ms: number;
  groups: number;
}

interface Timing {
  name: string;
  range: string;
  result: string;
  runs: number;
  medianMs: number;
  p95Ms: number;
  minMs: number;
}

interface Baseline {
  runsMs: number[];
  medianMs: number;
  total: number;
  dbPeakMb: number | null;
}

async function load(appointments: mongo.Collection<AppointmentDoc>, n: number, batchSize: number, maxLoadMs: number, dbPid: number | null): Promise<Omit<LoadResult, 'diskMb'>> {
  const world = new World();
  const memory = new MemorySampler(dbPid).start();
  const started = now();
  let loaded = 0;
  let lastReport = 0;
  let stoppedEarly = false;
  // Two stages: the next batch is generated while the previous one is being written.
  let inFlight: Promise<number> | null = null;
  for (const batch of world.batches(n, batchSize)) {
    if (inFlight) loaded += await inFlight;
    if (now() - started > maxLoadMs) {
      stoppedEarly = true;
      inFlight = null;
      break;
    }
    inFlight = appointments.insertMany(batch, { ordered: false }).then((r) => r.insertedCount);
    if (loaded - lastReport >= 50_000) {
      lastReport = loaded;
      const rate = loaded / ((now() - started) / 1000);
      console.log(`  loaded ${fmtInt(loaded)} / ${fmtInt(n)}  (${fmtInt(Math.round(rate))} rows/s, ~${Math.round((n - loaded) / rate)} s to go)`);
    }
  }
  if (inFlight) loaded += await inFlight;
  const ms = now() - started;
  const mem = memory.stop();
  return { requested: n, loaded, ms, stoppedEarly, ...mem };
}

async function runJob(refresher: Refresher, dbPid: number | null, capMs: number): Promise<JobResult> {
  const memory = new MemorySampler(dbPid).start();
  const started = now();
  const job = refresher.run();
  job.catch(() => undefined); // an abandoned run fails later, when the database is stopped
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<'abandoned'>((resolve) => (timer = setTimeout(() => resolve('abandoned'), capMs).unref()));
  try {
    const outcome = await Promise.race([job, cap]);
    const abandoned = outcome === 'abandoned';
    return { wallMs: now() - started, run: abandoned ? null : outcome, error: null, abandoned, ...memory.stop() };
  } catch (err) {
    return { wallMs: now() - started, run: null, error: (err as Error).message, abandoned: false, ...memory.stop() };
  } finally {
    clearTimeout(timer);
  }
}

/** Each job pipeline alone: the aggregation drained, groups counted, nothing written. */
async function pipelineBreakdown(appointments: mongo.Collection<AppointmentDoc>): Promise<PipelineTiming[]> {
  const out: PipelineTiming[] = [];
  for (const [name, pipeline] of Object.entries(PIPELINES)) {
    const t = now();
    let groups = 0;
    for await (const g of appointments.aggregate(pipeline, { allowDiskUse: true, batchSize: 1000 })) if (g) groups++;
    out.push({ name, ms: now() - t, groups });
    console.log(`  ${name.padEnd(16)} ${fmtS(out[out.length - 1].ms).padStart(9)}  ${fmtInt(groups)} groups`);
  }
  return out;
}

async function timeReport(name: string, range: string, fn: () => Promise<string>, runs: number, budgetMs: number): Promise<Timing> {
  // Two warm-ups; one only when a call takes more than a tenth of the budget.
  const w = now();
  let result = await fn();
  if (now() - w < budgetMs / 10) result = await fn();
  const times: number[] = [];
  const started = now();
  for (let i = 0; i < runs; i++) {
    const t = now();
    result = await fn();
    times.push(now() - t);
    if (times.length >= 3 && now() - started > budgetMs) break;
  }
  const timing = { name, range, result, runs: times.length, medianMs: median(times), p95Ms: percentile(times, 95), minMs: Math.min(...times) };
  console.log(`  ${name.padEnd(44)} ${range.padEnd(10)} median ${fmtMs(timing.medianMs).padStart(8)} ms  p95 ${fmtMs(timing.p95Ms).padStart(8)} ms  (${timing.runs} runs)  ${result}`);
  return timing;
}

async function timeReports(reports: Reports, doctorId: string, runs: number, budgetMs: number): Promise<Timing[]> {
  const out: Timing[] = [];
  const t = async (name: string, range: string, fn: () => Promise<string>) => out.push(await timeReport(name, range, fn, runs, budgetMs));
  await t('perDoctor', '1 month', async () => {
    const r = await reports.perDoctor(ONE_MONTH);
    return `${r.rows.length} doctors, total ${r.total}`;
  });
  await t('perDoctor', '2 years', async () => {
    const r = await reports.perDoctor(TWO_YEARS);
    return `${r.rows.length} doctors, total ${r.total}`;
  });
  await t('perDoctor status=COMPLETED', '2 years', async () => {
    const r = await reports.perDoctor(TWO_YEARS, 'COMPLETED');
    return `${r.rows.length} doctors, total ${r.total}`;
  });
  for (const g of ['DAY', 'WEEK', 'MONTH'] as const) {
    await t(`overTime ${g}`, '2 years', async () => {
      const r = await reports.overTime(TWO_YEARS, g);
      return `${r.rows.length} periods, total ${r.total}`;
    });
  }
  await t('conditions top 5', '1 month', async () => {
    const r = await reports.conditions(ONE_MONTH, 5);
    return `${r.specialties.length} specialties`;
  });
  await t('conditions top 5', '2 years', async () => {
    const r = await reports.conditions(TWO_YEARS, 5);
    return `${r.specialties.length} specialties`;
  });
  await t('averagePerPatient', '1 month', async () => {
    const r = await reports.averagePerPatient(ONE_MONTH);
    return `${r.totalAppointments} / ${r.totalPatients} = ${r.average.toFixed(2)}`;
  });
  await t('averagePerPatient', '2 years', async () => {
    const r = await reports.averagePerPatient(TWO_YEARS);
    return `${r.totalAppointments} / ${r.totalPatients} = ${r.average.toFixed(2)}`;
  });
  await t('doctorStats (one doctor)', '2 years', async () => {
    const r = await reports.doctorStats(doctorId, TWO_YEARS);
    return `total ${r.total}, ${r.byStatus.length} statuses`;
  });
  return out;
}

/** "Appointments per doctor over two years" straight from the raw collection. */
async function baseline(appointments: mongo.Collection<AppointmentDoc>, dbPid: number | null): Promise<Baseline> {
  const memory = new MemorySampler(dbPid).start();
  const runsMs: number[] = [];
  let total = 0;
  for (let i = 0; i < 3; i++) {
    const t = now();
    const rows = await appointments
      .aggregate<{ _id: { doctorId: string; specialty: string }; count: number }>([
        { $match: { localDate: { $gte: TWO_YEARS.from, $lte: TWO_YEARS.to } } },
        { $group: { _id: { doctorId: '$doctorId', specialty: '$specialty' }, count: { $sum: 1 } } },
      ])
      .toArray();
    runsMs.push(now() - t);
    total = rows.reduce((s, r) => s + r.count, 0);
  }
  const { dbPeakMb } = memory.stop();
  console.log(`  raw $match+$group per doctor, 2 years: ${runsMs.map(fmtMs).join(' / ')} ms (median ${fmtMs(median(runsMs))}), total ${total}${dbPeakMb !== null ? `, peak RSS FerretDB ${dbPeakMb} MB` : ''}`);
  return { runsMs, medianMs: median(runsMs), total, dbPeakMb };
}

// ---------------------------------------------------------------------------------------------
// Machine, database and the results file.

interface Environment {
  date: string;
  nproc: number;
  cpu: string;
  memoryGb: string;
  node: string;
  os: string;
  database: string;
}

async function describeEnvironment(conn: Connection, external: boolean): Promise<Environment> {
  const info = await conn.db!.admin().serverInfo();
  const version = typeof info.version === 'string' ? info.version : '?';
  const ferret = typeof info.ferretdbVersion === 'string' ? info.ferretdbVersion : null;
  const database = external
    ? `MONGODB_URI server: ${ferret ? `FerretDB ${ferret} (reports MongoDB ${version})` : `MongoDB ${version}`}`
    : `FerretDB 1.24.2, SQLite backend, embedded (scripts/db.ts), fresh temporary data folder; buildInfo reports MongoDB ${version}`;
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? '?',
    memoryGb: (os.totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    database,
  };
}

interface Outcome {
  env: Environment;
  load: LoadResult;
  batchSize: number;
  jobCapMinutes: number;
  jobs: JobResult[];
  /** Rows of the current generation, and all rows (older generations not deleted included). */
  materialised: { dailyStatus: number; dailyConditions: number; dailyPatients: number; allRows: number } | null;
  timings: Timing[];
  baseline: Baseline;
  breakdown: PipelineTiming[];
}

function observations(o: Outcome): string[] {
  const lines: string[] = [];
  const done = o.jobs.filter((j): j is JobResult & { run: RunDoc } => j.run !== null);
  const first = o.jobs[0];
  if (o.timings.length && o.materialised) {
    const byMedian = [...o.timings].sort((a, b) => a.medianMs - b.medianMs);
    const fastest = byMedian[0];
    const slowest = byMedian[byMedian.length - 1];
    lines.push(
      `Fastest materialised read: ${fastest.name} (${fastest.range}) at ${fmtMs(fastest.medianMs)} ms median; slowest: ${slowest.name} (${slowest.range}) at ${fmtMs(slowest.medianMs)} ms median (p95 ${fmtMs(slowest.p95Ms)} ms). ` +
        `Materialised collections: daily_status ${fmtInt(o.materialised.dailyStatus)}, daily_conditions ${fmtInt(o.materialised.dailyConditions)}, daily_patients ${fmtInt(o.materialised.dailyPatients)} rows.`,
    );
    const month = o.timings.find((t) => t.name === 'perDoctor' && t.range === '1 month');
    const years = o.timings.find((t) => t.name === 'perDoctor' && t.range === '2 years');
    if (month && years) {
      lines.push(
        `perDoctor over one month (${month.result.replace(/^.*total /, '')} appointments) takes ${fmtMs(month.medianMs)} ms, over two years (${years.result.replace(/^.*total /, '')}) ${fmtMs(years.medianMs)} ms: ` +
          `a ${Math.round(Number(years.result.replace(/^.*total /, '')) / Number(month.result.replace(/^.*total /, '')))}× smaller range saves ${Math.round(100 * (1 - month.medianMs / years.medianMs))}% of the time.`,
      );
    }
    const perDoctor2y = o.timings.find((t) => t.name === 'perDoctor' && t.range === '2 years');
    if (perDoctor2y) {
      lines.push(
        `The naive per-doctor count over the raw collection took ${fmtS(o.baseline.medianMs)} median vs ${fmtMs(perDoctor2y.medianMs)} ms for the materialised read (${(o.baseline.medianMs / perDoctor2y.medianMs).toFixed(0)}× slower).`,
      );
    }
  }
  const failed = o.jobs.filter((j) => j.error);
  if (failed.length) {
    lines.push(
      `Job run ${o.jobs.map((j, i) => (j.error ? i + 1 : 0)).filter(Boolean).join(' and ')} failed after ${failed.map((j) => fmtS(j.wallMs)).join(', ')}: "${failed[0].error}". ` +
        (o.materialised ? `The reads below ran on the current generation, with ${fmtInt(o.materialised.allRows)} materialised rows in the collections instead of ${fmtInt(o.materialised.dailyStatus + o.materialised.dailyConditions + o.materialised.dailyPatients)}.` : ''),
    );
  }
  if (done.length) {
    lines.push(
      `The job took ${done.map((j) => fmtS(j.wallMs)).join(' and ')} (${(done[0].wallMs / o.baseline.medianMs).toFixed(0)}× one naive report)` +
        `${done[0].wallMs > 300_000 ? `, longer than the default ANALYTICS_REFRESH_SECONDS=300 between runs` : `, ${((100 * done[0].wallMs) / 300_000).toFixed(0)}% of the default 300 s refresh interval`}.`,
    );
  } else if (o.jobs.some((j) => j.abandoned)) {
    lines.push(`The job did not finish within ${o.jobCapMinutes} min (abandoned), while the naive report over all ${fmtInt(o.load.loaded)} appointments took ${fmtS(o.baseline.medianMs)}.`);
  }
  if (o.breakdown.length) {
    const slow = [...o.breakdown].sort((a, b) => b.ms - a.ms)[0];
    const together = o.breakdown.reduce((s, p) => s + p.ms, 0);
    lines.push(
      `The job's time is its three aggregations: alone they take ${fmtS(together)} together (job runs: ${done.map((j) => fmtS(j.wallMs)).join(', ')}), the slowest being ${slow.name} at ${fmtS(slow.ms)} for ${fmtInt(slow.groups)} groups; writing the rows is the small remainder.`,
    );
  }
  lines.push(
    `Memory during the job: this Node process peaked at ${o.jobs.map((j) => `${j.nodePeakMb} MB`).join(' / ')} RSS (it streams groups in batches of 1,000)` +
      (first?.dbPeakMb != null ? `; the FerretDB process peaked at ${o.jobs.map((j) => `${j.dbPeakMb} MB`).join(' / ')} RSS.` : '.'),
  );
  return lines;
}

function renderRun(o: Outcome): string {
  const l = o.load;
  const rate = l.loaded / (l.ms / 1000);
  const out: string[] = [];
  out.push(`<!-- run n=${l.loaded} -->`);
  out.push(`## N = ${fmtInt(l.loaded)} appointments`);
  out.push('');
  out.push(`- Date: ${o.env.date}`);
  out.push(`- Machine: nproc ${o.env.nproc} (${o.env.cpu}), ${o.env.memoryGb} GB RAM, ${o.env.os}, Node ${o.env.node}`);
  out.push(`- Database: ${o.env.database}`);
  out.push(
    `- Data: ${DOCTOR_COUNT} doctors, ${SPECIALTIES.length} specialties, ${ZONES.length} time zones, ${fmtInt(PATIENT_COUNT)} patients, local dates ${FIRST_DAY} … ${LAST_DAY}` +
      ` (bench/fixtures.ts, seeded)`,
  );
  out.push(
    `- Load: ${fmtInt(l.loaded)}${l.stoppedEarly ? ` of ${fmtInt(l.requested)} requested (stopped at the BENCH_MAX_LOAD_MINUTES limit)` : ''} rows in ${fmtS(l.ms)} = **${fmtInt(Math.round(rate))} rows/s** ` +
      `(insertMany, batches of ${fmtInt(o.batchSize)}, ordered: false, into a collection with the appointments service's indexes; peak RSS node ${l.nodePeakMb} MB` +
      `${l.dbPeakMb !== null ? `, FerretDB ${l.dbPeakMb} MB` : ''}${l.diskMb !== null ? `; data folder ${fmtInt(l.diskMb)} MB afterwards` : ''})`,
  );
  out.push('');
  out.push('### Baseline: "appointments per doctor over two years" straight from the raw appointments');
  out.push('');
  out.push(
    `\`$match\` on localDate + \`$group\` by doctor with \`$sum: 1\` on \`<prefix>_appointments.appointments\`, 3 runs: ${o.baseline.runsMs.map((x) => `${fmtMs(x)} ms`).join(', ')} → **median ${fmtS(o.baseline.medianMs)}** (total ${fmtInt(o.baseline.total)}${o.baseline.dbPeakMb !== null ? `; peak RSS FerretDB ${o.baseline.dbPeakMb} MB` : ''}).`,
  );
  out.push('');
  out.push('### The job (`Refresher.run()`)');
  out.push('');
  out.push('| run | outcome | wall time | durationMs (RunDoc) | rows written | peak RSS node | peak RSS FerretDB |');
  out.push('|---|---|---:|---:|---:|---:|---:|');
  o.jobs.forEach((j, i) =>
    out.push(
      `| ${i + 1}${i ? ' (also deletes the previous generation)' : ' (empty analytics db)'} | ${j.run ? 'ok' : j.abandoned ? `**abandoned** (BENCH_MAX_JOB_MINUTES=${o.jobCapMinutes})` : `**failed**: ${j.error}`} | ${fmtS(j.wallMs)} | ` +
        `${j.run ? `${fmtInt(j.run.durationMs)} ms` : '–'} | ${j.run ? fmtInt(j.run.rows) : '–'} | ${j.nodePeakMb} MB | ${j.dbPeakMb !== null ? `${j.dbPeakMb} MB` : '–'} |`,
    ),
  );
  out.push('');
  if (o.materialised) {
    out.push(
      `Materialised rows of the current generation: daily_status ${fmtInt(o.materialised.dailyStatus)}, daily_conditions ${fmtInt(o.materialised.dailyConditions)}, daily_patients ${fmtInt(o.materialised.dailyPatients)}; ` +
        `all rows in the three collections: ${fmtInt(o.materialised.allRows)}.`,
    );
    out.push('');
  }
  if (o.timings.length) {
    out.push('### Materialised reads (`Reports`, called directly: no GraphQL, router or federation)');
    out.push('');
    out.push(
      `Two warm-up calls (one when a call takes over a tenth of the budget), then up to ${Math.max(...o.timings.map((t) => t.runs))} timed calls each, fewer when a report used up its time budget (see "runs"; at least 3). ` +
        `"1 month" = ${ONE_MONTH.from} … ${ONE_MONTH.to}, "2 years" = ${TWO_YEARS.from} … ${TWO_YEARS.to}; p95 is nearest-rank.`,
    );
    out.push('');
    out.push('| report | range | result | runs | median ms | p95 ms |');
    out.push('|---|---|---|---:|---:|---:|');
    for (const t of o.timings) out.push(`| ${t.name} | ${t.range} | ${t.result} | ${t.runs} | ${fmtMs(t.medianMs)} | ${fmtMs(t.p95Ms)} |`);
    out.push('');
  } else {
    out.push('Materialised reads: not measured (the job did not finish, so there is no current generation to read).');
    out.push('');
  }
  if (o.breakdown.length) {
    out.push('### Each job pipeline alone (aggregation drained, nothing written)');
    out.push('');
    out.push('| pipeline | time | groups |');
    out.push('|---|---:|---:|');
    for (const p of o.breakdown) out.push(`| ${p.name} | ${fmtS(p.ms)} | ${fmtInt(p.groups)} |`);
    out.push('');
  }
  out.push('### Observations (computed from the numbers above)');
  out.push('');
  for (const line of observations(o)) out.push(`- ${line}`);
  out.push('<!-- /run -->');
  return out.join('\n');
}


const HEADER = `# Analytics benchmark

Produced by \`npm run bench:analytics\` (bench/analytics.ts + bench/fixtures.ts; not part of
\`npm test\`). Each run loads N synthetic appointments into a database of its own, times one naive
report on the raw collection, runs the materialisation job (\`Refresher.run()\`) twice, times each
materialised report (\`Reports\`) and then each job pipeline alone, and replaces its own "N = …"
section below (sections of other N are kept). A job run that exceeds BENCH_MAX_JOB_MINUTES is
abandoned and the steps that need its result are skipped. Figures in the "N = …" sections are
measured on the machine named there; nothing in them is estimated.
`;

/** Keeps the hand-written notes block and the sections of other N; replaces this N's section. */
function writeResults(file: string, section: string, n: number): void {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const notes = /<!-- notes -->[\s\S]*?<!-- \/notes -->/.exec(previous)?.[0] ?? '<!-- notes -->\n<!-- /notes -->';
  const runs = new Map<number, string>();
  for (const m of previous.matchAll(/<!-- run n=(\d+) -->[\s\S]*?<!-- \/run -->/g)) runs.set(Number(m[1]), m[0]);
  runs.set(n, section);
  const ordered = [...runs].sort((a, b) => b[0] - a[0]).map(([, s]) => s);
  writeFileSync(file, `${HEADER}\n${notes}\n\n${ordered.join('\n\n')}\n`);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const n = intEnv('BENCH_APPOINTMENTS', 1_000_000);
  const batchSize = intEnv('BENCH_BATCH', 5_000);
  const runs = intEnv('BENCH_RUNS', 20);
  const budgetMs = intEnv('BENCH_REPORT_BUDGET_SECONDS', 120) * 1000;
  const maxLoadMs = intEnv('BENCH_MAX_LOAD_MINUTES', 25) * 60_000;
  const jobCapMinutes = intEnv('BENCH_MAX_JOB_MINUTES', 30);
  const withBreakdown = process.env.BENCH_BREAKDOWN !== '0';
  const resultsFile = process.env.BENCH_RESULTS ? path.resolve(process.env.BENCH_RESULTS) : RESULTS_DEFAULT;
  const external = Boolean(process.env.MONGODB_URI);
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const dataDir = external ? null : mkdtempSync(path.join(os.tmpdir(), 'healthsync-bench-'));

  let db: Database | null = null;
  let conn: Connection | null = null;
  let dbPid: number | null = null;
  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      try {
        if (conn && external) {
          for (const s of ['appointments', 'analytics']) await conn.useDb(`${prefix}_${s}`).dropDatabase();
        }
      } catch (err) {
        console.error(`could not drop the ${prefix}_* databases: ${(err as Error).message}`);
      }
      await conn?.close(true).catch(() => undefined);
      if (db) {
        const stopped = db.stop().catch(() => undefined);
        // FerretDB busy in a long aggregation may not stop on SIGTERM; it is our child, by pid.
        const killer = setTimeout(() => dbPid && process.kill(dbPid, 'SIGKILL'), 10_000);
        await stopped;
        clearTimeout(killer);
      }
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    })());
  const interrupted = () => void cleanup().finally(() => process.exit(130));
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);

  try {
    console.log(`analytics benchmark: N = ${fmtInt(n)}, DB_PREFIX ${prefix}${dataDir ? `, FerretDB data in ${dataDir}` : ', MONGODB_URI'}`);
    db = await startDatabase(external ? {} : { port: 0, dataDir: dataDir!, log: (m) => console.log(m) });
    const cfg: Config = loadConfig({ ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'silent', MONGODB_URI: db.uri, DB_PREFIX: prefix });
    conn = await connectDb(cfg, 'analytics', createLogger('bench', 'silent'));
    dbPid = external ? null : findOwnFerretDbPid();
    const env = await describeEnvironment(conn, external);
    console.log(`  ${env.database}; nproc ${env.nproc}, ${env.memoryGb} GB, Node ${env.node}`);

    // 1. Load, into a collection with the same indexes the appointments service creates.
    const appointmentsConn = conn.useDb(dbName(cfg, 'appointments'), { useCache: true });
    await createAppointmentModels(appointmentsConn);
    const appointments = appointmentsConn.db!.collection<AppointmentDoc>('appointments');
    console.log(`loading ${fmtInt(n)} appointments in batches of ${fmtInt(batchSize)}…`);
    const loaded = await load(appointments, n, batchSize, maxLoadMs, dbPid);
    const loadResult: LoadResult = { ...loaded, diskMb: dataDir ? mb(dirSize(dataDir)) : null };
    const counted = await appointments.countDocuments({});
    console.log(`  loaded ${fmtInt(loaded.loaded)} (collection holds ${fmtInt(counted)}) in ${fmtS(loaded.ms)}: ${fmtInt(Math.round(loaded.loaded / (loaded.ms / 1000)))} rows/s`);
    if (counted !== loaded.loaded) throw new Error(`collection holds ${counted} appointments, expected ${loaded.loaded}`);

    // 2. The naive baseline.
    console.log('baseline on the raw collection (3 runs)…');
    const base = await baseline(appointments, dbPid);

    // 3. The job, twice, each given at most BENCH_MAX_JOB_MINUTES.
    const models: AnalyticsModels = await createAnalyticsModels(conn);
    const refresher = new Refresher(conn, cfg, models);
    const jobs: JobResult[] = [];
    for (let i = 0; i < 2; i++) {
      console.log(`job run ${i + 1} (at most ${jobCapMinutes} min)…`);
      const j = await runJob(refresher, dbPid, jobCapMinutes * 60_000);
      jobs.push(j);
      const mem = `peak RSS node ${j.nodePeakMb} MB${j.dbPeakMb !== null ? `, FerretDB ${j.dbPeakMb} MB` : ''}`;
      if (j.abandoned) {
        console.log(`  not finished after ${fmtS(j.wallMs)}: abandoned (${mem})`);
        break;
      }
      if (j.error) console.log(`  FAILED after ${fmtS(j.wallMs)}: ${j.error} (${mem})`);
      else console.log(`  ${fmtS(j.wallMs)} wall (durationMs ${j.run!.durationMs}), ${fmtInt(j.run!.rows)} rows, ${mem}`);
    }
    // What the reports read: the generation `runs/current` points at (a failed run may have switched already).
    const current = jobs.some((j) => j.abandoned) ? null : await models.Run.findById('current').lean<RunDoc>();
    let materialised: Outcome['materialised'] = null;
    let timings: Timing[] = [];
    let breakdown: PipelineTiming[] = [];
    if (current) {
      const gen = current.gen;
      materialised = {
        dailyStatus: await models.DailyStatus.countDocuments({ gen }),
        dailyConditions: await models.DailyCondition.countDocuments({ gen }),
        dailyPatients: await models.DailyPatient.countDocuments({ gen }),
        allRows: (await models.DailyStatus.countDocuments({})) + (await models.DailyCondition.countDocuments({})) + (await models.DailyPatient.countDocuments({})),
      };
      if (materialised.allRows > materialised.dailyStatus + materialised.dailyConditions + materialised.dailyPatients) {
        console.log(`  older generations left behind: ${fmtInt(materialised.allRows)} rows in the collections`);
      }

      // 4. The materialised reads.
      console.log('materialised reports…');
      const reports = new Reports(models, conn, cfg);
      const busiest = (await reports.perDoctor(TWO_YEARS)).rows[0];
      timings = await timeReports(reports, busiest.doctorId, runs, budgetMs);
      const twoYears = timings.find((t) => t.name === 'perDoctor' && t.range === '2 years');
      if (twoYears && !twoYears.result.endsWith(`total ${loaded.loaded}`)) console.warn(`  WARNING: perDoctor over 2 years does not add up to ${loaded.loaded}: ${twoYears.result}`);

      // 5. Where the job's time goes.
      if (withBreakdown) {
        console.log('each job pipeline alone…');
        breakdown = await pipelineBreakdown(appointments);
      }
    }

    const outcome: Outcome = { env, load: loadResult, batchSize, jobCapMinutes, jobs, materialised, timings, baseline: base, breakdown };
    writeResults(resultsFile, renderRun(outcome), loaded.loaded);
    console.log(`\n${observations(outcome).map((l) => `- ${l}`).join('\n')}\n\nwritten to ${path.relative(process.cwd(), resultsFile)}`);
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
