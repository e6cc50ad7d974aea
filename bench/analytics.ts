/**
 * Analytics benchmark (not part of `npm test`) for the incremental design: appointments report
 * every change as an observation, the scheduled fold (`Folder.run`, subgraphs/analytics/fold.ts)
 * moves the counts in the materialised `days` and `patient_days` documents, and the reports
 * (`Reports`) read only those documents.
 *
 *   npm run bench:analytics                              # N = 1,000,000, embedded FerretDB
 *   BENCH_APPOINTMENTS=20000 npm run bench:analytics     # quick run, the whole real path
 *   MONGODB_URI=mongodb://127.0.0.1:27017 npm run bench:analytics
 *
 * Steps:
 *  1. load N synthetic appointments (bench/fixtures.ts), remembering each one's counted facts in
 *     compact arrays (`Rows`) while loading;
 *  2. naive baseline: "appointments per doctor over two years" straight from the raw collection;
 *  3. first materialisation: for N <= BENCH_FULL_FOLD_MAX the real path (`Backfill.run()`, which
 *     queues and folds a batch at a time, timed); above it the benchmark writes the state the fold produces
 *     (facts, days, patient_days), computed from the generated rows, and times only the writing;
 *  4. correctness: the materialised per-doctor counts against the naive baseline, and every day
 *     and patient document against the state computed independently from the generated rows;
 *  5. every materialised report, timed (before step 6, so that a slow increment cannot prevent it);
 *  6. the job's steady state: K changes of existing appointments (version + 1, a new state) queued,
 *     then `Folder.run()` timed, for each K of BENCH_INCREMENTS; then the checks of step 4 again
 *     against the rows with the changes applied.
 *
 * Environment: BENCH_APPOINTMENTS (N, 1,000,000), BENCH_BATCH (insert batch, 5000),
 * BENCH_BASELINE_RUNS (naive baseline runs, 3; one run takes minutes at 1M), BENCH_FULL_FOLD_MAX
 * (largest N for which the first materialisation runs the real backfill and fold, 100,000),
 * BENCH_INCREMENTS (changes per steady-state run, "1000,10000"), BENCH_RUNS (timed runs per
 * report, 20), BENCH_REPORT_BUDGET_SECONDS (stop timing one report after this long once it has 3
 * runs, 120), BENCH_MAX_LOAD_MINUTES (stop loading after this long and go on with what was loaded,
 * 25), BENCH_MAX_JOB_MINUTES (give up on a fold run after this long: the remaining steps are
 * skipped and the database is stopped, 30), BENCH_RESULTS (output file, bench/RESULTS.md).
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
import { Claims, claimsModel } from '../platform/claim';
import { dbName, loadConfig, type Config } from '../platform/config';
import { connectDb } from '../platform/db';
import { ANALYTICS_APPOINTMENT_CHANGES, type AppointmentChange, type AppointmentFacts, type AppointmentObservation } from '../platform/jobNames';
import { Queue } from '../platform/queue';
import { createLogger } from '../platform/logger';
import { startDatabase, FERRETDB_BIN, type Database } from '../scripts/db';
import { Backfill } from '../subgraphs/analytics/backfill';
import { DEFAULT_BATCH, Folder } from '../subgraphs/analytics/fold';
import { createAnalyticsModels, type AnalyticsModels, type DayDoc, type FactsDoc, type PatientDaysDoc, type RunDoc } from '../subgraphs/analytics/model';
import { Reports, type Range } from '../subgraphs/analytics/reports';
import { APPOINTMENT_STATUSES, createAppointmentModels, type AppointmentDoc } from '../subgraphs/appointments/model';
import { CONDITIONS, FIRST_DAY, LAST_DAY, World, DOCTOR_COUNT, PATIENT_COUNT, SPECIALTIES, ZONES, seededRandom } from './fixtures';

const RESULTS_DEFAULT = path.join(__dirname, 'RESULTS.md');
const TWO_YEARS: Range = { from: FIRST_DAY, to: LAST_DAY };
const ONE_MONTH: Range = { from: '2026-10-01', to: '2026-10-31' };
/** lastBatch of the documents the benchmark writes itself (no fold batch has this id). */
const BENCH_BATCH_ID = 'bench';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return v;
}
function intListEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw.split(',').map((part) => {
    const v = Number(part.trim().replace(/_/g, ''));
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a comma-separated list of positive integers, got "${raw}"`);
    return v;
  });
}

const now = () => performance.now();
const mb = (bytes: number) => Math.round(bytes / 1_048_576);
const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const fmtInt = (n: number) => n.toLocaleString('en-US');
const fmtS = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const perSecond = (count: number, ms: number) => fmtInt(Math.round(count / (ms / 1000)));

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

interface Memory {
  nodePeakMb: number;
  dbPeakMb: number | null;
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

  stop(): Memory {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return { nodePeakMb: mb(this.nodePeak), dbPeakMb: this.dbPid ? mb(this.dbPeak) : null };
  }
}

const fmtMem = (m: Memory) => `node ${m.nodePeakMb} MB${m.dbPeakMb !== null ? `, FerretDB ${m.dbPeakMb} MB` : ''}`;

/** The machine's 1-minute load average, sampled every 5 s over the whole run (the CPU may be shared). */
class LoadSampler {
  readonly first = os.loadavg()[0];
  max = this.first;
  private readonly timer = setInterval(() => (this.max = Math.max(this.max, os.loadavg()[0])), 5000).unref();

  stop(): { first: number; max: number; last: number } {
    clearInterval(this.timer);
    const last = os.loadavg()[0];
    return { first: this.first, max: Math.max(this.max, last), last };
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
// What was generated: each appointment's counted facts, kept in compact arrays while loading
// (about 25 bytes an appointment), so the expected state is computed without reading anything back.

const STATUSES = APPOINTMENT_STATUSES;
const STATUS_INDEX = new Map<string, number>(STATUSES.map((s, i) => [s, i]));

class Rows {
  n = 0;
  private readonly ids: Buffer;
  readonly doctor: Uint8Array;
  readonly day: Uint16Array;
  readonly status: Uint8Array;
  readonly patient: Uint16Array;
  readonly conds: Uint16Array;
  readonly version: Uint32Array;
  /** Interned condition lists, referenced by `conds`. */
  readonly condLists: string[][] = [];
  private readonly condIndex = new Map<string, number>();
  private readonly doctorIndex: Map<string, number>;
  private readonly dayIndex: Map<string, number>;
  private readonly patientIndex: Map<string, number>;

  constructor(
    readonly world: World,
    capacity: number,
  ) {
    if (world.patients.length > 0xffff || world.days.length > 0xffff || world.doctors.length > 0xff) throw new Error('Rows: the world is too large for the compact arrays');
    this.ids = Buffer.alloc(12 * capacity);
    this.doctor = new Uint8Array(capacity);
    this.day = new Uint16Array(capacity);
    this.status = new Uint8Array(capacity);
    this.patient = new Uint16Array(capacity);
    this.conds = new Uint16Array(capacity);
    this.version = new Uint32Array(capacity);
    this.doctorIndex = new Map(world.doctors.map((d, i) => [d.id, i]));
    this.dayIndex = new Map(world.days.map((d, i) => [d.localDate, i]));
    this.patientIndex = new Map(world.patients.map((p, i) => [p, i]));
    this.condList([]);
  }

  condList(list: string[]): number {
    const key = list.join('\u0001');
    let i = this.condIndex.get(key);
    if (i === undefined) {
      i = this.condLists.push([...list]) - 1;
      if (i > 0xffff) throw new Error('Rows: too many distinct condition lists');
      this.condIndex.set(key, i);
    }
    return i;
  }

  add(a: AppointmentDoc): void {
    const i = this.n++;
    const lookup = (map: Map<string, number>, key: string, what: string) => {
      const v = map.get(key);
      if (v === undefined) throw new Error(`Rows: unknown ${what} ${key}`);
      return v;
    };
    this.ids.write(a._id.toHexString(), 12 * i, 12, 'hex');
    this.doctor[i] = lookup(this.doctorIndex, a.doctorId, 'doctor');
    this.day[i] = lookup(this.dayIndex, a.localDate, 'day');
    this.status[i] = lookup(STATUS_INDEX, a.status, 'status');
    this.patient[i] = lookup(this.patientIndex, a.patientId, 'patient');
    this.conds[i] = this.condList(a.conditions ?? []);
    this.version[i] = a.outboxSeq ?? 0; // what Backfill reports as the version
  }

  id(i: number): string {
    return this.ids.toString('hex', 12 * i, 12 * i + 12);
  }

  facts(i: number): AppointmentFacts {
    const doctor = this.world.doctors[this.doctor[i]];
    return {
      localDate: this.world.days[this.day[i]].localDate,
      doctorId: doctor.id,
      specialty: doctor.specialty,
      status: STATUSES[this.status[i]],
      patientId: this.world.patients[this.patient[i]],
      conditions: this.condLists[this.conds[i]],
    };
  }

  observation(i: number): AppointmentObservation {
    return { appointmentId: this.id(i), version: this.version[i], ...this.facts(i) };
  }
}

/** Everything the reports can see, as "key → count" (zero counts left out), computed from `Rows`. */
interface Expected {
  /** `day|doctorId|specialty|status` → n */
  doctors: Map<string, number>;
  /** `day|specialty|condition` → n (completed visits only) */
  conditions: Map<string, number>;
  /** patientId → [[localDate, n], …] sorted by date */
  patients: Map<string, [string, number][]>;
}

function expectedState(rows: Rows): Expected {
  const { world } = rows;
  const D = world.doctors.length;
  const S = STATUSES.length;
  const DAYS = world.days.length;
  const completed = STATUS_INDEX.get('COMPLETED')!;
  const counts = new Int32Array(DAYS * D * S);
  const conditions = new Map<string, number>();
  const visitCodes = new Uint32Array(rows.n);
  for (let i = 0; i < rows.n; i++) {
    counts[(rows.day[i] * D + rows.doctor[i]) * S + rows.status[i]]++;
    if (rows.status[i] === completed) {
      const day = world.days[rows.day[i]].localDate;
      const specialty = world.doctors[rows.doctor[i]].specialty;
      for (const c of rows.condLists[rows.conds[i]]) {
        const key = `${day}|${specialty}|${c}`;
        conditions.set(key, (conditions.get(key) ?? 0) + 1);
      }
    }
    visitCodes[i] = rows.patient[i] * DAYS + rows.day[i];
  }
  const doctors = new Map<string, number>();
  for (let day = 0; day < DAYS; day++)
    for (let d = 0; d < D; d++)
      for (let s = 0; s < S; s++) {
        const n = counts[(day * D + d) * S + s];
        if (n) doctors.set(`${world.days[day].localDate}|${world.doctors[d].id}|${world.doctors[d].specialty}|${STATUSES[s]}`, n);
      }
  visitCodes.sort();
  const patients = new Map<string, [string, number][]>();
  for (let i = 0; i < visitCodes.length; ) {
    let j = i;
    while (j < visitCodes.length && visitCodes[j] === visitCodes[i]) j++;
    const patientId = world.patients[Math.floor(visitCodes[i] / DAYS)];
    const list = patients.get(patientId) ?? patients.set(patientId, []).get(patientId)!;
    list.push([world.days[visitCodes[i] % DAYS].localDate, j - i]);
    i = j;
  }
  return { doctors, conditions, patients };
}

/** The day and patient documents the fold produces for `expected` (what step 3 writes above BENCH_FULL_FOLD_MAX). */
function stateDocs(expected: Expected): { days: DayDoc[]; patients: PatientDaysDoc[] } {
  const byDay = new Map<string, DayDoc>();
  const day = (id: string) => byDay.get(id) ?? byDay.set(id, { _id: id, doctors: [], conditions: [], lastBatch: BENCH_BATCH_ID }).get(id)!;
  for (const [key, n] of expected.doctors) {
    const [d, doctorId, specialty, status] = key.split('|');
    day(d).doctors.push({ doctorId, specialty, status, n });
  }
  for (const [key, n] of expected.conditions) {
    const [d, specialty, condition] = key.split('|');
    day(d).conditions.push({ specialty, condition, n });
  }
  const patients: PatientDaysDoc[] = [];
  for (const [id, visits] of expected.patients) {
    const days = visits.map(([d]) => d);
    patients.push({ _id: id, visits: visits.map(([d, n]) => ({ d, n })), days, months: [...new Set(days.map((d) => d.slice(0, 7)))], lastBatch: BENCH_BATCH_ID });
  }
  return { days: [...byDay.values()].sort((a, b) => a._id.localeCompare(b._id)), patients };
}

// ---------------------------------------------------------------------------------------------
// Measurements.

interface LoadResult extends Memory {
  requested: number;
  loaded: number;
  ms: number;
  stoppedEarly: boolean;
  diskMb: number | null;
}

interface JobResult extends Memory {
  wallMs: number;
  /** null: failed (error) or did not finish within BENCH_MAX_JOB_MINUTES (abandoned). */
  run: RunDoc | null;
  error: string | null;
  abandoned: boolean;
  /** When the run did not finish: changes already folded when it was given up (queued − left in the queue or staged). */
  foldedBeforeCap: number | null;
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
  /** `doctorId|specialty` → count */
  perDoctor: Map<string, number>;
  dbPeakMb: number | null;
}

/** The first materialisation: the real backfill and fold, or the state written by the benchmark. */
type FirstState =
  | { kind: 'fold'; appointments: number; job: JobResult }
  | { kind: 'seeded'; ms: number; facts: number; days: number; patients: number; memory: Memory };

interface Increment {
  k: number;
  /** How many changes of each kind, e.g. "SCHEDULED → CANCELLED". */
  kinds: Map<string, number>;
  queueMs: number;
  job: JobResult;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function load(appointments: mongo.Collection<AppointmentDoc>, rows: Rows, n: number, batchSize: number, maxLoadMs: number, dbPid: number | null): Promise<Omit<LoadResult, 'diskMb'>> {
  const memory = new MemorySampler(dbPid).start();
  const started = now();
  let loaded = 0;
  let lastReport = 0;
  let stoppedEarly = false;
  // Two stages: the next batch is generated while the previous one is being written.
  let inFlight: Promise<number> | null = null;
  for (const batch of rows.world.batches(n, batchSize)) {
    if (inFlight) loaded += await inFlight;
    if (now() - started > maxLoadMs) {
      stoppedEarly = true;
      inFlight = null;
      break;
    }
    for (const a of batch) rows.add(a);
    inFlight = appointments.insertMany(batch, { ordered: false }).then((r) => r.insertedCount);
    if (loaded - lastReport >= 50_000) {
      lastReport = loaded;
      const rate = loaded / ((now() - started) / 1000);
      console.log(`  loaded ${fmtInt(loaded)} / ${fmtInt(n)}  (${fmtInt(Math.round(rate))} rows/s, ~${Math.round((n - loaded) / rate)} s to go)`);
    }
  }
  if (inFlight) loaded += await inFlight;
  const ms = now() - started;
  return { requested: n, loaded, ms, stoppedEarly, ...memory.stop() };
}

/**
 * One fold run, given at most `capMs`; an abandoned run goes on in the background until the
 * database stops. `queued` changes were waiting when it started: what is no longer in the queue
 * or the staged batch when the run is given up has been folded.
 */
async function runJob(job: () => Promise<RunDoc>, foldedSoFar: () => Promise<number>, dbPid: number | null, capMs: number): Promise<JobResult> {
  const memory = new MemorySampler(dbPid).start();
  const started = now();
  const running = job();
  running.catch(() => undefined); // an abandoned run fails later, when the database is stopped
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<'abandoned'>((resolve) => (timer = setTimeout(() => resolve('abandoned'), capMs).unref()));
  try {
    const outcome = await Promise.race([running, cap]);
    const wallMs = now() - started;
    if (outcome !== 'abandoned') return { wallMs, run: outcome, error: null, abandoned: false, foldedBeforeCap: null, ...memory.stop() };
    const folded = await foldedSoFar().catch(() => null);
    return { wallMs, run: null, error: null, abandoned: true, foldedBeforeCap: folded, ...memory.stop() };
  } catch (err) {
    return { wallMs: now() - started, run: null, error: (err as Error).message, abandoned: false, foldedBeforeCap: null, ...memory.stop() };
  } finally {
    clearTimeout(timer);
  }
}

/** ", 1,234 changes folded by then (5 changes/s)" for an abandoned run. */
function progress(j: JobResult): string {
  return j.foldedBeforeCap === null ? '' : `, ${fmtInt(j.foldedBeforeCap)} changes folded by then (${perSecond(j.foldedBeforeCap, j.wallMs)} changes/s)`;
}

function describeJob(j: JobResult): string {
  if (j.abandoned) return `not finished after ${fmtS(j.wallMs)}: abandoned${progress(j)} (peak RSS ${fmtMem(j)})`;
  if (j.error) return `FAILED after ${fmtS(j.wallMs)}: ${j.error} (peak RSS ${fmtMem(j)})`;
  return `${fmtS(j.wallMs)} wall (durationMs ${j.run!.durationMs}), ${fmtInt(j.run!.changes)} changes = ${perSecond(j.run!.changes, j.wallMs)} changes/s, ${fmtInt(j.run!.rows)} documents written, peak RSS ${fmtMem(j)}`;
}

/** Above BENCH_FULL_FOLD_MAX: facts, days and patient_days as the fold leaves them, written directly. */
async function writeState(conn: Connection, models: AnalyticsModels, rows: Rows, batchSize: number, dbPid: number | null): Promise<Extract<FirstState, { kind: 'seeded' }>> {
  const memory = new MemorySampler(dbPid).start();
  const started = now();
  const col = <T extends { _id: string }>(name: string) => conn.db!.collection<T>(name);
  const facts = col<FactsDoc>(models.Facts.collection.collectionName);
  let inFlight: Promise<unknown> | null = null;
  for (let from = 0; from < rows.n; from += batchSize) {
    const batch: FactsDoc[] = [];
    for (let i = from; i < Math.min(rows.n, from + batchSize); i++) batch.push({ _id: rows.id(i), version: rows.version[i], ...rows.facts(i) });
    if (inFlight) await inFlight;
    inFlight = facts.insertMany(batch, { ordered: false });
    if (from && from % 100_000 === 0) console.log(`  facts ${fmtInt(from)} / ${fmtInt(rows.n)}`);
  }
  if (inFlight) await inFlight;
  const docs = stateDocs(expectedState(rows));
  for (let i = 0; i < docs.days.length; i += batchSize) await col<DayDoc>(models.Day.collection.collectionName).insertMany(docs.days.slice(i, i + batchSize), { ordered: false });
  for (let i = 0; i < docs.patients.length; i += batchSize)
    await col<PatientDaysDoc>(models.PatientDays.collection.collectionName).insertMany(docs.patients.slice(i, i + batchSize), { ordered: false });
  return { kind: 'seeded', ms: now() - started, facts: rows.n, days: docs.days.length, patients: docs.patients.length, memory: memory.stop() };
}

/**
 * K changes of distinct existing appointments, chosen with a seeded PRNG, each with version + 1
 * and a new state; applied to `rows` as well, so the expectation follows.
 */
function makeChanges(rows: Rows, k: number, seed: number): { observations: AppointmentObservation[]; kinds: Map<string, number> } {
  const rand = seededRandom(seed);
  const { world } = rows;
  const futureDays = world.days.map((d, i) => (d.future ? i : -1)).filter((i) => i >= 0);
  const s = (name: string) => STATUS_INDEX.get(name)!;
  const chosen = new Set<number>();
  const kinds = new Map<string, number>();
  const observations: AppointmentObservation[] = [];
  if (k > rows.n) throw new Error(`cannot change ${k} of ${rows.n} appointments`);
  while (chosen.size < k) {
    const i = Math.floor(rand() * rows.n);
    if (chosen.has(i)) continue;
    chosen.add(i);
    const status = STATUSES[rows.status[i]];
    const specialty = world.doctors[rows.doctor[i]].specialty;
    const list = CONDITIONS[specialty];
    const otherFutureDay = () => {
      let d = rows.day[i];
      while (d === rows.day[i]) d = futureDays[Math.floor(rand() * futureDays.length)];
      return d;
    };
    let kind: string;
    if (status === 'SCHEDULED' && rand() < 0.5) {
      kind = 'SCHEDULED → CANCELLED';
      rows.status[i] = s('CANCELLED');
    } else if (status === 'SCHEDULED') {
      kind = 'SCHEDULED, moved to another day';
      rows.day[i] = otherFutureDay();
    } else if (status === 'CANCELLED') {
      kind = 'CANCELLED → SCHEDULED on another (future) day';
      rows.status[i] = s('SCHEDULED');
      rows.day[i] = otherFutureDay();
    } else if (status === 'NO_SHOW') {
      kind = 'NO_SHOW → COMPLETED with a condition';
      rows.status[i] = s('COMPLETED');
      rows.conds[i] = rows.condList([list[Math.floor(rand() * list.length)]]);
    } else {
      kind = 'COMPLETED, conditions changed';
      const current = rows.condLists[rows.conds[i]];
      const extra = list.filter((c) => !current.includes(c));
      rows.conds[i] = rows.condList(current.length >= 2 || !extra.length ? current.slice(0, 1) : [...current, extra[Math.floor(rand() * extra.length)]]);
    }
    rows.version[i]++;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    observations.push(rows.observation(i));
  }
  return { observations, kinds };
}

/** Every count of the materialised documents against `expected`: the number of differences and a few examples. */
async function compareState(models: AnalyticsModels, expected: Expected): Promise<{ differences: number; examples: string[]; days: number; patients: number }> {
  const examples: string[] = [];
  let differences = 0;
  const differ = (key: string, got: number | string | undefined, want: number | string | undefined) => {
    differences++;
    if (examples.length < 5) examples.push(`${key}: materialised ${got ?? 'none'}, expected ${want ?? 'none'}`);
  };
  const compare = (got: Map<string, number>, want: Map<string, number>) => {
    for (const [key, n] of got) if (want.get(key) !== n) differ(key, n, want.get(key));
    for (const [key, n] of want) if (!got.has(key)) differ(key, undefined, n);
  };
  const dayDocs = await models.Day.find().lean<DayDoc[]>();
  const doctors = new Map<string, number>();
  const conditions = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
  for (const d of dayDocs) {
    for (const e of d.doctors) if (e.n) add(doctors, `${d._id}|${e.doctorId}|${e.specialty}|${e.status}`, e.n);
    for (const e of d.conditions) if (e.n) add(conditions, `${d._id}|${e.specialty}|${e.condition}`, e.n);
  }
  compare(doctors, expected.doctors);
  compare(conditions, expected.conditions);
  const patientDocs = await models.PatientDays.find().lean<PatientDaysDoc[]>();
  const seen = new Set<string>();
  for (const p of patientDocs) {
    const visits = (p.visits ?? []).filter((v) => v.n);
    if (!visits.length) continue;
    seen.add(p._id);
    const got = visits.map((v) => `${v.d}:${v.n}`).join(',');
    const want = (expected.patients.get(p._id) ?? []).map(([d, n]) => `${d}:${n}`).join(',');
    if (got !== want) differ(`patient ${p._id} visits`, got, want || undefined);
    const months = [...new Set(visits.map((v) => v.d.slice(0, 7)))].join(',');
    if ((p.days ?? []).join(',') !== visits.map((v) => v.d).join(',') || (p.months ?? []).join(',') !== months) differ(`patient ${p._id} days/months`, `${p.days}/${p.months}`, `${visits.map((v) => v.d)}/${months}`);
  }
  for (const id of expected.patients.keys()) if (!seen.has(id)) differ(`patient ${id} visits`, undefined, 'visits');
  return { differences, examples, days: dayDocs.length, patients: patientDocs.length };
}

const perDoctorKey = (r: { doctorId: string; specialty: string }) => `${r.doctorId}|${r.specialty}`;

function compareCounts(got: Map<string, number>, want: Map<string, number>): string[] {
  const out: string[] = [];
  for (const key of new Set([...got.keys(), ...want.keys()])) if ((got.get(key) ?? 0) !== (want.get(key) ?? 0)) out.push(`${key}: ${got.get(key) ?? 0} vs ${want.get(key) ?? 0}`);
  return out;
}

/** The checks of the materialised state: reports against the naive baseline (when given) and against the rows. */
async function checkState(label: string, reports: Reports, models: AnalyticsModels, rows: Rows, base: Baseline | null): Promise<Check[]> {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    checks.push({ name: `${label}: ${name}`, ok, detail });
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${label}: ${name}: ${detail}`);
  };
  const expected = expectedState(rows);
  const perDoctor = await reports.perDoctor(TWO_YEARS);
  check('perDoctor over two years adds up to N', perDoctor.total === rows.n, `total ${fmtInt(perDoctor.total)}, N = ${fmtInt(rows.n)}`);
  const got = new Map(perDoctor.rows.map((r) => [perDoctorKey(r), r.count]));
  if (base) {
    const diff = compareCounts(got, base.perDoctor);
    check(
      'per-doctor counts equal the naive baseline',
      !diff.length,
      diff.length ? `${diff.length} doctors differ (materialised vs naive), e.g. ${diff.slice(0, 3).join('; ')}` : `all ${base.perDoctor.size} doctors equal (naive total ${fmtInt(base.total)})`,
    );
  }
  const wantPerDoctor = new Map<string, number>();
  const wantPerStatus = new Map<string, number>();
  for (const [key, n] of expected.doctors) {
    const [, doctorId, specialty, status] = key.split('|');
    wantPerDoctor.set(`${doctorId}|${specialty}`, (wantPerDoctor.get(`${doctorId}|${specialty}`) ?? 0) + n);
    wantPerStatus.set(status, (wantPerStatus.get(status) ?? 0) + n);
  }
  const diff = compareCounts(got, wantPerDoctor);
  check('per-doctor counts equal the generated rows', !diff.length, diff.length ? `${diff.length} doctors differ, e.g. ${diff.slice(0, 3).join('; ')}` : `all ${wantPerDoctor.size} doctors equal`);
  const statusDiff: string[] = [];
  const statusLine: string[] = [];
  for (const status of STATUSES) {
    const r = await reports.perDoctor(TWO_YEARS, status);
    const want = wantPerStatus.get(status) ?? 0;
    statusLine.push(`${status} ${fmtInt(r.total)}`);
    if (r.total !== want) statusDiff.push(`${status}: ${r.total} vs ${want}`);
  }
  check('perDoctor per-status totals equal the generated rows', !statusDiff.length, statusDiff.length ? statusDiff.join('; ') : statusLine.join(', '));
  const avg = await reports.averagePerPatient(TWO_YEARS);
  check(
    'averagePerPatient over two years: appointments and distinct patients',
    avg.totalAppointments === rows.n && avg.totalPatients === expected.patients.size,
    `${fmtInt(avg.totalAppointments)} / ${fmtInt(avg.totalPatients)} (expected ${fmtInt(rows.n)} / ${fmtInt(expected.patients.size)})`,
  );
  const state = await compareState(models, expected);
  check(
    'every count in days and patient_days equals the generated rows',
    state.differences === 0,
    `${fmtInt(state.days)} day and ${fmtInt(state.patients)} patient documents; ${state.differences ? `${fmtInt(state.differences)} differences, e.g. ${state.examples.join('; ')}` : 'no difference'}`,
  );
  return checks;
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
async function baseline(appointments: mongo.Collection<AppointmentDoc>, runs: number, dbPid: number | null): Promise<Baseline> {
  const memory = new MemorySampler(dbPid).start();
  const runsMs: number[] = [];
  let perDoctor = new Map<string, number>();
  for (let i = 0; i < runs; i++) {
    const t = now();
    const rows = await appointments
      .aggregate<{ _id: { doctorId: string; specialty: string }; count: number }>([
        { $match: { localDate: { $gte: TWO_YEARS.from, $lte: TWO_YEARS.to } } },
        { $group: { _id: { doctorId: '$doctorId', specialty: '$specialty' }, count: { $sum: 1 } } },
      ])
      .toArray();
    runsMs.push(now() - t);
    perDoctor = new Map(rows.map((r) => [perDoctorKey(r._id), r.count]));
  }
  const total = [...perDoctor.values()].reduce((s, c) => s + c, 0);
  const { dbPeakMb } = memory.stop();
  console.log(`  raw $match+$group per doctor, 2 years: ${runsMs.map(fmtMs).join(' / ')} ms (median ${fmtMs(median(runsMs))}), total ${total}${dbPeakMb !== null ? `, peak RSS FerretDB ${dbPeakMb} MB` : ''}`);
  return { runsMs, medianMs: median(runsMs), total, perDoctor, dbPeakMb };
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
  loadAverage: { first: number; max: number; last: number };
  load: LoadResult;
  batchSize: number;
  fullFoldMax: number;
  jobCapMinutes: number;
  baseline: Baseline;
  first: FirstState | null;
  increments: Increment[];
  checks: Check[];
  timings: Timing[];
  refreshSeconds: number;
}

