import { Agenda, type Job } from 'agenda';
import { Job as AgendaJob } from 'agenda/dist/job';
import { dbName, type Config } from './config';
import { pollOncePerRound } from './jobPoll';
import type { Logger } from './logger';

export type { Job };

/** Agenda keeps every service's jobs in one database, `<prefix>_jobs`; each job runs once cluster-wide. */
export const JOBS_DB = 'jobs';

/** mongodb://host[,host]/[db][?opts] with the database part replaced. */
export function uriWithDb(uri: string, db: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?([^?]*)(\?.*)?$/.exec(uri);
  if (!m) throw new Error('MONGODB_URI is not a mongodb:// URI');
  return `${m[1]}/${db}${m[3] ?? ''}`;
}

/**
 * Errors of a database that is away for a moment (restart, failover): the driver reconnects by
 * itself. Matched by name, not with errors.ts' isDatabaseUnavailable: Agenda brings its own
 * mongodb driver (4.x), whose error classes are not mongoose's, and a closed connection
 * (NotConnected, TopologyClosed) means shutdown here, which must not wait.
 */
const CONNECTIVITY = /^Mongo(Network|NetworkTimeout|PoolCleared|ServerSelection)Error$/;
export const JOB_SAVE_WAIT_MS = 60_000;

/** Agendas started in this process and not stopped yet, with their service (metrics and readiness read them). */
const running = new Map<Agenda, string>();

/** The workers of `service` running in this process (more than one only when tests start several). */
export function runningAgendas(service: string): Agenda[] {
  return [...running].filter(([, s]) => s === service).map(([agenda]) => agenda);
}

/**
 * Agenda 5 writes a job's bookkeeping (`save`) at the start of a run inside an async Promise
 * executor: when the database is away at that moment the rejection is unhandled (the process
 * exits; seen as `MongoNetworkError: connect ECONNREFUSED` in bench:load when the database was
 * killed) and the run never settles, so it holds one of its name's concurrency slots for good.
 * Every save of every job therefore waits for a database that is away for a moment (up to
 * JOB_SAVE_WAIT_MS), as the driver's own reconnect does; other errors, and a closed connection at
 * shutdown, fail at once. Installed once per process.
 */
function saveWaitsForTheDatabase(): void {
  const proto = AgendaJob.prototype as AgendaJob & { healthsyncSaveWaits?: true };
  if (proto.healthsyncSaveWaits) return;
  const save = proto.save;
  proto.save = async function (this: AgendaJob) {
    const deadline = Date.now() + JOB_SAVE_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await save.call(this);
      } catch (err) {
        if (!CONNECTIVITY.test((err as Error).name) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 2_000)));
      }
    }
  };
  proto.healthsyncSaveWaits = true;
}

/** Agenda 5's `findAndLockNextJobIndex` with its default sort (nextRunAt, priority). */
export const AGENDA_LOCK_INDEX = { name: 1, nextRunAt: 1, priority: -1, lockedAt: 1, disabled: 1 } as const;

/**
 * An Agenda for one service: its worker name, the shared jobs database, lock lifetime and poll
 * interval from config. Failed jobs are logged; `stop()` unlocks running jobs so another
 * instance takes them over.
 */
