import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { isDuplicateKey } from './errors';
import { indexesOnce } from './indexes';

/**
 * Exclusive claims with a lease, e.g. "this worker delivers notification N" or "this request
 * changes appointment A", made only from operations that are atomic on MongoDB 7 *and* FerretDB
 * 1.24 (SQLite). FerretDB runs a conditional update as read, change in Go, write the whole document
 * back, so `findOneAndUpdate({..., until: {$lt: now}})` lets two callers win. Atomic on both:
 *
 *  - an insert that hits a unique index fails with a duplicate key, so only one insert of a key wins;
 *  - a single-document delete by `_id`: of two deletes of one document, one reports deletedCount 1.
 *
 * The protocol (one document per held claim: `{_id: <new ObjectId>, key, holder, until}`):
 *
 *  - claim: insert `{key}`; a duplicate key means someone holds the key.
 *  - take over an expired claim: read it, delete exactly that document (`{_id}`); only a caller
 *    whose delete removed it (deletedCount 1) then inserts a fresh claim, and if that insert hits
 *    a duplicate (a newcomer was faster) it lost too.
 *  - release: delete `{key, holder}`.
 *
 * Why the key is a unique field and not the `_id`: FerretDB runs a conditional delete as "find the
 * matching documents, then DELETE ... WHERE _id IN (their ids)". If `_id` were the key, a late
 * take-over or release that matched the *old* claim could then remove a *new* claim with the same
 * `_id`, and two callers would hold the key. With a fresh `_id` per claim, a late delete
 * only hits the claim it read, which has already been removed.
 *
 * No TTL index (FerretDB has none) and no clean-up job: an expired claim stays until the next
 * caller takes it over. Claims that end normally are released, and permanent ones
 * (`claimOnce`) are meant to stay.
 *
 * Limits: a lease is only a lease. A holder that runs past `until` (paused, slow) can be taken
 * over while it still works, so keep work well inside the lease, and check `holds` before a final
 * write (this narrows the window but does not close it; there is no fencing token). `until` comes
 * from the clock of the process that claims, so clocks must roughly agree between processes.
 */
export interface ClaimDoc {
  _id: Types.ObjectId;
  key: string;
  /** Who holds it: a random id per attempt (never reused), or ONCE for a permanent claim. */
  holder: string;
  until: Date;
}

const ONCE = 'once';
/** The latest date JavaScript can represent: a permanent claim never expires. */
const FOREVER = new Date(8.64e15);

const ClaimSchema = new Schema<ClaimDoc>(
  {
    key: { type: String, required: true },
    holder: { type: String, required: true },
    until: { type: Date, required: true },
  },
  { versionKey: false },
);
ClaimSchema.index({ key: 1 }, { unique: true });

/** The claims model on `conn` (the service's own database), stored in `collectionName`. */
export function claimsModel(conn: Connection, collectionName = 'claims'): Model<ClaimDoc> {
  const name = `Claim:${collectionName}`;
  return (conn.models[name] as Model<ClaimDoc> | undefined) ?? conn.model<ClaimDoc>(name, ClaimSchema, collectionName);
}

export interface HoldOptions {
  leaseMs: number;
  /** How long to keep trying while someone else holds the key. */
  waitMs: number;
  /** The error to throw when the key stays busy for `waitMs`. */
  busy: () => Error;
  /**
   * Give the key up without waiting for it: `withClaim` answers as soon as `work` is done and the
   * release goes on meanwhile (whoever asks for the key in that moment retries briefly). For claims
   * whose release need not precede the caller's next step, e.g. a patient's while their booking is
   * handed on.
   */
  releaseInBackground?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Claims {

  /** The unique index on `key` must exist before the first claim. */
  private readonly ready: () => Promise<unknown>;

  constructor(private readonly model: Model<ClaimDoc>) {
    this.ready = indexesOnce(model);
  }

  /**
   * Claims `key` for `holder` for `leaseMs`. True for exactly one of any number of concurrent
   * callers while the key is free or its lease is over. Not re-entrant: a holder asking again
   * for its own live claim gets false.
   */
  async tryClaim(key: string, holder: string, leaseMs: number): Promise<boolean> {
    await this.ready();
    const lease = () => new Date(Date.now() + leaseMs);
    if (await this.insert(key, holder, lease())) return true;
    const current = await this.model.findOne({ key }).lean<ClaimDoc>();
    if (!current) return this.insert(key, holder, lease()); // released in the meantime
    if (current.until.getTime() > Date.now()) return false;
    const { deletedCount } = await this.model.deleteOne({ _id: current._id });
    if (deletedCount !== 1) return false; // another caller took it over first
    return this.insert(key, holder, lease());
  }

  /**
   * Gives up `holder`'s claim on `key`. Does nothing if someone else holds the key, including
   * someone who took over the claim after `holder`'s lease ran out (their claim has another `_id`).
   */
  async release(key: string, holder: string): Promise<void> {
    await this.model.deleteOne({ key, holder });
  }

  /** True while `holder` holds `key` and its lease is not over (a snapshot, see the limits above). */
  async holds(key: string, holder: string): Promise<boolean> {
    return (await this.model.exists({ key, holder, until: { $gt: new Date() } })) !== null;
  }

  /** Permanent claim for something allowed to happen once (e.g. using a token): true the first time only. */
  async claimOnce(key: string): Promise<boolean> {
    await this.ready();
    return this.insert(key, ONCE, FOREVER);
  }

  /**
   * Runs `work` while holding `key`, retrying briefly (with backoff) while someone else holds
   * it, and throws `opts.busy()` if it stays busy. Releases the key afterwards (see
   * `releaseInBackground`). If the release fails, the lease runs out by itself.
   */
  async withClaim<T>(key: string, opts: HoldOptions, work: () => Promise<T>): Promise<T> {
    const holder = randomUUID();
    const deadline = Date.now() + opts.waitMs;
    for (let attempt = 0; !(await this.tryClaim(key, holder, opts.leaseMs)); attempt++) {
      if (Date.now() >= deadline) throw opts.busy();
      await sleep(Math.min(20 * 2 ** attempt, 250) * (0.5 + Math.random()));
    }
    try {
      return await work();
    } finally {
      const released = this.release(key, holder).catch(() => undefined);
      if (!opts.releaseInBackground) await released;
    }
  }

  private async insert(key: string, holder: string, until: Date): Promise<boolean> {
    try {
      await this.model.create({ key, holder, until });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

}