const jobOk = (j: JobResult): j is JobResult & { run: RunDoc } => j.run !== null;

function observations(o: Outcome): string[] {
  const lines: string[] = [];
  const failed = o.checks.filter((c) => !c.ok);
  if (o.checks.length) {
    lines.push(failed.length ? `**${failed.length} of ${o.checks.length} correctness checks FAILED**: ${failed.map((c) => c.name).join('; ')}.` : `All ${o.checks.length} correctness checks passed.`);
  }
  const f = o.first;
  if (f?.kind === 'fold' && jobOk(f.job)) {
    lines.push(
      `First materialisation through the real path (\`Backfill.run()\`): counting ${fmtInt(f.appointments)} appointments took ${fmtS(f.job.wallMs)} ` +
        `(${perSecond(f.job.run.changes, f.job.wallMs)} changes/s, ${fmtMs(f.job.wallMs / f.job.run.changes)} ms a change), ${(f.job.wallMs / o.baseline.medianMs).toFixed(0)}× one naive report.`,
    );
  } else if (f?.kind === 'fold') {
    lines.push(`The backfill of ${fmtInt(f.appointments)} appointments ${f.job.abandoned ? `did not finish within ${o.jobCapMinutes} min (abandoned)${progress(f.job)}` : `failed: ${f.job.error}`}; the steps that need a finished materialisation were skipped.`);
  } else if (f?.kind === 'seeded') {
    lines.push(
      `First materialisation written by the benchmark (N > BENCH_FULL_FOLD_MAX = ${fmtInt(o.fullFoldMax)}; not the job): ${fmtInt(f.facts)} facts, ${fmtInt(f.days)} day and ${fmtInt(f.patients)} patient documents in ${fmtS(f.ms)}.`,
    );
  }
  const done = o.increments.filter((i) => jobOk(i.job));
  for (const inc of done) {
    const run = inc.job.run!;
    lines.push(
      `Folding ${fmtInt(inc.k)} changes into the state of ${fmtInt(o.load.loaded)} appointments took ${fmtS(inc.job.wallMs)} (${perSecond(run.changes, inc.job.wallMs)} changes/s, ${fmtMs(inc.job.wallMs / run.changes)} ms a change, ${fmtInt(run.rows)} documents written): ` +
        `${((100 * inc.job.wallMs) / (o.refreshSeconds * 1000)).toFixed(0)}% of the default ${o.refreshSeconds} s refresh interval, ${(inc.job.wallMs / o.baseline.medianMs).toFixed(2)}× one naive report (${fmtS(o.baseline.medianMs)}).`,
    );
  }
  if (done.length >= 2) {
    const [a, b] = [done[0], done[done.length - 1]];
    lines.push(`${fmtInt(b.k)} changes took ${(b.job.wallMs / a.job.wallMs).toFixed(1)}× the time of ${fmtInt(a.k)} (${(b.k / a.k).toFixed(0)}× the changes).`);
  }
  if (f?.kind === 'fold' && jobOk(f.job) && done.length) {
    const inc = done[0];
    lines.push(
      `Changes/s: first fold ${perSecond(f.job.run.changes, f.job.wallMs)} at an empty state vs ${done.map((i) => `${perSecond(i.job.run!.changes, i.job.wallMs)} for ${fmtInt(i.k)}`).join(', ')} at a state of ${fmtInt(o.load.loaded)} (first increment ${fmtS(inc.job.wallMs)}).`,
    );
  }
  for (const inc of o.increments.filter((i) => !jobOk(i.job))) lines.push(`The run of ${fmtInt(inc.k)} changes ${inc.job.abandoned ? `did not finish within ${o.jobCapMinutes} min (abandoned)${progress(inc.job)}` : `failed: ${inc.job.error}`}; the steps after it were skipped.`);
  if (o.timings.length) {
    const byMedian = [...o.timings].sort((a, b) => a.medianMs - b.medianMs);
    const fastest = byMedian[0];
    const slowest = byMedian[byMedian.length - 1];
    lines.push(
      `Fastest materialised report: ${fastest.name} (${fastest.range}) at ${fmtMs(fastest.medianMs)} ms median; slowest: ${slowest.name} (${slowest.range}) at ${fmtMs(slowest.medianMs)} ms median (p95 ${fmtMs(slowest.p95Ms)} ms).`,
    );
    const perDoctor2y = o.timings.find((t) => t.name === 'perDoctor' && t.range === '2 years');
    if (perDoctor2y) {
      lines.push(
        `The naive per-doctor count over the raw collection took ${fmtS(o.baseline.medianMs)} median vs ${fmtMs(perDoctor2y.medianMs)} ms for the materialised perDoctor over two years (the naive report takes ${(o.baseline.medianMs / perDoctor2y.medianMs).toFixed(1)}× as long).`,
      );
    }
  }
  const mem: string[] = [];
  if (f?.kind === 'fold') mem.push(`backfill ${fmtMem(f.job)}`);
  if (f?.kind === 'seeded') mem.push(`writing the state ${fmtMem(f.memory)}`);
  for (const inc of o.increments) mem.push(`${fmtInt(inc.k)} changes ${fmtMem(inc.job)}`);
  if (mem.length) lines.push(`Peak RSS: ${mem.join('; ')} (load: ${fmtMem(o.load)}; the node figures include the compact copy of the generated rows).`);
  return lines;
}

