import type { Agenda } from 'agenda';

interface Definition {
  lockLifetime: number;
}
type FindAndLock = Agenda['_findAndLockNextJob'];

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
    // Agenda asks for every name at once at the start of a round: they share one probe.
    if (!round || Date.now() - round.at > agenda._processEvery / 2) round = { at: Date.now(), due: probe() };
    const due = await round.due;
    if (due && !due.has(jobName)) return undefined;
    return lockNext.call(this, jobName, definition);
  };
}