export async function startAgenda(
  cfg: Config,
  service: string,
  log: Logger,
  define: (agenda: Agenda) => void | Promise<void>,
  opts: { purgeFinished?: boolean } = {},
): Promise<Agenda> {
  saveWaitsForTheDatabase();
  const agenda = new Agenda({
    name: `${service}-${process.pid}`,
    db: { address: uriWithDb(cfg.MONGODB_URI!, dbName(cfg, JOBS_DB)), collection: 'agendaJobs' },
    // human-interval reads "100 milliseconds" as 100 000 ms; seconds with decimals parse right.
    processEvery: `${cfg.JOBS_PROCESS_EVERY_MS / 1000} seconds`,
    defaultLockLifetime: cfg.JOB_LOCK_LIFETIME_MS,
    // Lock no more jobs than run at once. Agenda's default (no lock limit) locks every due job of a
    // name on each poll but runs five: with a backlog the other locks expire while they wait, the
    // jobs are dropped unrun and locked again on the next poll, and the backlog never drains (it
    // stalled notifications after a crash; test/notifications.crash.e2e.test.ts).
    defaultConcurrency: 5,
    defaultLockLimit: 5,
    // Due jobs are taken in the order they were queued (natural order), not sorted by nextRunAt:
    // every server answers that without reading all queued jobs of the name first (FerretDB sorts
    // in memory, so each lock read the whole backlog). Nothing here uses job priorities.
    sort: {},
  });
  // The lock index keeps Agenda's default keys, which `sort` would reorder: an installation made
  // before that change has the index under the same name, and createIndex would fail ("already
  // exists with different options") and the service with it.
  agenda._indices = AGENDA_LOCK_INDEX;
  pollOncePerRound(agenda);
  agenda.on('fail', (err: Error, job: Job) => log.error({ err: err.message, job: job.attrs.name, jobId: String(job.attrs._id) }, 'job failed'));
  await new Promise<void>((resolve, reject) => {
    agenda.once('ready', () => resolve());
    agenda.once('error', reject);
  });
  agenda.removeAllListeners('error');
  // Without a listener an 'error' event would throw and take the process down.
  agenda.on('error', (err: Error) => log.error({ err: err.message }, 'job scheduler error'));
  await define(agenda);
  // One service (notifications, which runs most of the one-off jobs) purges the shared
  // collection for all: every job name a service defines costs a lock query per poll.
  if (opts.purgeFinished) {
    agenda.define(PURGE_FINISHED_JOB, { lockLifetime: 10 * 60_000 }, async () => {
      const deleted = await purgeFinishedJobs(agenda, cfg.JOB_RETENTION_HOURS * 3_600_000);
      if (deleted) log.info({ deleted }, 'finished jobs purged');
    });
    await agenda.every('1 hour', PURGE_FINISHED_JOB);
  }
  await agenda.start();
  running.set(agenda, service);
  return agenda;
}

export const PURGE_FINISHED_JOB = 'jobs.purge-finished';

/**
 * Deletes one-off jobs (one per outbox event, reminder, …) that finished more than `retentionMs`
 * ago, and returns how many. Without this the jobs collection grows by every booking forever, and
 * on FerretDB, which filters by scanning, every poll of every worker gets slower with it.
 * Recurring jobs keep a next run and are never matched; a job still to run or running neither.
 * Deleting is safe for the outbox hand-off: consumers deduplicate by event id themselves (e.g. a
 * notification's `dedupeKey`), so an event handed on again after its job was purged changes nothing.
 */
export async function purgeFinishedJobs(agenda: Agenda, retentionMs: number): Promise<number> {
  const cutoff = new Date(Date.now() - retentionMs);
  const deleted = await agenda.cancel({ type: 'normal', nextRunAt: null, lockedAt: null, lastFinishedAt: { $lt: cutoff } });
  return deleted ?? 0;
}

/**
 * Deletes a one-off job that is done and spares Agenda its final save of it, which would find
 * nothing to update (a findAndModify in the jobs database that every worker polls). If the delete
 * fails, Agenda's save runs as usual and the hourly purge deletes the job.
 */
export async function removeDone(job: Job): Promise<void> {
  await job.remove();
  job.save = () => Promise.resolve(job);
}

/** Seconds to wait before retry n (1, 2, …): 5 s, 10 s, 20 s … capped at 10 minutes. */
export function backoffSeconds(attempt: number): number {
  return Math.min(5 * 2 ** (attempt - 1), 600);
}

/** Why work that kept failing was given up, as a person reads it. */
export function gaveUpAfter(attempts: number, message: string): string {
  return `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} (${message})`;
}

/** Runs `work` on every item, at most `limit` at a time. */
export async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * Stops taking new jobs, lets running ones finish (at most `graceMs`), unlocks what is left for
 * another instance, and closes the connection.
 */
export async function stopAgenda(agenda: Agenda, graceMs = 5_000): Promise<void> {
  running.delete(agenda);
  await Promise.race([agenda.drain(), new Promise((r) => setTimeout(r, graceMs).unref())]);
  await agenda.stop();
  // stop() only clears the poll timer: a lock round already under way still queries the jobs
  // collection, and one that meets a closed connection fails with MongoNotConnectedError
  // (seen in test teardowns). Let it end first (bounded: Agenda leaves the flag set after a failure).
  const deadline = Date.now() + 2_000;
  while ((agenda._isLockingOnTheFly || agenda._isJobQueueFilling.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await agenda.close({ force: true });
}
