import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { isDatabaseUnavailable, isDuplicateKey } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import { TOPICS, type Publisher } from '../../platform/pubsub';
import { missingAddress, type DeliveryChannel } from './channels';
import type { Channel, Kind, NotificationDoc } from './model';

/**
 * Thrown when trying again later can help (a peer is down, another worker holds the message).
 * `retryAt`, when known, is the earliest moment trying again can succeed (the other worker's lease ends).
 */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAt?: Date,
  ) {
    super(message);
  }
}

const LEASE_LOST = 'the claim on this notification ran out; another worker takes over';

export interface NotificationSpec {
  dedupeKey: string;
  kind: Kind;
  channel: Channel;
  patientId?: string;
  userId?: string;
  to?: string | null;
  message: string;
  appointmentId?: string;
  prescriptionId?: string;
  medicationId?: string;
}

export interface SenderOptions {
  /** How long a worker holds a message it is delivering; at most the jobs' lock lifetime. */
  claimMs: number;
  maxAttempts: number;
  /** Fault injection for the crash test: pause after claiming, before delivering. */
  pauseBeforeSendMs?: number;
}

/** A record this attempt holds: until `until` (this process's clock) no other attempt can take it. */
interface Held {
  doc: NotificationDoc;
  holder: string;
  until: number;
}

/**
 * Stores and delivers one notification exactly once per dedupe key: the unique key makes a second
 * record impossible; the attempt delivering it holds a lease written in the record itself
 * (`claimHolder`, `claimedUntil`), so a worker that dies mid-run leaves it for the next one once
 * the lease is over. Only the holder writes the record (attempts, SENT/FAILED), and SENT/FAILED
 * are final.
 *
 * Every change of a stored record is a `findAndModify` conditional on the holder or on an expired
 * lease, which is atomic on MongoDB and on the embedded FerretDB build
 * (scripts/ferretdb/overlay/healthsync_findandmodify.go); a plain conditional update is not atomic
 * on FerretDB and is not used. A new record is stored already held by the attempt that stores it,
 * so the common case costs one insert and one findAndModify.
 */
export class Sender {
  constructor(
    private readonly Notification: Model<NotificationDoc>,
    private readonly channel: DeliveryChannel,
    private readonly live: Publisher,
    private readonly log: Logger,
    private readonly opts: SenderOptions,
  ) {}

  send(spec: NotificationSpec): Promise<NotificationDoc> {
    return this.withRecord(spec, true, (held) => this.deliver(held));
  }

  /**
   * Safety net for notifications stored but never finished, e.g. their job gave up or was lost
   * (or was stopped by a release before this sweep existed): delivers, under the lease as always,
   * up to `limit` QUEUED ones that nobody holds and that nobody touched for a whole lease. Returns
   * how many it finished.
   */
  async redeliverStale(limit = 100): Promise<number> {
    const now = Date.now();
    const stale = await this.Notification.find({ status: 'QUEUED', claimedUntil: { $lt: new Date(now) }, updatedAt: { $lt: new Date(now - this.opts.claimMs) } })
      .limit(limit)
      .lean<NotificationDoc[]>();
    let finished = 0;
    for (const record of stale) {
      try {
        const done = await this.heldOrFinal(record, randomUUID(), true, (held) => this.deliver(held));
        if (done.status !== 'QUEUED') finished++;
      } catch (err) {
        if (!(err instanceof RetryLater)) throw err;
        // Busy (a worker is on it now) or the channel failed: the next sweep or its job tries again.
      }
    }
    if (stale.length) this.log.warn({ found: stale.length, finished }, 'stale queued notifications re-driven');
    return finished;
  }

  /** Records a notification that cannot be sent at all (unknown patient, appointment gone). */
  fail(spec: NotificationSpec, reason: string): Promise<NotificationDoc> {
    return this.withRecord(spec, false, (held) => this.finish(held, { status: 'FAILED', failureReason: reason }));
  }

