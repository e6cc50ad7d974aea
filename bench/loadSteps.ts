/**
 * The steps of `npm run bench:load` (see bench/load.ts for how they are run and reported). Each
 * step reports Markdown lines and checks (figure against the issue's target) through `StepOut`,
 * stops starting work when its signal aborts (its time budget), and never sleeps a fixed time
 * where a condition can be polled.
 */
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Types, type Connection } from 'mongoose';
import { DateTime } from 'luxon';
import type { Config } from '../platform/config';
import { NOTIFY_APPOINTMENT_EVENTS } from '../platform/jobNames';
import { slotKeyOf, type AppointmentDoc } from '../subgraphs/appointments/model';
import type { NotificationDoc } from '../subgraphs/notifications/model';
import { reminderTime } from '../subgraphs/notifications/templates';
import { difference } from './dbCommands';
import { World } from './fixtures';
import { book, deadlineSignal, GraphClient, isOpenOutcome, median, NO_RETRY, percentile, pool, RETRY_OPEN_OUTCOMES, setupMutation, tally, type Booking, type BookingInput, type RetryPolicy } from './loadClient';
import { cpuSeconds, rssMb, type ManagedProcess, type Stack } from './loadStack';
import { DAY_VIEW_DOCTORS, DAY_VIEW_SPECIALTY, dayBookings, dayViewQuery, dayFromToday, People, PATIENT_ZONE, slotAt, SLOT_MINUTES, Stores } from './loadWorld';

const MINUTE_MS = 60_000;
/** Issue point 3: every stored booking confirmed within this long after the last restart. */
const CONFIRMED_AFTER_RESTART_MS = 60_000;
/** Bookings the no-faults step makes before the ones it measures. */

// ---------------------------------------------------------------------------------------------
// Plumbing shared by the steps.

export interface Check {
  name: string;
  target: string;
  value: string;
  ok: boolean;
}

/** What a step reports: Markdown lines for RESULTS.md (also printed) and checks. */
export class StepOut {
  readonly lines: string[] = [];
  readonly checks: Check[] = [];

  line(text = ''): void {
    this.lines.push(text);
    if (text) console.log(`  ${text}`);
  }

  check(name: string, target: string, value: string, ok: boolean): void {
    this.checks.push({ name, target, value, ok });
    console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${name}: ${value} (target ${target})`);
  }
}

/** Everything the steps share during one run. */
export interface Run {
  stack: Stack;
  client: GraphClient;
  cfg: Config;
  conn: Connection;
  stores: Stores;
  people: People;
  opts: LoadOptions;
  /** Bookings of the no-faults step (the day view and the second idle measurement use them). */
  noFaults: Booking[] | null;
}

export interface LoadOptions {
  clients: number;
  bookings: number;
  /** Bookings of the no-faults step before the timed ones (warm-up). */
  warmUp: number;
  idleSeconds: number;
  confirmWaitSeconds: number;
  contention: number;
  dayViewRuns: number;
  reminderBookings: number;
  reminderBookingSeconds: number;
  reminderMarginSeconds: number;
  reminderWaitSeconds: number;
  scaleAppointments: number;
  scaleRuns: number;
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Polls `probe` every `everyMs` until it is true; false when `deadline` passed or `signal` aborted. */
export async function until(probe: () => Promise<boolean>, deadline: number, signal: AbortSignal, everyMs = 1_000): Promise<boolean> {
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (Date.now() >= deadline || signal.aborted) return false;
    await sleep(Math.min(everyMs, Math.max(0, deadline - Date.now())), signal);
  }
}

/** A database call retried while the database is away (it may have just been killed). */
async function db<T>(fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

const fmt = (ms: number) => (Number.isNaN(ms) ? '–' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const n = (x: number) => x.toLocaleString('en-US');
const rate = (count: number, ms: number) => (ms > 0 ? count / (ms / 1000) : 0);

/** Runs bookings with `clients` concurrent clients and prints progress every 10 %. */
async function runBookings(
  run: Run,
  items: BookingInput[],
  policy: RetryPolicy,
  clients: number,
  signal: AbortSignal,
  after?: (b: Booking, done: number) => void,
  /** When this aborts no new booking starts, but those under way finish (default: `signal`). */
  stopStarting: AbortSignal = signal,
): Promise<{ bookings: Booking[]; wallMs: number }> {
  const t0 = performance.now();
  let lastPrinted = 0;
  const bookings = await pool(items, clients, (input) => book(run.client, input, policy, { signal }), {
    signal: stopStarting,
    after: (b, done) => {
      after?.(b, done);
      if (done - lastPrinted >= items.length / 10 || done === items.length) {
        lastPrinted = done;
        const elapsed = performance.now() - t0;
        process.stdout.write(`    ${done}/${items.length} in ${(elapsed / 1000).toFixed(0)} s (${rate(done, elapsed).toFixed(1)}/s)\n`);
      }
    },
  });
  return { bookings, wallMs: performance.now() - t0 };
}

function latencyLine(bookings: Booking[]): string {
  const ms = bookings.map((b) => b.ms);
  return `latency per booking (first attempt to final answer): p50 ${fmt(median(ms))}, p99 ${fmt(percentile(ms, 99))}, max ${fmt(Math.max(...ms))}`;
}

/** Notifications of one kind per appointment id. */
async function notificationsOf(run: Run, kind: NotificationDoc['kind'], ids: string[]): Promise<Map<string, NotificationDoc[]>> {
  const docs = await db(() => run.stores.notifications.find({ kind, appointmentId: { $in: ids } }).toArray());
  const by = new Map<string, NotificationDoc[]>(ids.map((id) => [id, []]));
  for (const d of docs) by.get(String(d.appointmentId))?.push(d);
  return by;
}

async function sentCount(run: Run, kind: NotificationDoc['kind'], ids: string[]): Promise<number> {
  return run.stores.notifications.countDocuments({ kind, status: 'SENT', appointmentId: { $in: ids } });
}

/** Each notification's hand-overs to the (simulated) channel: "<log file> <time>" per delivery log line. */
type ChannelLog = Map<string, string[]>;

/** How often the (simulated) channel was handed each notification: the delivery log lines of every notifications process. */
function channelDeliveries(processes: ManagedProcess[]): ChannelLog {
  const where: ChannelLog = new Map();
  for (const p of processes) {
    for (const file of p.logFiles) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        if (!line.includes('"delivery":"simulated"')) continue;
        try {
          const j = JSON.parse(line) as { notificationId?: unknown; time?: unknown };
          const id = String(j.notificationId);
          where.set(id, [...(where.get(id) ?? []), `${path.basename(file)} ${String(j.time)}`]);
        } catch {
          // a line cut short by kill -9
        }
      }
    }
  }
  return where;
}

/**
 * Where the notices of these appointments stand (notifications' queue), the reminders, and when
 * each notifications process last wrote a log line: evidence for a delivery that stalls.
 */
async function jobsDiagnostics(run: Run, ids: string[]): Promise<string> {
  const now = new Date();
  const parts: string[] = [];
  const q = { appointmentId: { $in: ids } };
  const [total, retried, later, pending, pendingDue] = await Promise.all([
    run.stores.notices.countDocuments(q),
    run.stores.notices.countDocuments({ ...q, attempts: { $gte: 1 } }),
    run.stores.notices.countDocuments({ ...q, retryAt: { $gt: now } }),
    run.stores.reminders.countDocuments({ _id: { $in: ids } }),
    run.stores.reminders.countDocuments({ _id: { $in: ids }, dueAt: { $lte: now } }),
  ]);
  parts.push(`\`${NOTIFY_APPOINTMENT_EVENTS}\` notices of these appointments waiting: ${n(total)} (failed at least once ${n(retried)}, to retry later ${n(later)})`);
  parts.push(`pending reminders: ${n(pending)} (${n(pendingDue)} due)`);
  const all = await run.stores.jobs.countDocuments({});
  const logs = notificationProcesses(run).map((p) => {
    const file = p.logFiles[p.logFiles.length - 1];
    let last = 'no log';
    try {
      last = `last log line ${((now.getTime() - statSync(file).mtimeMs) / 1000).toFixed(0)} s before`;
    } catch {
      // no file
    }
    return `${p.name} (${p.running ? 'running' : 'not running'}, ${last})`;
  });
  return `Jobs at ${now.toISOString()}: ${parts.join('; ')}; ${n(all)} jobs in the collection in all. Notifications processes: ${logs.join(', ')}.`;
}