function renderRun(o: Outcome): string {
  const l = o.load;
  const rate = l.loaded / (l.ms / 1000);
  const out: string[] = [];
  out.push(`<!-- run n=${l.loaded} design=incremental -->`);
  out.push(`## N = ${fmtInt(l.loaded)} appointments`);
  out.push('');
  out.push(`- Date: ${o.env.date}`);
  out.push(`- Machine: nproc ${o.env.nproc} (${o.env.cpu}), ${o.env.memoryGb} GB RAM, ${o.env.os}, Node ${o.env.node}`);
  out.push(
    `- CPU: shared: another engineer runs the test suite on this machine now and then, so this run may have shared its ${o.env.nproc} cores. ` +
      `1-minute load average at the start ${o.loadAverage.first.toFixed(2)}, highest seen (every 5 s) ${o.loadAverage.max.toFixed(2)}, at the end ${o.loadAverage.last.toFixed(2)}.`,
  );
  out.push(`- Database: ${o.env.database}`);
  out.push(
    `- Data: ${DOCTOR_COUNT} doctors, ${SPECIALTIES.length} specialties, ${ZONES.length} time zones, ${fmtInt(PATIENT_COUNT)} patients, local dates ${FIRST_DAY} … ${LAST_DAY}` +
      ` (bench/fixtures.ts, seeded)`,
  );
  out.push(
    `- Load: ${fmtInt(l.loaded)}${l.stoppedEarly ? ` of ${fmtInt(l.requested)} requested (stopped at the BENCH_MAX_LOAD_MINUTES limit)` : ''} rows in ${fmtS(l.ms)} = **${fmtInt(Math.round(rate))} rows/s** ` +
      `(insertMany, batches of ${fmtInt(o.batchSize)}, ordered: false, into a collection with the appointments service's indexes; peak RSS ${fmtMem(l)}` +
      `${l.diskMb !== null ? `; data folder ${fmtInt(l.diskMb)} MB afterwards` : ''})`,
  );
  out.push('');
  out.push('### Baseline: "appointments per doctor over two years" straight from the raw appointments');
  out.push('');
  out.push(
    `\`$match\` on localDate + \`$group\` by doctor with \`$sum: 1\` on \`<prefix>_appointments.appointments\`, ${o.baseline.runsMs.length} run${o.baseline.runsMs.length > 1 ? 's' : ''}: ${o.baseline.runsMs.map((x) => `${fmtMs(x)} ms`).join(', ')} → **median ${fmtS(o.baseline.medianMs)}** (total ${fmtInt(o.baseline.total)}${o.baseline.dbPeakMb !== null ? `; peak RSS FerretDB ${o.baseline.dbPeakMb} MB` : ''}).`,
  );
  out.push('');
  const f = o.first;
  if (f?.kind === 'fold') {
    out.push('### First materialisation: the real path (`Backfill.run()`)');
    out.push('');
    out.push(`N <= BENCH_FULL_FOLD_MAX (${fmtInt(o.fullFoldMax)}): every appointment read from the appointments collection, queued as an observation and folded (\`Folder.run()\`), ${fmtInt(DEFAULT_BATCH)} at a time, into empty analytics collections.`);
    out.push('');
    out.push('| step | outcome | wall time | changes | changes/s | documents written | peak RSS node | peak RSS FerretDB |');
    out.push('|---|---|---:|---:|---:|---:|---:|---:|');
    const j = f.job;
    out.push(
      `| backfill (\`Backfill.run()\`) | ${j.run ? 'ok' : j.abandoned ? `**abandoned** (BENCH_MAX_JOB_MINUTES=${o.jobCapMinutes})${progress(j)}` : `**failed**: ${j.error}`} | ${fmtS(j.wallMs)} | ${j.run ? fmtInt(j.run.changes) : '–'} | ` +
        `${j.run ? perSecond(j.run.changes, j.wallMs) : '–'} | ${j.run ? fmtInt(j.run.rows) : '–'} | ${j.nodePeakMb} MB | ${j.dbPeakMb !== null ? `${j.dbPeakMb} MB` : '–'} |`,
    );
    out.push('');
  } else if (f?.kind === 'seeded') {
    out.push('### First materialisation: state written by the benchmark (what the fold produces), not timed as the job');
    out.push('');
    out.push(
      `N > BENCH_FULL_FOLD_MAX (${fmtInt(o.fullFoldMax)}): instead of queueing and folding every appointment, the benchmark computed from the generated rows (not read back) the documents the fold leaves behind ` +
        `and inserted them: ${fmtInt(f.facts)} \`facts\` (one per appointment, version 0 as the backfill reports it), ${fmtInt(f.days)} \`days\`, ${fmtInt(f.patients)} \`patient_days\` (lastBatch "${BENCH_BATCH_ID}"). ` +
        `Writing them took **${fmtS(f.ms)}** (insertMany, batches of ${fmtInt(o.batchSize)}; peak RSS ${fmtMem(f.memory)}). This is the cost of the benchmark's shortcut, not of the job.`,
    );
    out.push('');
  }
  if (o.increments.length) {
    out.push(`### The job's steady state: \`Folder.run()\` over K queued changes, state of ${fmtInt(l.loaded)} appointments`);
    out.push('');
    out.push(
      'Each change is an observation of an existing appointment (chosen with a seeded PRNG, distinct within a run) with version + 1 and a new state; ' +
        `queued with \`Folder.observe()\` (timed apart), then one \`Folder.run()\` folds them in batches of ${fmtInt(DEFAULT_BATCH)}. The runs follow each other on the same state.`,
    );
    out.push('');
    out.push('| K | changes | queue time | fold wall time | durationMs (RunDoc) | changes/s | ms a change | documents written | peak RSS node | peak RSS FerretDB |');
    out.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const inc of o.increments) {
      const j = inc.job;
      const kinds = [...inc.kinds].map(([k, n]) => `${fmtInt(n)} ${k}`).join('; ');
      const outcome = j.run ? '' : j.abandoned ? ` **abandoned** (BENCH_MAX_JOB_MINUTES=${o.jobCapMinutes})${progress(j)}` : ` **failed**: ${j.error}`;
      out.push(
        `| ${fmtInt(inc.k)} | ${kinds} | ${fmtS(inc.queueMs)} | ${fmtS(j.wallMs)}${outcome} | ${j.run ? `${fmtInt(j.run.durationMs)} ms` : '–'} | ${j.run ? perSecond(j.run.changes, j.wallMs) : '–'} | ` +
          `${j.run ? fmtMs(j.wallMs / j.run.changes) : '–'} | ${j.run ? fmtInt(j.run.rows) : '–'} | ${j.nodePeakMb} MB | ${j.dbPeakMb !== null ? `${j.dbPeakMb} MB` : '–'} |`,
      );
    }
    out.push('');
  }
  if (o.checks.length) {
    out.push('### Correctness checks');
    out.push('');
    out.push(
      'Expectations are computed by the benchmark from the generated rows (with the changes applied after the increments), independently of the fold; "naive baseline" is the raw `$group` above.',
    );
    out.push('');
    out.push('| check | result | detail |');
    out.push('|---|---|---|');
    for (const c of o.checks) out.push(`| ${c.name} | ${c.ok ? 'ok' : '**FAILED**'} | ${c.detail.replace(/\|/g, '\\|')} |`);
    out.push('');
  }
  if (o.timings.length) {
    out.push('### Materialised reads (`Reports`, called directly: no GraphQL, router or federation)');
    out.push('');
    out.push(
      `On the state of the first materialisation, before the increments. Two warm-up calls (one when a call takes over a tenth of the budget), then up to ${Math.max(...o.timings.map((t) => t.runs))} timed calls each, fewer when a report used up its time budget (see "runs"; at least 3). ` +
        `"1 month" = ${ONE_MONTH.from} … ${ONE_MONTH.to}, "2 years" = ${TWO_YEARS.from} … ${TWO_YEARS.to}; p95 is nearest-rank.`,
    );
    out.push('');
    out.push('| report | range | result | runs | median ms | p95 ms |');
    out.push('|---|---|---|---:|---:|---:|');
    for (const t of o.timings) out.push(`| ${t.name} | ${t.range} | ${t.result} | ${t.runs} | ${fmtMs(t.medianMs)} | ${fmtMs(t.p95Ms)} |`);
    out.push('');
  } else {
    out.push('Materialised reads: not measured (no finished materialisation to read).');
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
\`npm test\`). It measures the incremental design (subgraphs/analytics/fold.ts): appointments
report every change as an observation, the scheduled fold (\`Folder.run()\`) moves the counts in
the materialised \`days\` and \`patient_days\` documents, and the reports (\`Reports\`) read only those.

Each run loads N synthetic appointments into a database of its own, times one naive report on the
raw collection, materialises the state (up to BENCH_FULL_FOLD_MAX appointments through the real
\`Backfill.run()\`; above it the benchmark writes the state the fold would
produce, computed from the generated rows, and says so), checks it against the naive report and
against an independent computation, times each materialised report, times the job's steady-state
runs over K changes, checks again, and replaces its own "N = …" section below (sections of
other N are kept). A fold run that exceeds BENCH_MAX_JOB_MINUTES is abandoned and the steps that
need its result are skipped. Figures in the "N = …" sections are measured on the machine named
there; nothing in them is estimated. The machine's CPU may have been shared with another
engineer's test runs (see the load averages in each section).
`;

const PREVIOUS_HEADING = `## Previous design: full recompute by the job (kept for comparison)

These sections were measured with the previous design, in which the scheduled job
(\`Refresher.run()\`, subgraphs/analytics/pipelines.ts) recomputed all figures from every
appointment on each run; that code was replaced by the incremental fold measured above. Their
figures are unchanged (only the heading levels were lowered).`;

/** A section of the previous design, moved under PREVIOUS_HEADING: markers renamed, headings one level lower. */
function demote(section: string): string {
  return section
    .replace(/^<!-- run n=(\d+) -->/, '<!-- old-run n=$1 -->')
    .replace(/<!-- \/run -->$/, '<!-- /old-run -->')
    .split('\n')
    .map((line) => (/^#{2,5} /.test(line) ? `#${line}` : line))
    .join('\n');
}

/**
 * Keeps the hand-written notes block, the sections of other N and the previous design's sections;
 * replaces this N's section. Sections without the `design=incremental` marker were written by the
 * previous benchmark and are moved under PREVIOUS_HEADING.
 */
function writeResults(file: string, section: string, n: number): void {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const notes = /<!-- notes -->[\s\S]*?<!-- \/notes -->/.exec(previous)?.[0] ?? '<!-- notes -->\n<!-- /notes -->';
  const oldBlock = /<!-- previous-design -->[\s\S]*?<!-- \/previous-design -->/.exec(previous)?.[0] ?? '';
  const oldRuns = new Map<number, string>();
  for (const m of oldBlock.matchAll(/<!-- old-run n=(\d+) -->[\s\S]*?<!-- \/old-run -->/g)) oldRuns.set(Number(m[1]), m[0]);
  const runs = new Map<number, string>();
  for (const m of previous.replace(oldBlock, '').matchAll(/<!-- run n=(\d+)( design=incremental)? -->[\s\S]*?<!-- \/run -->/g)) {
    if (m[2]) runs.set(Number(m[1]), m[0]);
    else oldRuns.set(Number(m[1]), demote(m[0]));
  }
  runs.set(n, section);
  const desc = (map: Map<number, string>) => [...map].sort((a, b) => b[0] - a[0]).map(([, s]) => s);
  const parts = [HEADER, notes, ...desc(runs)];
  if (oldRuns.size) parts.push(['<!-- previous-design -->', PREVIOUS_HEADING, ...desc(oldRuns), '<!-- /previous-design -->'].join('\n\n'));
  writeFileSync(file, `${parts.join('\n\n').replace(/\n{3,}/g, '\n\n')}\n`);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const n = intEnv('BENCH_APPOINTMENTS', 1_000_000);
  const batchSize = intEnv('BENCH_BATCH', 5_000);
  const baselineRuns = intEnv('BENCH_BASELINE_RUNS', 3);
  const fullFoldMax = intEnv('BENCH_FULL_FOLD_MAX', 100_000);
  const incrementSizes = intListEnv('BENCH_INCREMENTS', [1_000, 10_000]);
  const runs = intEnv('BENCH_RUNS', 20);
  const budgetMs = intEnv('BENCH_REPORT_BUDGET_SECONDS', 120) * 1000;
  const maxLoadMs = intEnv('BENCH_MAX_LOAD_MINUTES', 25) * 60_000;
  const jobCapMinutes = intEnv('BENCH_MAX_JOB_MINUTES', 30);
  const resultsFile = process.env.BENCH_RESULTS ? path.resolve(process.env.BENCH_RESULTS) : RESULTS_DEFAULT;
  const external = Boolean(process.env.MONGODB_URI);
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const dataDir = external ? null : mkdtempSync(path.join(os.tmpdir(), 'healthsync-bench-'));
  const loadAverage = new LoadSampler();

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
  let stopping = false;
  const interrupted = () => {
    stopping = true;
    void cleanup().finally(() => process.exit(130));
  };
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
    const rows = new Rows(new World(), n);
    const loaded = await load(appointments, rows, n, batchSize, maxLoadMs, dbPid);
    const loadResult: LoadResult = { ...loaded, diskMb: dataDir ? mb(dirSize(dataDir)) : null };
    const counted = await appointments.countDocuments({});
    console.log(`  loaded ${fmtInt(loaded.loaded)} (collection holds ${fmtInt(counted)}) in ${fmtS(loaded.ms)}: ${fmtInt(Math.round(loaded.loaded / (loaded.ms / 1000)))} rows/s`);
    if (counted !== loaded.loaded || rows.n !== loaded.loaded) throw new Error(`collection holds ${counted} appointments, ${rows.n} generated, expected ${loaded.loaded}`);

    // 2. The naive baseline.
    console.log(`baseline on the raw collection (${baselineRuns} run${baselineRuns > 1 ? 's' : ''})…`);
    const base = await baseline(appointments, baselineRuns, dbPid);

    // 3. The first materialisation.
    const models: AnalyticsModels = await createAnalyticsModels(conn);
    const queue = Queue.open<AppointmentChange>(conn, cfg, ANALYTICS_APPOINTMENT_CHANGES);
    const folder = new Folder(models, queue, new Claims(claimsModel(conn)));
    const reports = new Reports(models, conn, cfg);
    let first: FirstState;
    if (rows.n <= fullFoldMax) {
      console.log(`Backfill.run() over ${fmtInt(rows.n)} appointments (at most ${jobCapMinutes} min)…`);
      const backfill = new Backfill(conn, cfg, folder, models.Run);
      const job = await runJob(() => backfill.run(), () => models.Facts.countDocuments({}), dbPid, jobCapMinutes * 60_000);
      console.log(`  ${describeJob(job)}`);
      first = { kind: 'fold', appointments: rows.n, job };
    } else {
      console.log(`writing the state the fold produces for ${fmtInt(rows.n)} appointments (N > BENCH_FULL_FOLD_MAX = ${fmtInt(fullFoldMax)})…`);
      first = await writeState(conn, models, rows, batchSize, dbPid);
      console.log(`  ${fmtInt(first.facts)} facts, ${fmtInt(first.days)} days, ${fmtInt(first.patients)} patient documents in ${fmtS(first.ms)}, peak RSS ${fmtMem(first.memory)}`);
    }
    const materialised = first.kind === 'seeded' || jobOk(first.job);

    const checks: Check[] = [];
    const increments: Increment[] = [];
    let timings: Timing[] = [];
    if (materialised) {
      // 4. Correctness of the first materialisation.
      console.log('checks of the first materialisation…');
      checks.push(...(await checkState('after the first materialisation', reports, models, rows, base)));
      if (first.kind === 'fold') {
        const facts = await models.Facts.countDocuments({});
        const run = (first.job as JobResult & { run: RunDoc }).run;
        const ok = facts === rows.n && run.changes === rows.n;
        checks.push({ name: 'after the first materialisation: facts documents and changes counted equal N', ok, detail: `${fmtInt(facts)} facts, RunDoc.changes ${fmtInt(run.changes)}, N = ${fmtInt(rows.n)}` });
        console.log(`  ${ok ? 'ok  ' : 'FAIL'} facts ${facts}, changes ${run.changes}`);
      }

      // 6. The materialised reads, before the increments so that they are measured even when an increment hits its limit.
      console.log('materialised reports…');
      const busiest = (await reports.perDoctor(TWO_YEARS)).rows[0];
      timings = await timeReports(reports, busiest.doctorId, runs, budgetMs);

      // 5. The job's steady state.
      let stopped = false;
      for (const [i, k] of incrementSizes.entries()) {
        const { observations: list, kinds } = makeChanges(rows, k, 7_000 + i);
        console.log(`${fmtInt(k)} changes (${[...kinds].map(([kind, c]) => `${c} ${kind}`).join(', ')})…`);
        const t = now();
        for (let from = 0; from < list.length; from += DEFAULT_BATCH) await folder.observe(...list.slice(from, from + DEFAULT_BATCH));
        const queueMs = now() - t;
        const waiting = async () => (await queue.count()) + (await models.Staged.countDocuments({}));
        const job = await runJob(() => folder.run(), async () => list.length - (await waiting()), dbPid, jobCapMinutes * 60_000);
        console.log(`  queued in ${fmtS(queueMs)}; fold ${describeJob(job)}`);
        increments.push({ k, kinds, queueMs, job });
        if (!jobOk(job)) {
          stopped = true;
          break;
        }
        if (job.run.changes !== k) checks.push({ name: `run of ${fmtInt(k)} changes: changes counted`, ok: false, detail: `RunDoc.changes ${job.run.changes}, expected ${k}` });
      }
      if (!stopped && increments.length) {
        const k = increments.map((x) => fmtInt(x.k)).join(' + ');
        checks.push({
          name: `runs of ${k} changes: changes counted`,
          ok: increments.every((x) => x.job.run?.changes === x.k),
          detail: increments.map((x) => `${fmtInt(x.job.run?.changes ?? 0)} of ${fmtInt(x.k)}`).join(', '),
        });
        console.log('checks after the changes…');
        checks.push(...(await checkState(`after ${k} changes`, reports, models, rows, null)));
      }

    }

    const outcome: Outcome = {
      env,
      loadAverage: loadAverage.stop(),
      load: loadResult,
      batchSize,
      fullFoldMax,
      jobCapMinutes,
      baseline: base,
      first,
      increments,
      checks,
      timings,
      refreshSeconds: cfg.ANALYTICS_REFRESH_SECONDS,
    };
    if (stopping) return; // interrupted: what failed afterwards is not a measurement
    writeResults(resultsFile, renderRun(outcome), loaded.loaded);
    console.log(`\n${observations(outcome).map((l) => `- ${l}`).join('\n')}\n\nwritten to ${path.relative(process.cwd(), resultsFile)}`);
    const failed = checks.filter((c) => !c.ok);
    if (failed.length) throw new Error(`CORRECTNESS CHECKS FAILED (${failed.length}):\n${failed.map((c) => `  ${c.name}: ${c.detail}`).join('\n')}`);
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