  /**
   * Stores the record held by this attempt, or takes the stored one (see `heldOrFinal`), and runs
   * `work` on it. `attempt` counts a delivery attempt.
   */
  private async withRecord(spec: NotificationSpec, attempt: boolean, work: (held: Held) => Promise<NotificationDoc>): Promise<NotificationDoc> {
    const holder = randomUUID();
    const until = Date.now() + this.opts.claimMs;
    let stored: NotificationDoc | null = null;
    try {
      stored = (await this.Notification.create({ ...spec, status: 'QUEUED', attempts: attempt ? 1 : 0, deliveries: 0, claimedUntil: new Date(until), claimHolder: holder })).toObject<NotificationDoc>();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    if (stored) return work({ doc: stored, holder, until });
    const existing = await this.Notification.findOne({ dedupeKey: spec.dedupeKey }).lean<NotificationDoc>();
    if (!existing) throw new RetryLater('the notification was stored and removed meanwhile');
    return this.heldOrFinal(existing, holder, attempt, work);
  }

  /**
   * Takes a stored record whose lease is over (none, or a dead or failed holder's) and runs `work`
   * on it as the holder; a record that is SENT or FAILED is returned as it is; RetryLater while
   * another attempt holds it.
   */
  private async heldOrFinal(record: NotificationDoc, holder: string, attempt: boolean, work: (held: Held) => Promise<NotificationDoc>): Promise<NotificationDoc> {
    if (record.status !== 'QUEUED') return record;
    const now = Date.now();
    const until = now + this.opts.claimMs;
    const doc = await this.Notification.findOneAndUpdate(
      { _id: record._id, status: 'QUEUED', claimedUntil: { $lte: new Date(now) } },
      { $set: { claimedUntil: new Date(until), claimHolder: holder }, ...(attempt ? { $inc: { attempts: 1 } } : {}) },
      { returnDocument: 'after' },
    ).lean<NotificationDoc>();
    if (doc) return work({ doc, holder, until });
    const current = await this.Notification.findById(record._id).lean<NotificationDoc>();
    if (current && current.status !== 'QUEUED') return current;
    // The holder wrote when its lease ends: no use trying before (a dead holder's lease just runs out).
    const busyUntil = current?.claimedUntil?.getTime() ?? 0;
    throw new RetryLater('another worker is delivering this notification', busyUntil > Date.now() ? new Date(busyUntil + 250) : undefined);
  }

  /** Whether the lease is still this attempt's: nobody may take a record before its lease ends. */
  private stillHeld(held: Held): boolean {
    return Date.now() < held.until;
  }

  private async deliver(held: Held): Promise<NotificationDoc> {
    if (this.opts.pauseBeforeSendMs) await new Promise((r) => setTimeout(r, this.opts.pauseBeforeSendMs));
    const claimed = held.doc;
    const problem = missingAddress(claimed.channel, claimed.to);
    if (problem) return this.finish(held, { status: 'FAILED', failureReason: problem });
    if (!this.stillHeld(held)) throw new RetryLater(LEASE_LOST);
    try {
      await this.channel.send({ notificationId: String(claimed._id), channel: claimed.channel, to: claimed.to ?? null, body: claimed.message });
    } catch (err) {
      const reason = `Delivery failed: ${(err as Error).message}`;
      if (claimed.attempts >= this.opts.maxAttempts) return this.finish(held, { status: 'FAILED', failureReason: reason });
      // Let the next attempt have it at once.
      await this.Notification.findOneAndUpdate({ _id: claimed._id, claimHolder: held.holder }, { $set: { claimedUntil: new Date(0), claimHolder: null, failureReason: reason } });
      throw new RetryLater(reason);
    }
    return this.recordSent(held, new Date());
  }

  /**
   * Marks a message the channel took as SENT. The database may be unreachable at that moment (a
   * restart): giving up then would leave the record QUEUED under this attempt's lease, and the
   * retry after the lease would hand the message to the channel a second time. So it keeps trying
   * while the lease is this attempt's (no other attempt can take the record before it ends); only
   * a process that dies in between leaves a message to be sent again (README: at least once).
   */
  private async recordSent(held: Held, sentAt: Date): Promise<NotificationDoc> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.finish(held, { status: 'SENT', sentAt, failureReason: null }, true);
      } catch (err) {
        const wait = Math.min(100 * 2 ** attempt, 2_000);
        if (!isDatabaseUnavailable(err) || Date.now() + wait >= held.until) throw err;
        this.log.warn({ notificationId: String(held.doc._id), err: (err as Error).message, attempt }, 'sent, not yet recorded: retrying');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * The final transition, made only by the holder (a worker that took over after the lease ran out
   * decides otherwise). A delivery that went out is recorded even when the lease ran out during
   * it, as long as nobody took the record over.
   */
  private async finish(held: Held, set: Partial<NotificationDoc>, delivered = false): Promise<NotificationDoc> {
    const doc = held.doc;
    if (!delivered && !this.stillHeld(held)) throw new RetryLater(LEASE_LOST);
    const done = await this.Notification.findOneAndUpdate(
      { _id: doc._id, status: 'QUEUED', claimHolder: held.holder },
      { $set: { ...set, claimedUntil: new Date(0), claimHolder: null }, ...(delivered ? { $inc: { deliveries: 1 } } : {}) },
      { returnDocument: 'after' },
    ).lean<NotificationDoc>();
    const final = done ?? (await this.Notification.findById(doc._id).lean<NotificationDoc>())!;
    if (done) {
      if (set.status === 'FAILED') this.log.warn({ notificationId: String(doc._id), kind: doc.kind, reason: set.failureReason }, 'notification failed');
      await this.live
        .publish(TOPICS.notificationAdded, { notificationId: String(doc._id), patientId: doc.patientId ?? null, userId: doc.userId ?? null })
        .catch((err: Error) => this.log.warn({ err: err.message }, 'live event not published'));
    }
    return final;
  }
}