function notificationProcesses(run: Run): ManagedProcess[] {
  return [run.stack.service('notifications'), ...run.stack.extras.values()];
}

interface NotifySummary {
  exactlyOnce: number;
  none: number;
  notSent: string;
  moreThanOneRecord: number;
  deliveriesOver1: number;
  channelOver1: number;
  channelNone: number;
  /** Evidence: the notifications handed to the channel more than once, with where and when (at most 5). */
  repeated: string[];
}

/** Per appointment: exactly one notification record, SENT, `deliveries` 1, handed to the channel once. */
function summarise(by: Map<string, NotificationDoc[]>, channel: ChannelLog): NotifySummary {
  const s: NotifySummary = { exactlyOnce: 0, none: 0, notSent: '', moreThanOneRecord: 0, deliveriesOver1: 0, channelOver1: 0, channelNone: 0, repeated: [] };
  const unsent: string[] = [];
  for (const docs of by.values()) {
    if (docs.length === 0) s.none++;
    if (docs.length > 1) s.moreThanOneRecord++;
    for (const d of docs) {
      if (d.status !== 'SENT') unsent.push(d.status);
      if (d.deliveries > 1) s.deliveriesOver1++;
      const lines = channel.get(String(d._id)) ?? [];
      if (lines.length > 1) {
        s.channelOver1++;
        if (s.repeated.length < 5) {
          s.repeated.push(`notification ${String(d._id)} (appointment ${d.appointmentId}, ${d.status}, deliveries ${d.deliveries}, attempts ${d.attempts}, sentAt ${d.sentAt?.toISOString() ?? '–'}): ${lines.join(', ')}`);
        }
      }
      if (lines.length === 0 && d.status === 'SENT') s.channelNone++;
    }
    if (docs.length === 1 && docs[0].status === 'SENT' && docs[0].deliveries === 1 && channel.get(String(docs[0]._id))?.length === 1) s.exactlyOnce++;
  }
  s.notSent = tally(unsent);
  return s;
}

function summaryLine(what: string, total: number, s: NotifySummary): string {
  return (
    `${what}: ${n(s.exactlyOnce)} of ${n(total)} exactly once (one record, SENT, deliveries 1, one channel delivery); ` +
    `none stored ${n(s.none)}; records not SENT: ${s.notSent}; more than one record ${n(s.moreThanOneRecord)}; ` +
    `deliveries > 1 ${n(s.deliveriesOver1)}; handed to the channel more than once ${n(s.channelOver1)}; SENT without a channel delivery line ${n(s.channelNone)}` +
    (s.repeated.length ? `. Handed to the channel more than once (delivery log lines): ${s.repeated.join('; ')}` : '')
  );
}

// ---------------------------------------------------------------------------------------------
// 2. Idle.

/** CPU of every process of the stack over `seconds` with no client traffic; checks the database's ≤ 5 %. */
export async function idle(run: Run, out: StepOut, label: string, signal: AbortSignal, waitFor: { what: string; until: () => Promise<boolean>; maxMs: number } | null): Promise<void> {
  out.line(`#### ${label}`);
  out.line();
  if (waitFor) {
    const t = Date.now();
    const met = await until(waitFor.until, t + waitFor.maxMs, signal, 2_000);
    out.line(`Before measuring: waited ${fmt(Date.now() - t)} for ${waitFor.what}${met ? '' : ` — **not reached** within ${fmt(waitFor.maxMs)}, measured anyway`}.`);
  }
  const procs = run.stack.all().filter((p) => p.running && p.pid !== null);
  const first = new Map(procs.map((p) => [p.name, cpuSeconds(p.pid!) ?? 0]));
  const commandsBefore = run.stack.commands?.counter.snapshot();
  const dbPid = run.stack.db.pid!;
  const slices: number[] = [];
  const t0 = performance.now();
  const end = t0 + run.opts.idleSeconds * 1000;
  const sliceMs = 10_000;
  let prev = cpuSeconds(dbPid) ?? 0;
  let prevT = t0;
  while (end - performance.now() > 100 && !signal.aborted) {
    await sleep(Math.min(sliceMs, end - performance.now()), signal);
    const now = performance.now();
    const c = cpuSeconds(dbPid) ?? prev;
    slices.push(((c - prev) / ((now - prevT) / 1000)) * 100);
    prev = c;
    prevT = now;
  }
  const seconds = (performance.now() - t0) / 1000;
  const rows = procs.map((p) => {
    const used = (cpuSeconds(p.pid!) ?? 0) - (first.get(p.name) ?? 0);
    return { name: p.name, pct: (used / seconds) * 100, rss: rssMb(p.pid!) };
  });
  const dbRow = rows.find((r) => r.name === 'ferretdb')!;
  out.line(`${seconds.toFixed(0)} s without client traffic; CPU from /proc/<pid>/stat (utime + stime), % of one core:`);
  out.line();
  out.line('| process | CPU % | RSS MB |');
  out.line('|---|---:|---:|');
  for (const r of rows) out.line(`| ${r.name} | ${r.pct.toFixed(1)} | ${r.rss ?? '–'} |`);
  out.line(`| all of the stack | ${rows.reduce((a, r) => a + r.pct, 0).toFixed(1)} | |`);
  out.line();
  out.line(`Database CPU per 10 s slice: ${slices.map((s) => s.toFixed(1)).join(', ')} %.`);
  if (commandsBefore) out.line(`Database commands per second meanwhile (BENCH_DB_COUNT=1): ${idleCommandsLine(run, commandsBefore, seconds)}.`);
  out.line(`Collections of \`${run.cfg.DB_PREFIX}_*\` with 100 documents or more, counted after the window: ${await bigCollections(run).catch((err: Error) => `(not readable: ${err.message})`)}.`);
  out.line();
  out.check(`database CPU at idle, ${label}`, '≤ 5 % of one core', `${dbRow.pct.toFixed(1)} %`, dbRow.pct <= 5);
}

/** "db.collection n, …" for this run's collections of 100 documents or more (what an idle poll may read). */
async function bigCollections(run: Run): Promise<string> {
  const { databases } = await run.conn.db!.admin().listDatabases({ nameOnly: true });
  const found: string[] = [];
  for (const { name } of databases.filter((d) => d.name.startsWith(`${run.cfg.DB_PREFIX}_`))) {
    const dbh = run.conn.useDb(name, { useCache: true }).db!;
    for (const c of await dbh.listCollections({}, { nameOnly: true }).toArray()) {
      const count = await dbh.collection(c.name).estimatedDocumentCount();
      if (count >= 100) found.push(`${name.slice(run.cfg.DB_PREFIX.length + 1)}.${c.name} ${n(count)}`);
    }
  }
  return found.join(', ') || 'none';
}

