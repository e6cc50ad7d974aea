import type { Agenda } from 'agenda';
import type { Job } from 'agenda/dist/job';
import { processJobs } from 'agenda/dist/utils/process-jobs';

interface Definition {
  lockLifetime: number;
}
type FindAndLock = Agenda['_findAndLockNextJob'];

/** How long one probe's answer serves the lock attempts that follow it. */
const PROBE_REUSE_MS = 250;

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
 * When the probe fails (database away) Agenda's own queries run, as without it.
 *
 * It also fills the queue again as soon as a job finishes. Agenda itself locks new work only at
 * the start of a round, at most `lockLimit` jobs of a name: a backlog then drained at five jobs a
 * second per worker however fast each ran (500 confirmations took minutes after 500 bookings).
 */
export function pollOncePerRound(agenda: Agenda): void {
  const lockNext: FindAndLock = agenda._findAndLockNextJob;
  let round: { at: number; due: Promise<Set<string> | null> } | null = null;

  const probe = async (): Promise<Set<string> | null> => {
    const definitions = agenda._definitions as Record<string, Definition>;
    const names = Object.keys(definitions);
    if (names.length === 0) return new Set();
    const shortestLock = Math.min(...names.map((n) => definitions[n].lockLifetime));
    const now = Date.now();
    try {
      const due = await agenda._collection.distinct('name', {
        name: { $in: names },
        disabled: { $ne: true },
        $or: [{ lockedAt: null, nextRunAt: { $lte: new Date(now + agenda._processEvery) } }, { lockedAt: { $lte: new Date(now - shortestLock) } }],
      });
      return new Set(due.map(String));
    } catch {
      return null;
    }
  };

  agenda._findAndLockNextJob = async function (this: Agenda, jobName: string, definition: Definition) {
    // Agenda asks for every name at once at the start of a round (and again for a name after each
    // job it locked): those calls share one probe. A later call, e.g. a refill, probes afresh.
    if (!round || Date.now() - round.at > Math.min(agenda._processEvery / 2, PROBE_REUSE_MS)) round = { at: Date.now(), due: probe() };
    const due = await round.due;
    if (due && !due.has(jobName)) return undefined;
    return lockNext.call(this, jobName, definition);
  };

  // One refill at a time, however many jobs finish together; none after stop().
  let refilling = false;
  agenda.on('complete', () => {
    if (refilling) return;
    refilling = true;
    setImmediate(() => {
      refilling = false;
      round = null; // what was due a moment ago says nothing about what is due now
      if (!agenda._processInterval) return;
      // Without a job, processJobs fills every name (Agenda's typing says the job is required).
      processJobs.call(agenda, undefined as unknown as Job).catch(() => undefined);
    });
  });
}
