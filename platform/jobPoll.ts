import type { Agenda } from 'agenda';
import type { Job } from 'agenda/dist/job';
import { processJobs } from 'agenda/dist/utils/process-jobs';
import { KeyedQueue } from './keyedQueue';

interface Definition {
  lockLifetime: number;
  lockLimit: number;
  /** Jobs of the name this process holds locked (Agenda counts it). */
  locked: number;
}
type FindAndLock = Agenda['_findAndLockNextJob'];

/** How long one probe's answer serves the lock attempts that follow it. */
const PROBE_REUSE_MS = 250;

/** How the last poll query of a worker went (readiness, platform/subgraph.ts). */
export interface PollHealth {
  ok: boolean;
  /** When it ended (ms since the epoch). */
  at: number;
  error?: string;
}
const health = new WeakMap<Agenda, PollHealth>();

/** The last poll of an Agenda set up with `pollOncePerRound`; undefined before its first poll. */
export function pollHealth(agenda: Agenda): PollHealth | undefined {
  return health.get(agenda);
}

/**
 * One poll query per process and round instead of one per job name.
 *
 * Agenda 5 fills its queue on every round (`processEvery`) with one `findOneAndUpdate` per defined
 * job name, due work or not: a service with six names polls six times a round, and a lock query is
 * a write. This puts one read in front of them: at the start of a round one `distinct('name')`
 * over the jobs that could be locked now (due and unlocked, or locked longer ago than the
 * shortest lock lifetime of the names: a superset of what Agenda's own per-name query takes), and
 * then Agenda's lock query runs only for the names it found. Idle, a process costs one indexed
 * read per round. Work saved in this process still starts at once (Agenda locks it "on the
 * fly", not through this path); work saved elsewhere starts on the next round, as before.
 * When the probe fails (database away) Agenda's own queries run, as without it. A name whose last
 * lock attempt found a job skips the probe (and is left out of it) until an attempt finds none:
 * under load the probe would only repeat what the lock query finds.
 *
 * It also fills the queue again as soon as a job finishes. Agenda itself locks new work only at
 * the start of a round, at most `lockLimit` jobs of a name: a backlog then drained at five jobs a
 * second per worker however fast each ran (500 confirmations took minutes after 500 bookings).
 */
export function pollOncePerRound(agenda: Agenda): void {
  const ownLockNext: FindAndLock = agenda._findAndLockNextJob;
  const polled = (error?: Error) => health.set(agenda, error ? { ok: false, at: Date.now(), error: error.message } : { ok: true, at: Date.now() });
  // Agenda's own lock query, its outcome recorded (a throw is Agenda's to handle, as before).
  const lockNext = async function (this: Agenda, jobName: string, definition: Definition) {
    try {
      const job = await ownLockNext.call(this, jobName, definition);
      polled();
      return job;
    } catch (err) {
      polled(err as Error);
      throw err;
    }
  };
  let round: { at: number; due: Promise<Set<string> | null> } | null = null;

  const probe = async (): Promise<Set<string> | null> => {
    const definitions = agenda._definitions as Record<string, Definition>;
    const names = Object.keys(definitions).filter((n) => !hot.has(n));
    if (names.length === 0) return new Set();
    const shortestLock = Math.min(...names.map((n) => definitions[n].lockLifetime));
    const now = Date.now();
    try {
      const due = await agenda._collection.distinct('name', {
        name: { $in: names },
        disabled: { $ne: true },
        $or: [{ lockedAt: null, nextRunAt: { $lte: new Date(now + agenda._processEvery) } }, { lockedAt: { $lte: new Date(now - shortestLock) } }],
      });
      polled();
      return new Set(due.map(String));
    } catch (err) {
      polled(err as Error);
      return null;
    }
  };

  // Names whose last lock attempt found a job: while work keeps coming, they go straight to
  // Agenda's lock query (which stops at the first due job); the probe watches only the others.
  const hot = new Set<string>();

  // Lock attempts of one name run one after the other, each checking the name's lock limit
  // first. Agenda checks it before its lock query and again after: two fills of one process that
  // raced (a round and a refill) could both pass the first check, and the extra lock, taken in the
  // database, was given back only afterwards. The next attempt starts only after Agenda has
  // counted the job this one returned (its count runs in a microtask; the next attempt waits for
  // a macrotask).
  const perName = new KeyedQueue({ settleBetween: true });

  agenda._findAndLockNextJob = function (this: Agenda, jobName: string, definition: Definition) {
    return perName.run(jobName, () => (definition.lockLimit && definition.locked >= definition.lockLimit ? Promise.resolve(undefined) : attempt.call(this, jobName, definition)));
  };

  async function attempt(this: Agenda, jobName: string, definition: Definition) {
    if (hot.has(jobName)) {
      const job = await lockNext.call(this, jobName, definition);
      if (!job) hot.delete(jobName);
      return job && withoutRunStartSave(job);
    }
    // Agenda asks for every name at once at the start of a round (and again for a name after each
    // job it locked): those calls share one probe. A later call, e.g. a refill, probes afresh.
    if (!round || Date.now() - round.at > Math.min(agenda._processEvery / 2, PROBE_REUSE_MS)) round = { at: Date.now(), due: probe() };
    const due = await round.due;
    if (due && !due.has(jobName)) return undefined;
    const job = await lockNext.call(this, jobName, definition);
    if (job) hot.add(jobName);
    return job && withoutRunStartSave(job);
  }

  // One refill at a time, however many jobs finish together; none after stop(). While a name is
  // draining (hot, locked without a probe) a refill reuses a probe younger than PROBE_REUSE_MS for
  // the others: under load a fresh probe per finished job cost a read per job. Otherwise what was
  // due a moment ago says nothing about what is due now.
  let refilling = false;
  agenda.on('complete', () => {
    if (refilling) return;
    refilling = true;
    setImmediate(() => {
      refilling = false;
      if (hot.size === 0) round = null;
      if (!agenda._processInterval) return;
      // Without a job, processJobs fills every name (Agenda's typing says the job is required).
      processJobs.call(agenda, undefined as unknown as Job).catch(() => undefined);
    });
  });
}

/**
 * Agenda saves a job as its run starts (lastRunAt, the next run of a recurring job) and again as
 * it ends, with the same fields and the lock released. The first save is a findAndModify in the
 * jobs database that nothing needs: the job is locked in the database already (a crashed
 * worker's lock runs out as before), and the final save writes the same fields. Locked jobs skip
 * it; every later save of them runs.
 */
function withoutRunStartSave(job: Job): Job {
  const save = job.save.bind(job);
  let skip = true;
  job.save = () => {
    if (!skip) return save();
    skip = false;
    return Promise.resolve(job);
  };
  return job;
}