// ---------------------------------------------------------------------------------------------
// 3. No faults.

/** CPU seconds each running process of the stack uses from now until the returned function is called. */
function cpuMeter(run: Run): () => { name: string; s: number }[] {
  const procs = run.stack.all().filter((p) => p.running && p.pid !== null);
  const before = new Map(procs.map((p) => [p.name, cpuSeconds(p.pid!) ?? 0]));
  return () => procs.map((p) => ({ name: p.name, s: (cpuSeconds(p.pid!) ?? 0) - (before.get(p.name) ?? 0) }));
}

/** Where the time went: CPU of each process while the bookings ran, per booking sent. */
function cpuLine(used: { name: string; s: number }[], count: number, wallMs: number): string {
  const perBooking = (sec: number) => ((sec * 1000) / Math.max(1, count)).toFixed(1);
  const total = used.reduce((a, c) => a + c.s, 0);
  return (
    `CPU while they ran (ms per booking; the machine has ${os.cpus().length} cores, ${((total / (wallMs / 1000)) * 100).toFixed(0)} % of one core used in all): ` +
    `${used.map((c) => `${c.name} ${perBooking(c.s)}`).join(', ')}; all ${perBooking(total)}.`
  );
}

export async function noFaults(run: Run, out: StepOut, signal: AbortSignal): Promise<void> {
  const { opts, people, stores } = run;
  await people.ensureDoctors(DAY_VIEW_DOCTORS, signal);
  // The warm-up books other patients: the timed bookings still find no patient known to
  // appointments and no care relation stored, as on a stack that never saw them.
  await people.ensurePatients(opts.bookings + opts.warmUp, signal);
  const reason = 'load no-faults';
  const day = dayFromToday(3);
  const items = dayBookings(people, day, opts.bookings, reason);
  out.line(
    `${n(items.length)} bookings (bookAppointment through the router as the super admin, each with an Idempotency-Key, no retries), ${opts.clients} concurrent clients; ` +
      `distinct slots: ${DAY_VIEW_DOCTORS} doctors × ${Math.ceil(items.length / DAY_VIEW_DOCTORS)} 5-minute slots on ${day.toISOString().slice(0, 10)}, one patient per booking. ` +
      `Doctors and patients created beforehand through the router (not timed with the bookings).`,
  );
  // A stack just started runs its first bookings on cold code, and gets faster for a thousand
  // bookings or more (2026-12-04, 2,000 bookings of 2,000 patients after 200: 85/s over the first
  // 500, 112/s over the last 1,000, CPU per booking 24.5 → 18.4 ms, the router's alone 3.4 → 2.1):
  // warm it up first, as the gateway benchmark does, and report the warm-up apart, round by round
  // (the cold figures stay visible).
  const rounds: string[] = [];
  for (let done = 0, round = 0; done < opts.warmUp; round++) {
    const warmDay = dayFromToday(6 + round);
    const count = Math.min(opts.warmUp - done, opts.bookings);
    const warmItems = dayBookings(people, warmDay, count, `${reason} warm-up`, DAY_VIEW_DOCTORS, opts.bookings + done);
    const warm = await runBookings(run, warmItems, NO_RETRY, opts.clients, signal);
    rounds.push(`${n(count)} on ${warmDay.toISOString().slice(0, 10)} at ${rate(warm.bookings.filter((b) => b.id).length, warm.wallMs).toFixed(1)}/s (${latencyLine(warm.bookings)})`);
    done += count;
  }
  if (rounds.length) {
    out.line(
      `Warm-up first (not in the figures below; \`--warm-up=${opts.warmUp}\`): ${n(opts.warmUp)} bookings of the same doctors with other patients on other days, ${opts.clients} concurrent clients, ` +
        `in rounds of at most ${n(opts.bookings)}: ${rounds.join('; ')}.`,
    );
  }
  const cpu = cpuMeter(run);
  const commandsBefore = run.stack.commands?.counter.snapshot();
  const { bookings, wallMs } = await runBookings(run, items, NO_RETRY, opts.clients, signal);
  const cpuUsed = cpu();
  run.noFaults = bookings;
  const acked = bookings.filter((b) => b.id);
  const stored = await stores.appointments.countDocuments({ reason });
  const perSecond = rate(acked.length, wallMs);
  const p99 = percentile(bookings.map((b) => b.ms), 99);
  out.line(`${n(bookings.length)} sent in ${fmt(wallMs)}: **${perSecond.toFixed(1)} bookings/s** acknowledged; ${latencyLine(bookings)}.`);
  out.line(`Answers: ${tally(bookings.map((b) => (b.id ? 'OK' : (b.failure ?? '?'))))}; stored: ${n(stored)}.`);
  out.line(cpuLine(cpuUsed, bookings.length, wallMs));

  const ackedIds = acked.map((b) => b.id!);
  if (commandsBefore) await commandsPerBooking(run, out, commandsBefore, ackedIds, bookings.length, signal);

  // The plain insert rate of the same database, same concurrency.
  const confirmedBefore = await sentCount(run, 'APPOINTMENT_CONFIRMED', ackedIds);
  const inserts = Math.max(opts.bookings, 2_000);
  const scratch = stores.scratch;
  const latencies: number[] = [];
  const t0 = performance.now();
  await pool(Array.from({ length: inserts }, (_v, i) => i), opts.clients, async (i) => {
    const t = performance.now();
    await scratch.insertOne({ i, patientId: String(i), doctorId: 'bench', start: new Date(), status: 'SCHEDULED', reason: 'scratch' });
    latencies.push(performance.now() - t);
  }, { signal });
  const insertMs = performance.now() - t0;
  out.line(
    `Beside it, the database alone: ${n(latencies.length)} insertOne into a scratch collection, ${opts.clients} concurrent loops from this process: ` +
      `**${rate(latencies.length, insertMs).toFixed(0)} inserts/s**, p50 ${fmt(median(latencies))}, p99 ${fmt(percentile(latencies, 99))} ` +
      `(measured right after the bookings, while the stack was still sending their confirmations: ${n(confirmedBefore)} of ${n(ackedIds.length)} SENT when the inserts began, ${n(await sentCount(run, 'APPOINTMENT_CONFIRMED', ackedIds))} when they ended).`,
  );
  out.line();
  out.check('bookings/s without faults', '≥ 100/s', `${perSecond.toFixed(1)}/s`, perSecond >= 100);
  out.check('booking latency p99 without faults', '≤ 500 ms', fmt(p99), p99 <= 500);
  out.check('every booking acknowledged and stored', `${n(items.length)}`, `${n(acked.length)} acknowledged, ${n(stored)} stored`, acked.length === items.length && stored === items.length);
}

/** Commands counted since `before`, per booking sent (or other `unit`): the total and by database and command. */
function commandsLine(run: Run, before: Map<string, number>, sent: number, unit = 'booking'): string {
  const rows = countedSince(run, before);
  const total = rows.reduce((a, [, v]) => a + v, 0);
  const per = (v: number) => (v / Math.max(1, sent)).toFixed(2);
  return `**${per(total)} per ${unit}**; by database and command: ${rows.map(([k, v]) => `${k} ${per(v)}`).join(', ')}`;
}

/** Commands counted since `before` by `<database> <command>`, the run's prefix taken off the database. */
function countedSince(run: Run, before: Map<string, number>): [string, number][] {
  return difference(run.stack.commands!.counter.snapshot(), before).map(([k, v]): [string, number] => [k.replace(`${run.cfg.DB_PREFIX}_`, ''), v]);
}

