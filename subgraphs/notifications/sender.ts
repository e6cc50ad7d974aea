import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { Claims, claimsModel } from '../../platform/claim';
import { isDuplicateKey } from '../../platform/errors';
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

/**
 * Stores and delivers one notification exactly once per dedupe key: the unique key makes a second
 * record impossible; a worker holds an exclusive claim on the record (platform/claim.ts, a lease of
 * `claimMs`) while it delivers, so a worker that dies mid-run leaves it for the next one once the
 * lease is over. Only the claim holder writes the record (attempts, SENT/FAILED), and SENT/FAILED
 * are final. The claim, not a conditional update, decides: FerretDB does not apply conditional
 * updates atomically.
 */
export class Sender {
  private readonly claims: Claims;

  constructor(
    private readonly Notification: Model<NotificationDoc>,
    private readonly channel: DeliveryChannel,
    private readonly live: Publisher,
    private readonly log: Logger,
    private readonly opts: SenderOptions,
  ) {
    this.claims = new Claims(claimsModel(Notification.db, 'claims'));
  }

  async send(spec: NotificationSpec): Promise<NotificationDoc> {
    const record = await this.store(spec);
    if (record.status !== 'QUEUED') return record;
    return this.whileClaimed(record, true, (claimed, stillHeld) => this.deliver(claimed, stillHeld));
  }

  /**
   * Safety net for notifications stored but never finished, e.g. their job gave up or was lost
   * (or was stopped by a release before this sweep existed): delivers, under the claim as always,
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
        const done = await this.whileClaimed(record, true, (claimed, stillHeld) => this.deliver(claimed, stillHeld));
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
  async fail(spec: NotificationSpec, reason: string): Promise<NotificationDoc> {
    const record = await this.store(spec);
    if (record.status !== 'QUEUED') return record;
    return this.whileClaimed(record, false, (claimed, stillHeld) => this.finish(claimed, stillHeld, { status: 'FAILED', failureReason: reason }));
  }

  /**
   * Claims the record, counts a delivery attempt (`attempt`) and runs `work` on the record as read
   * inside the claim; RetryLater while another worker holds it. `stillHeld` tells whether the lease
   * is still ours.
   */
  private async whileClaimed(
    record: NotificationDoc,
    attempt: boolean,
    work: (claimed: NotificationDoc, stillHeld: () => Promise<boolean>) => Promise<NotificationDoc>,
  ): Promise<NotificationDoc> {
    const key = `notification:${String(record._id)}`;
    const holder = randomUUID();
    if (!(await this.claims.tryClaim(key, holder, this.opts.claimMs))) {
      const current = await this.Notification.findById(record._id).lean<NotificationDoc>();
      if (current && current.status !== 'QUEUED') return current;
      // The holder wrote when its lease ends: no use trying before (a dead holder's lease just runs out).
      const until = current?.claimedUntil?.getTime() ?? 0;
      throw new RetryLater('another worker is delivering this notification', until > Date.now() ? new Date(until + 250) : undefined);
    }
    try {
      // Only the holder writes the record, so this read-and-count cannot race another worker.
      const claimed = await this.Notification.findOneAndUpdate(
        { _id: record._id, status: 'QUEUED' },
        { $set: { claimedUntil: new Date(Date.now() + this.opts.claimMs) }, ...(attempt ? { $inc: { attempts: 1 } } : {}) },
        { returnDocument: 'after' },
      ).lean<NotificationDoc>();
      if (!claimed) return (await this.Notification.findById(record._id).lean<NotificationDoc>())!; // finished by the previous holder
      return await work(claimed, () => this.claims.holds(key, holder));
    } finally {
      await this.claims.release(key, holder).catch((err: Error) => this.log.warn({ err: err.message }, 'notification claim not released; its lease runs out'));
    }
  }

  private async deliver(claimed: NotificationDoc, stillHeld: () => Promise<boolean>): Promise<NotificationDoc> {
    if (this.opts.pauseBeforeSendMs) await new Promise((r) => setTimeout(r, this.opts.pauseBeforeSendMs));

    const problem = missingAddress(claimed.channel, claimed.to);
    if (problem) return this.finish(claimed, stillHeld, { status: 'FAILED', failureReason: problem });
    if (!(await stillHeld())) throw new RetryLater(LEASE_LOST);
    try {
      await this.channel.send({ notificationId: String(claimed._id), channel: claimed.channel, to: claimed.to ?? null, body: claimed.message });
    } catch (err) {
      const reason = `Delivery failed: ${(err as Error).message}`;
      if (claimed.attempts >= this.opts.maxAttempts) return this.finish(claimed, stillHeld, { status: 'FAILED', failureReason: reason });
      if (await stillHeld()) await this.Notification.updateOne({ _id: claimed._id }, { $set: { claimedUntil: new Date(0), failureReason: reason } });
      throw new RetryLater(reason);
    }
    return this.finish(claimed, stillHeld, { status: 'SENT', sentAt: new Date(), failureReason: null }, true);
  }

  private async store(spec: NotificationSpec): Promise<NotificationDoc> {
    try {
      const doc = await this.Notification.create({ ...spec, status: 'QUEUED', attempts: 0, deliveries: 0, claimedUntil: new Date(0) });
      return doc.toObject<NotificationDoc>();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const existing = await this.Notification.findOne({ dedupeKey: spec.dedupeKey }).lean<NotificationDoc>();
      if (!existing) throw err;
      return existing;
    }
  }

  /** The final transition; only while the claim is still ours (a worker that took over decides otherwise). */
  private async finish(doc: NotificationDoc, stillHeld: () => Promise<boolean>, set: Partial<NotificationDoc>, delivered = false): Promise<NotificationDoc> {
    if (!(await stillHeld())) throw new RetryLater(LEASE_LOST);
    const done = await this.Notification.findOneAndUpdate(
      { _id: doc._id, status: 'QUEUED' },
      { $set: { ...set, claimedUntil: new Date(0) }, ...(delivered ? { $inc: { deliveries: 1 } } : {}) },
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