/** Commands counted since `before`, per second over `seconds`, by database and command, the most frequent first. */
function idleCommandsLine(run: Run, before: Map<string, number>, seconds: number): string {
  const rows = countedSince(run, before)
    .map(([k, v]): [string, number] => [k, v / seconds])
    .sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((a, [, v]) => a + v, 0);
  return `**${total.toFixed(1)}/s**; ${rows.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`;
}

/**
 * With BENCH_DB_COUNT=1: the database commands the stack sent for the bookings, from before the
 * first until every confirmation was SENT, per booking, by database and command.
 */
async function commandsPerBooking(run: Run, out: StepOut, before: Map<string, number>, ids: string[], sent: number, signal: AbortSignal): Promise<void> {
  await until(async () => (await sentCount(run, 'APPOINTMENT_CONFIRMED', ids)) >= ids.length, Date.now() + 120_000, signal, 250);
  out.line(
    `Database commands from the first booking until every confirmation was SENT (BENCH_DB_COUNT=1, counted by a proxy in front of the database; includes the stack's background polling meanwhile): ` +
      `${commandsLine(run, before, sent)}.`,
  );
}

/** Condition before the second idle measurement: every no-faults booking has its confirmation SENT. */
export function noFaultsConfirmed(run: Run): { what: string; until: () => Promise<boolean>; maxMs: number } {
  const ids = (run.noFaults ?? []).filter((b) => b.id).map((b) => b.id!);
  return {
    what: `the ${n(ids.length)} confirmations of the no-faults bookings to be SENT`,
    until: async () => (await sentCount(run, 'APPOINTMENT_CONFIRMED', ids)) >= ids.length,
    maxMs: Math.min(120, run.opts.confirmWaitSeconds) * 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// 4. Faults.

interface Fault {
  at: number;
  target: ManagedProcess;
  killedAt?: number;
  restartedAt?: number;
  readyAt?: number;
  error?: string;
}

export async function faults(run: Run, out: StepOut, signal: AbortSignal): Promise<void> {
  const { opts, people, stores, stack } = run;
  await people.ensureDoctors(DAY_VIEW_DOCTORS, signal);
  await people.ensurePatients(opts.bookings, signal);
  const reason = 'load faults';
  const day = dayFromToday(4);
  const items = dayBookings(people, day, opts.bookings, reason);
  const plan: Fault[] = [
    { at: 0.2, target: stack.service('appointments') },
    { at: 0.45, target: stack.service('notifications') },
    { at: 0.7, target: stack.db },
  ];
  out.line(
    `${n(items.length)} bookings on ${day.toISOString().slice(0, 10)} (distinct slots and patients as above), ${opts.clients} concurrent clients, an Idempotency-Key per booking reused on every retry; ` +
      `retried with the same key after a transport error, HTTP 502/503/504, SUBGRAPH_UNAVAILABLE or INTERNAL_SERVER_ERROR (README: the outcome is open), ` +
      `backoff 100 ms doubling to 2 s (or Retry-After, at most 5 s), at most ${RETRY_OPEN_OUTCOMES.maxAttempts} attempts or ${RETRY_OPEN_OUTCOMES.maxTotalMs / 1000} s per booking. ` +
      `When 20 %, 45 % and 70 % of the bookings had their final answer, the benchmark sent SIGKILL to appointments, notifications and the database respectively and started each again at once (same port, same data folder).`,
  );
  const pending: Promise<void>[] = [];
  const t0 = Date.now();
  const fire = (f: Fault) => {
    pending.push(
      (async () => {
        f.killedAt = Date.now();
        await f.target.kill9();
        f.target.spawn();
        f.restartedAt = Date.now();
        await f.target.ready(60_000);
        if (f.target === stack.db) await stack.ping(60_000);
        f.readyAt = Date.now();
      })().catch((err: Error) => {
        f.error = err.message;
      }),
    );
  };
  const { bookings, wallMs } = await runBookings(run, items, RETRY_OPEN_OUTCOMES, opts.clients, signal, (_b, done) => {
    for (const f of plan) {
      if (f.killedAt === undefined && done >= Math.round(f.at * items.length)) {
        process.stdout.write(`    kill -9 ${f.target.name} (pid ${f.target.pid}) after ${done} final answers\n`);
        fire(f);
      }
    }
  });
  await Promise.all(pending);
  const bookingsEnded = Date.now();

  const acked = bookings.filter((b) => b.id);
  const toldFailed = bookings.filter((b) => !b.id);
  const stored = await db(() => stores.appointments.find({ reason }, { projection: { _id: 1, patientId: 1, doctorId: 1, start: 1, status: 1 } }).toArray());
  const tuple = (p: string, d: string, s: string) => `${p}|${d}|${s}`;
  const storedBy = new Map<string, string[]>();
  for (const a of stored) {
    const k = tuple(a.patientId, a.doctorId, a.start.toISOString());
    storedBy.set(k, [...(storedBy.get(k) ?? []), String(a._id)]);
  }
  const storedIds = new Set(stored.map((a) => String(a._id)));
  const samePatientSlot = [...storedBy.values()].filter((ids) => ids.length > 1).length;
  const keyOf = (b: Booking) => tuple(b.input.patientId, b.input.doctorId, new Date(b.input.start).toISOString());
  const perKeyOver1 = bookings.filter((b) => (storedBy.get(keyOf(b))?.length ?? 0) > 1).length;
  const storedAfterFailed = toldFailed.filter((b) => (storedBy.get(keyOf(b))?.length ?? 0) > 0);
  const lostAcks = acked.filter((b) => !storedIds.has(b.id!));
  const ackIdDiffers = acked.filter((b) => storedIds.has(b.id!) && !(storedBy.get(keyOf(b)) ?? []).includes(b.id!)).length;
  const notBooked = items.length - bookings.length;

  out.line();
  out.line('| fault | killed at (s into the run) | started again | ready again (downtime) | note |');
  out.line('|---|---:|---:|---:|---|');
  for (const f of plan) {
    const s = (t?: number) => (t === undefined ? '–' : ((t - t0) / 1000).toFixed(1));
    out.line(`| kill -9 ${f.target.name} at ${Math.round(f.at * 100)} % | ${s(f.killedAt)} | ${s(f.restartedAt)} | ${s(f.readyAt)} (${f.readyAt && f.killedAt ? fmt(f.readyAt - f.killedAt) : '–'}) | ${f.error ?? ''} |`);
  }
  out.line();
  out.line(`${n(bookings.length)} bookings in ${fmt(wallMs)} (${rate(acked.length, wallMs).toFixed(1)} acknowledged/s); ${latencyLine(bookings)}.`);
  out.line(`Attempts per booking: ${tally(bookings.map((b) => String(b.attempts.length)))} (count of bookings by attempts); every attempt's answer: ${tally(bookings.flatMap((b) => b.attempts))}.`);
  out.line(`Acknowledged answers that were replays (Idempotent-Replayed: true): ${n(acked.filter((b) => b.replayed).length)}.`);
  out.line();
  out.line('| figure | count |');
  out.line('|---|---:|');
  out.line(`| bookings sent | ${n(bookings.length)}${notBooked ? ` (${n(notBooked)} not started: step budget)` : ''} |`);
  out.line(`| acknowledged (client got a booking id) | ${n(acked.length)} |`);
  out.line(`| stored (\`${run.cfg.DB_PREFIX}_appointments.appointments\`, this step's reason) | ${n(stored.length)} |`);
  out.line(`| told failed (client gave up with an error) | ${n(toldFailed.length)}${toldFailed.length ? `: ${tally(toldFailed.map((b) => b.failure ?? '?'))}` : ''} |`);
  out.line(`| duplicates: same patient + slot stored twice | ${n(samePatientSlot)} |`);
  out.line(`| duplicates: one booking's key with more than one stored appointment | ${n(perKeyOver1)} |`);
  out.line(`| stored after told failed | ${n(storedAfterFailed.length)} |`);
  out.line(`| acknowledged but not stored (lost) | ${n(lostAcks.length)} |`);
  out.line(`| acknowledged with another id than the one stored for it | ${n(ackIdDiffers)} |`);

  // Confirmations: poll until every stored booking has its SENT confirmation (bounded).
  const ids = [...storedIds];
  const lastRestart = Math.max(...plan.map((f) => f.restartedAt ?? 0));
  const deadline = bookingsEnded + opts.confirmWaitSeconds * 1000;
  let progressAt = 0;
  const allSent = await until(async () => {
    const sent = await sentCount(run, 'APPOINTMENT_CONFIRMED', ids);
    if (Date.now() - progressAt > 15_000) {
      progressAt = Date.now();
      process.stdout.write(`    confirmations SENT: ${sent}/${ids.length}\n`);
    }
    return sent >= ids.length;
  }, deadline, signal, 2_000);
  const by = await notificationsOf(run, 'APPOINTMENT_CONFIRMED', ids);
  const summary = summarise(by, channelDeliveries(notificationProcesses(run)));
  const sentAts = [...by.values()].flat().filter((d) => d.status === 'SENT' && d.sentAt).map((d) => d.sentAt!.getTime());
  const lastSent = sentAts.length ? Math.max(...sentAts) : NaN;
  out.line();
  out.line(summaryLine('Confirmations (APPOINTMENT_CONFIRMED per stored booking)', ids.length, summary));
  if (!allSent) out.line(await jobsDiagnostics(run, ids).catch((err: Error) => `(jobs not readable: ${err.message})`));
  out.line(
    allSent
      ? `Every stored booking had its SENT confirmation ${fmt(lastSent - lastRestart)} after the last restart (the database's; from the newest \`sentAt\`).`
      : `Not every stored booking had a SENT confirmation ${fmt(deadline - lastRestart)} after the last restart (polled for ${opts.confirmWaitSeconds} s after the bookings ended): ${n(sentAts.length)} of ${n(ids.length)} SENT.`,
  );
  out.line();
  out.check('faults: acknowledged bookings all stored', '0 lost', n(lostAcks.length), lostAcks.length === 0);
  out.check('faults: duplicates', '0', n(samePatientSlot + perKeyOver1), samePatientSlot + perKeyOver1 === 0);
  out.check('faults: stored after told failed', '0', n(storedAfterFailed.length), storedAfterFailed.length === 0);
  out.check('faults: told failed', '0 (every booking acknowledged after retries)', n(toldFailed.length), toldFailed.length === 0);
  out.check('faults: exactly one SENT confirmation per stored booking', n(ids.length), n(summary.exactlyOnce), summary.exactlyOnce === ids.length);
  out.check(
    'faults: all confirmations SENT after the last restart',
    `≤ ${fmt(CONFIRMED_AFTER_RESTART_MS)} (issue: "every stored booking confirmed exactly once within 60 s of the last restart")`,
    allSent ? fmt(lastSent - lastRestart) : `not reached in ${opts.confirmWaitSeconds} s (${n(sentAts.length)}/${n(ids.length)})`,
    allSent && lastSent - lastRestart <= CONFIRMED_AFTER_RESTART_MS,
  );
}

// ---------------------------------------------------------------------------------------------
// 5. Contention.

export async function contention(run: Run, out: StepOut, signal: AbortSignal): Promise<void> {
  const { opts, people, stores } = run;
  await people.ensureDoctors(1, signal);
  await people.ensurePatients(opts.contention, signal);
  const reason = 'load contention';
  const slot = slotAt(new Date(dayFromToday(5).getTime() + 12 * 60 * MINUTE_MS));
  const items: BookingInput[] = people.patients.slice(0, opts.contention).map((patientId) => ({ patientId, doctorId: people.doctors[0], ...slot, reason }));
  out.line(`${n(items.length)} bookings of one slot (${slot.start}, one doctor), ${n(items.length)} distinct patients, all sent at once (one client each, an Idempotency-Key each, no retries).`);
  const cpu = cpuMeter(run);
  const commandsBefore = run.stack.commands?.counter.snapshot();
  const { bookings, wallMs } = await runBookings(run, items, NO_RETRY, items.length, signal);
  const cpuUsed = cpu();
  const commands = commandsBefore ? commandsLine(run, commandsBefore, bookings.length) : null;
  const storedDocs = await stores.appointments.find({ reason }, { projection: { _id: 1 } }).toArray();
  const stored = storedDocs.length;
  const answers = bookings.map((b) => (b.id ? 'OK' : (b.failure ?? '?')));
  const conflicts = answers.filter((a) => a === 'CONFLICT').length;
  const oks = answers.filter((a) => a === 'OK').length;
  out.line(`All answered in ${fmt(wallMs)}; ${latencyLine(bookings)}.`);
  out.line(`First answers: ${tally(answers)} (CONFLICT ${n(conflicts)}, other codes ${n(answers.length - conflicts - oks)}); stored: **${n(stored)}**.`);
  out.line(cpuLine(cpuUsed, bookings.length, wallMs));
  if (commands) out.line(`Database commands while they ran (BENCH_DB_COUNT=1, counted by a proxy in front of the database; includes background polling): ${commands}.`);

  // The clients told an open outcome ask again with their key (20 at a time), as README tells them to:
  // afterwards exactly one should hold the stored booking and every other one CONFLICT.
  const open = bookings.filter((b) => !b.id && b.failure !== null && isOpenOutcome(b.failure));
  let final = answers;
  if (open.length) {
    const t = performance.now();
    const again = await pool(open, opts.clients, (b) => book(run.client, b.input, RETRY_OPEN_OUTCOMES, { key: b.key, signal }), { signal });
    const byKey = new Map(again.map((b) => [b.key, b]));
    final = bookings.map((b) => {
      const r = byKey.get(b.key) ?? b;
      return r.id ? 'OK' : (r.failure ?? '?');
    });
    const winner = [...bookings, ...again].find((b) => b.id)?.id ?? null;
    out.line(
      `Then the ${n(open.length)} clients whose answer left the outcome open asked again with their key (${opts.clients} at a time, retried like the faults step; ${fmt(performance.now() - t)} for all${again.length < open.length ? `, ${n(open.length - again.length)} not asked: step budget` : ''}): ` +
        `final answers ${tally(final)}; the acknowledged id ${winner === null ? 'none' : storedDocs.some((d) => String(d._id) === winner) ? 'is the stored booking' : '**is not the stored booking**'}.`,
    );
  }
  out.line();
  out.check('contention: stored bookings of the one slot', '1', n(stored), stored === 1);
  out.check('contention: first answers CONFLICT', `${n(items.length - 1)} (all but the winner)`, n(conflicts), conflicts === items.length - 1);
  out.check('contention: p99 of the first answers', '≤ 5 s (issue: "every other client answered CONFLICT … with p99 ≤ 5 s")', fmt(percentile(bookings.map((b) => b.ms), 99)), percentile(bookings.map((b) => b.ms), 99) <= 5_000);
  const finalOk = final.filter((a) => a === 'OK').length;
  out.check('contention: after retries with the keys, one acknowledged and the rest CONFLICT', `1 OK, ${n(items.length - 1)} CONFLICT`, tally(final), finalOk === 1 && final.filter((a) => a === 'CONFLICT').length === items.length - 1);
}

// ---------------------------------------------------------------------------------------------
// 6. Day view.

const DAY_VIEW = dayViewQuery(DAY_VIEW_DOCTORS);
/** The query of test/dayview.e2e.test.ts: one doctor's day. */
const DOCTOR_DAY = `query Day($d: ObjectID!, $from: DateTime!, $to: DateTime!) {
  doctor(id: $d) { name appointments(from: $from, to: $to) { start reason patient { name allergies prescriptions(status: ACTIVE) { dosage medication { name strength } } } } }
}`;
type DayViewData = { doctors: { edges: { node: { name: string; appointments: { start: string }[] } }[] } };

export async function dayView(run: Run, out: StepOut, signal: AbortSignal): Promise<void> {
  const { opts, people, stores, client } = run;
  const day = dayFromToday(3);
  const reason = 'load no-faults';
  if (!run.noFaults) {
    // The day of the no-faults step, booked here when that step did not run.
    await people.ensureDoctors(DAY_VIEW_DOCTORS, signal);
    await people.ensurePatients(opts.bookings, signal);
    const items = dayBookings(people, day, opts.bookings, reason);
    out.line(`The no-faults step did not run: booked its ${n(items.length)} appointments first (not timed).`);
    await runBookings(run, items, RETRY_OPEN_OUTCOMES, opts.clients, signal);
  }
  const booked = await stores.appointments.find({ reason }, { projection: { patientId: 1 } }).toArray();
  // Every patient of the day gets an active prescription, as in test/dayview.e2e.test.ts.
  const meds = await client.call<{ medications: { edges: { node: { id: string } }[] } }>(`{ medications(first: 1) { edges { node { id } } } }`);
  const medicationId = meds.medications.edges[0]?.node.id;
  const patients = [...new Set(booked.map((a) => a.patientId))];
  if (medicationId) {
    await pool(patients, opts.clients, (patientId, i) =>
      setupMutation(client, `mutation R($i: PrescribeInput!) { prescribe(input: $i) { id } }`, {
        i: { patientId, doctorId: people.doctors[i % DAY_VIEW_DOCTORS], medicationId, dosage: '1 tablet', frequency: 'once daily', startDate: '2026-01-01', refillsAllowed: 1 },
      }, signal), { signal });
  }
  // The view is timed on a settled stack: the setup's aftermath (the day's confirmations, the
  // prescriptions' outbox sweep) runs first, as it would long before a clinic opens its day view.
  const ids = booked.map((a) => String(a._id));
  const settleStarted = Date.now();
  const settled = await until(
    async () => (await sentCount(run, 'APPOINTMENT_CONFIRMED', ids)) >= ids.length && (await stores.prescriptions.countDocuments({ outboxPending: true })) === 0,
    settleStarted + 120_000,
    signal,
    500,
  );
  const from = day.toISOString();
  const to = new Date(day.getTime() + 86_400_000).toISOString();
  out.line(`Before timing: waited ${fmt(Date.now() - settleStarted)} for the day's confirmations and the prescriptions' outbox${settled ? '' : ' — **not settled** within 120 s, timed anyway'}.`);
  out.line(
    `The day of ${DAY_VIEW_DOCTORS} doctors: ${n(booked.length)} appointments, ${n(patients.length)} patients each with ${medicationId ? 'an active prescription' : 'no prescription (no medication found)'}; ` +
      `per doctor the shape of test/dayview.e2e.test.ts (appointments of the day → patient name, allergies, active prescriptions → medication name and strength).`,
  );
  // The view as one query for all 50 doctors (doctors(specialty:, first: 50) { … }), the way a
  // client should load it; beside it, for comparison, as 50 queries of one doctor each.
  const one = await client.answer<DayViewData>(DAY_VIEW, { s: DAY_VIEW_SPECIALTY, from, to }, {}, signal);
  const oneQuery = !one.errors?.length && one.data;
  if (!oneQuery) {
    out.line(
      `In one query (\`doctors(specialty:, first: ${DAY_VIEW_DOCTORS})\` with that selection) the router refuses it: ${one.errors?.[0]?.extensions?.code ?? `HTTP ${one.status}`} "${one.errors?.[0]?.message ?? ''}"; ` +
        `only the ${DAY_VIEW_DOCTORS} single-doctor queries are timed.`,
    );
  }
  const doctors = people.doctors.slice(0, DAY_VIEW_DOCTORS);
  const inOneQuery = async (): Promise<string> => {
    const res = await client.answer<DayViewData>(DAY_VIEW, { s: DAY_VIEW_SPECIALTY, from, to }, {}, signal);
    if (res.errors?.length || !res.data) throw new Error(`day view failed: ${JSON.stringify(res.errors).slice(0, 300)}`);
    const docs = res.data.doctors.edges;
    return `${docs.length} doctors, ${docs.reduce((a, e) => a + e.node.appointments.length, 0)} appointments`;
  };
  const perDoctor = async (): Promise<string> => {
    const days = await pool(doctors, 6, async (d) => {
      const res = await client.answer<{ doctor: { appointments: { start: string }[] } }>(DOCTOR_DAY, { d, from, to }, {}, signal);
      if (res.errors?.length || !res.data) throw new Error(`day view failed: ${JSON.stringify(res.errors).slice(0, 300)}`);
      return res.data.doctor.appointments.length;
    }, { signal });
    return `${days.length} doctors, ${days.reduce((a, x) => a + x, 0)} appointments`;
  };
  const timed = async (view: () => Promise<string>, runs: number) => {
    const times: number[] = [];
    let shape = '';
    for (let i = 0; i < runs + 2 && !signal.aborted; i++) {
      const t = performance.now();
      shape = await view();
      if (i >= 2) times.push(performance.now() - t);
    }
    return { times, shape, p50: median(times) };
  };
  const stats = (r: { times: number[]; p50: number }) =>
    `**p50 ${fmt(r.p50)}**, p95 ${fmt(percentile(r.times, 95))}, min ${fmt(Math.min(...r.times))}, max ${fmt(Math.max(...r.times))}`;
  const commandsBefore = run.stack.commands?.counter.snapshot();
  const whole = oneQuery ? await timed(inOneQuery, opts.dayViewRuns) : null;
  if (whole) {
    out.line(`In one query (\`doctors(specialty:, first: ${DAY_VIEW_DOCTORS})\` with that selection), one client: 2 warm-up views, then ${whole.times.length} timed one after the other. Answer: ${whole.shape}. ${stats(whole)}.`);
    if (commandsBefore) out.line(`Database commands (BENCH_DB_COUNT=1, counted by a proxy in front of the database; includes background polling): ${commandsLine(run, commandsBefore, whole.times.length + 2, 'view')}.`);
  }
  // For comparison (fewer runs when the one query was timed): one query per doctor, at most 6 in
  // flight (a browser's connections per host); one view = all 50 answered.
  const split = await timed(perDoctor, whole ? Math.min(5, opts.dayViewRuns) : opts.dayViewRuns);
  out.line(`As ${DAY_VIEW_DOCTORS} queries of test/dayview.e2e.test.ts (\`doctor(id) { … }\`), 6 in flight: 2 warm-up views, then ${split.times.length} timed. Answer: ${split.shape}. ${stats(split)}.`);
  out.line();
  const shape = whole?.shape ?? split.shape;
  out.check('day view: complete answer', `${DAY_VIEW_DOCTORS} doctors, ${n(booked.length)} appointments`, shape, shape === `${DAY_VIEW_DOCTORS} doctors, ${booked.length} appointments`);
  out.check('day view: one query accepted by the router', 'accepted', whole ? 'accepted' : 'refused', whole !== null);
  if (whole) out.check('day view p50 in one query, one client', '≤ 200 ms', fmt(whole.p50), whole.p50 <= 200);
}

// ---------------------------------------------------------------------------------------------
// 7. Reminders.

const CREATE_DOCTOR = `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`;

export async function reminders(run: Run, out: StepOut, signal: AbortSignal): Promise<void> {
  const { opts, people, stores, stack, client } = run;
  const total = opts.reminderBookings;
  await people.ensurePatients(total, signal);
  // The instant the reminders fall due: after the doctors are created, the bookings made (at most
  // reminderBookingSeconds) and a margin for the confirmations, which plan the reminders.
  const t0 = Date.now();
  const doctorSeconds = Math.ceil(total / 50);
  let due = new Date(Math.ceil((t0 + (doctorSeconds + opts.reminderBookingSeconds + opts.reminderMarginSeconds) * 1000) / MINUTE_MS) * MINUTE_MS);
  let start = new Date(due.getTime() + 86_400_000);
  const local = () => DateTime.fromJSDate(start, { zone: 'UTC' });
  if (local().hour === 23 && local().minute > 60 - SLOT_MINUTES) {
    start = local().plus({ days: 1 }).startOf('day').toJSDate(); // a schedule window cannot cross midnight
    due = new Date(start.getTime() - 86_400_000);
  }
  const expectedDue = reminderTime(start, PATIENT_ZONE);
  const window = { weekday: local().toFormat('cccc').toUpperCase(), start: local().toFormat('HH:mm'), end: local().plus({ minutes: SLOT_MINUTES }).toFormat('HH:mm'), slotMinutes: SLOT_MINUTES };
  out.line(
    `${n(total)} bookings, each with a doctor of its own (created for this step, one 5-minute slot a day at ${window.start} UTC) and a patient of its own (zone ${PATIENT_ZONE}), all starting at ${start.toISOString()}: ` +
      `their reminders (one day before in the patient's zone) all fall due at ${expectedDue.toISOString()}. A second notifications worker runs beside the stack's; ` +
      `when half of the reminders were SENT (or half the wait had passed), one of the two workers was killed (SIGKILL, not restarted). ` +
      `Bookings: ${opts.clients} concurrent clients, an Idempotency-Key each, retried like the faults step, for at most ${opts.reminderBookingSeconds} s (then no new ones).`,
  );
  const doctorIds = await pool(Array.from({ length: total }, (_v, i) => i), 20, async (i) => {
    const data = await setupMutation<{ createDoctor: { id: string } }>(client, CREATE_DOCTOR, {
      i: { firstName: `Remind${String(i).padStart(4, '0')}`, lastName: 'Doctor', specialty: 'Load Bench Reminders', timeZone: 'UTC', weeklySchedule: [window] },
    }, signal);
    return data.createDoctor.id;
  }, { signal });
  const second = await stack.startExtraNotifications('notifications-2');
  const reason = 'load reminders';
  const slot = slotAt(start);
  const items: BookingInput[] = doctorIds.map((doctorId, i) => ({ patientId: people.patients[i], doctorId, ...slot, reason }));
  const stopStarting = deadlineSignal(opts.reminderBookingSeconds * 1000, signal);
  const { bookings, wallMs } = await runBookings(run, items, RETRY_OPEN_OUTCOMES, opts.clients, signal, undefined, stopStarting.signal);
  stopStarting.clear();
  const ids = bookings.filter((b) => b.id).map((b) => b.id!);
  out.line(`Booked ${n(ids.length)} of ${n(total)} in ${fmt(wallMs)} (${rate(ids.length, wallMs).toFixed(1)}/s; answers ${tally(bookings.map((b) => (b.id ? 'OK' : (b.failure ?? '?'))))}).`);

  // Until the reminders fall due: confirmations go out and plan the reminders (a pending reminder
  // is a document of `<prefix>_notifications.reminders`, deleted once handled; so planned = pending + already sent).
  const planned = async () =>
    db(async () => (await stores.reminders.countDocuments({ _id: { $in: ids } })) + (await stores.notifications.countDocuments({ kind: 'APPOINTMENT_REMINDER', appointmentId: { $in: ids } })));
  await until(async () => (await sentCount(run, 'APPOINTMENT_CONFIRMED', ids)) >= ids.length && (await planned()) >= ids.length, due.getTime(), signal, 2_000);
  const confirmedAtDue = await sentCount(run, 'APPOINTMENT_CONFIRMED', ids);
  const plannedAtDue = await planned();
  out.line(`When the reminders fell due (${due.toISOString()}): confirmations SENT ${n(confirmedAtDue)} of ${n(ids.length)}, reminders planned ${n(plannedAtDue)} of ${n(ids.length)}.`);
  if (confirmedAtDue < ids.length) out.line(await jobsDiagnostics(run, ids).catch((err: Error) => `(jobs not readable: ${err.message})`));
  await sleep(Math.max(0, due.getTime() - Date.now()), signal);

  // After they fell due: kill one worker halfway, wait for every reminder (bounded).
  const waitEnd = due.getTime() + opts.reminderWaitSeconds * 1000;
  let killed: { at: number; sent: number } | null = null;
  let progressAt = 0;
  const allSent = await until(async () => {
    const sent = await sentCount(run, 'APPOINTMENT_REMINDER', ids);
    if (!killed && (sent >= ids.length / 2 || Date.now() >= due.getTime() + (opts.reminderWaitSeconds * 1000) / 2)) {
      killed = { at: Date.now(), sent };
      process.stdout.write(`    kill -9 ${second.name} (pid ${second.pid}) with ${sent} reminders SENT\n`);
      await second.kill9();
    }
    if (Date.now() - progressAt > 15_000) {
      progressAt = Date.now();
      process.stdout.write(`    reminders SENT: ${sent}/${ids.length}\n`);
    }
    return sent >= ids.length && (await sentCount(run, 'APPOINTMENT_CONFIRMED', ids)) >= ids.length;
  }, waitEnd, signal, 1_000);
  const k = killed as { at: number; sent: number } | null;
  if (!allSent) out.line(await jobsDiagnostics(run, ids).catch((err: Error) => `(jobs not readable: ${err.message})`));
  out.line(k ? `Killed ${second.name} ${fmt(k.at - due.getTime())} after the due time, with ${n(k.sent)} reminders SENT.` : 'No worker was killed (the step ended first).');
  if (second.running) await second.stop();

  const channel = channelDeliveries(notificationProcesses(run));
  const confirmationDocs = await notificationsOf(run, 'APPOINTMENT_CONFIRMED', ids);
  const confirmations = summarise(confirmationDocs, channel);
  const reminderDocs = await notificationsOf(run, 'APPOINTMENT_REMINDER', ids);
  const reminderSummary = summarise(reminderDocs, channel);
  const withoutReminder = ids.filter((id) => !reminderDocs.get(id)?.length);
  const confirmedLate = withoutReminder.filter((id) => (confirmationDocs.get(id) ?? []).some((c) => c.sentAt && c.sentAt.getTime() >= expectedDue.getTime()));
  const delays = [...reminderDocs.values()].flat().filter((d) => d.status === 'SENT' && d.sentAt).map((d) => d.sentAt!.getTime() - expectedDue.getTime());
  out.line(summaryLine('Confirmations', ids.length, confirmations));
  out.line(summaryLine('Reminders (APPOINTMENT_REMINDER)', ids.length, reminderSummary));
  if (withoutReminder.length) {
    out.line(
      `Of the ${n(withoutReminder.length)} bookings without any reminder, ${n(confirmedLate.length)} had their confirmation SENT only after the reminder had fallen due ` +
        `(the confirmation plans the reminder, and a reminder whose time has passed is not planned: subgraphs/notifications/jobs.ts scheduleReminder).`,
    );
  }
  out.line(
    delays.length
      ? `Reminder delay after falling due (\`sentAt\` − due): p50 ${fmt(median(delays))}, **p99 ${fmt(percentile(delays, 99))}, max ${fmt(Math.max(...delays))}** (${n(delays.length)} SENT of ${n(ids.length)}${allSent ? '' : `; waited ${opts.reminderWaitSeconds} s after the due time`}).`
      : `No reminder was SENT within ${opts.reminderWaitSeconds} s after the due time.`,
  );
  out.line();
  out.check('reminders: bookings made within the booking budget', n(total), n(ids.length), ids.length === total);
  out.check('reminders: every confirmation SENT exactly once', n(ids.length), n(confirmations.exactlyOnce), confirmations.exactlyOnce === ids.length);
  out.check('reminders: every reminder SENT exactly once (one of two workers killed)', n(ids.length), n(reminderSummary.exactlyOnce), reminderSummary.exactlyOnce === ids.length);
}

// ---------------------------------------------------------------------------------------------
// 8. Scale.

const PATIENT_LIST = `query List($p: ObjectID!) { patient(id: $p) { name appointments(first: 20) { edges { node { id start status reason doctor { name } } } } } }`;
const MEASURED_DAY = 20;

async function timeQuery(client: GraphClient, query: string, vars: Record<string, unknown>, runs: number, signal: AbortSignal): Promise<{ p50: number; p95: number; size: string }> {
  const times: number[] = [];
  let size = '';
  for (let i = 0; i < runs + 2 && !signal.aborted; i++) {
    const t = performance.now();
    const res = await client.answer<Record<string, unknown>>(query, vars, {}, signal);
    const ms = performance.now() - t;
    if (res.errors?.length || !res.data) throw new Error(`query failed: ${JSON.stringify(res.errors).slice(0, 300)}`);
    size = `${JSON.stringify(res.data).length} bytes`;
    if (i >= 2) times.push(ms);
  }
  return { p50: median(times), p95: percentile(times, 95), size };
}

export async function scale(run: Run, out: StepOut, signal: AbortSignal): Promise<void> {
  const { opts, stack } = run;
  // A fresh set of databases (DB_PREFIX) on the same database server: the other steps' thousands
  // of appointments must not count towards "100".
  const prefix = `${stack.prefix}_scale`;
  await stack.restartServicesWithPrefix(prefix);
  const client = new GraphClient(stack.routerUrl, run.cfg.SUPERADMIN_EMAIL, run.cfg.SUPERADMIN_PASSWORD);
  const people = new People(client);
  await people.ensureDoctors(1, signal);
  await people.ensurePatients(MEASURED_DAY, signal);
  const stores = new Stores(run.conn, { DB_PREFIX: prefix });
  const doctorId = people.doctors[0];
  const day = dayFromToday(10);
  const measured: AppointmentDoc[] = [];
  const doc = (patientId: string, start: Date): AppointmentDoc => {
    const now = new Date();
    return {
      _id: new Types.ObjectId(),
      patientId,
      doctorId,
      start,
      end: new Date(start.getTime() + SLOT_MINUTES * MINUTE_MS),
      localDate: start.toISOString().slice(0, 10),
      timeZone: 'UTC',
      reason: 'load scale',
      status: 'SCHEDULED',
      conditions: [],
      specialty: DAY_VIEW_SPECIALTY,
      slotKey: slotKeyOf(doctorId, start),
      createdAt: now,
      updatedAt: now,
      outbox: [],
      outboxSeq: 0,
      outboxHandled: 0,
      outboxPending: false,
    };
  };
  // The doctor's day: 20 appointments, one per patient; the first patient's list: 20 appointments (that day and 19 more).
  for (let i = 0; i < MEASURED_DAY; i++) measured.push(doc(people.patients[i], new Date(day.getTime() + (9 * 60 + i * 15) * MINUTE_MS)));
  for (let d = 1; d < MEASURED_DAY; d++) measured.push(doc(people.patients[0], new Date(day.getTime() + d * 86_400_000 + 9 * 60 * MINUTE_MS)));
  await stores.appointments.insertMany(measured);
  const world = new World();
  const fill = async (upTo: number) => {
    const have = await stores.appointments.countDocuments({});
    for (const batch of world.batches(Math.max(0, upTo - have), 5_000)) {
      if (signal.aborted) break;
      await stores.appointments.insertMany(batch, { ordered: false });
    }
    return stores.appointments.countDocuments({});
  };
  const dayVars = { d: doctorId, from: day.toISOString(), to: new Date(day.getTime() + 86_400_000).toISOString() };
  const listVars = { p: people.patients[0] };
  out.line(
    `A fresh DB_PREFIX (\`${prefix}\`, the subgraphs and router started again on it). Measured: one doctor's day (${MEASURED_DAY} appointments; the query of test/dayview.e2e.test.ts) and one patient's appointment list ` +
      `(\`patient(id) { appointments(first: 20) { … doctor { name } } }\`, ${MEASURED_DAY} appointments), both through the router, 2 warm-up runs, then ${opts.scaleRuns} timed runs. ` +
      `The other appointments are inserted directly into \`${prefix}_appointments.appointments\` with the model's shape (bench/fixtures.ts: 50 other doctors, 20,000 other patients, two years).`,
  );
  const small = await fill(100);
  const dayS = await timeQuery(client, DOCTOR_DAY, dayVars, opts.scaleRuns, signal);
  const listS = await timeQuery(client, PATIENT_LIST, listVars, opts.scaleRuns, signal);
  const t = performance.now();
  const large = await fill(opts.scaleAppointments);
  const loadMs = performance.now() - t;
  const dayL = await timeQuery(client, DOCTOR_DAY, dayVars, opts.scaleRuns, signal);
  const listL = await timeQuery(client, PATIENT_LIST, listVars, opts.scaleRuns, signal);
  out.line(`Inserted up to ${n(large)} appointments in ${fmt(loadMs)}.`);
  out.line();
  out.line(`| query | p50 at ${n(small)} | p50 at ${n(large)} | ratio | p95 at ${n(small)} / ${n(large)} | answer |`);
  out.line('|---|---:|---:|---:|---:|---|');
  out.line(`| doctor's day view | ${fmt(dayS.p50)} | ${fmt(dayL.p50)} | ${(dayL.p50 / dayS.p50).toFixed(1)}× | ${fmt(dayS.p95)} / ${fmt(dayL.p95)} | ${dayL.size} |`);
  out.line(`| patient's appointment list | ${fmt(listS.p50)} | ${fmt(listL.p50)} | ${(listL.p50 / listS.p50).toFixed(1)}× | ${fmt(listS.p95)} / ${fmt(listL.p95)} | ${listL.size} |`);
  out.line();
  out.check(`scale: day view p50 at ${n(large)} vs ${n(small)} appointments`, '≤ 2×', `${(dayL.p50 / dayS.p50).toFixed(1)}×`, dayL.p50 / dayS.p50 <= 2);
  out.check(`scale: patient's list p50 at ${n(large)} vs ${n(small)} appointments`, '≤ 2×', `${(listL.p50 / listS.p50).toFixed(1)}×`, listL.p50 / listS.p50 <= 2);
}
