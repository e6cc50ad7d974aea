import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKey } from '../../platform/errors';
import { WHOLE_ANSWER_BATCH } from '../../platform/loaders';

/**
 * Pending appointment reminders, one document per appointment (`_id` = the appointment id), in the
 * notifications database. Only pending ones are kept: a reminder sent, obsolete or given up is
 * deleted, so the collection holds the future reminders and nothing else. One recurring job sends
 * the due ones in batches (jobs.ts, `remindersDue`); they used to be one Agenda job each, and every
 * worker's poll for that job name, and every booking's unique-job upsert, read all of them.
 *
 * Every write is by `_id` (index-served on FerretDB). Due reminders are found through `dueHour`,
 * the UTC hour of `dueAt` as a plain string: an `$in` on it is pushed down to an index by the
 * FerretDB overlay (dates are not), so a poll reads only the reminders of the last hours.
 */
export interface ReminderDoc {
  /** The appointment id. */
  _id: string;
  /** The appointment's start the reminder was planned for (part of its dedupe key). */
  start: Date;
  /** The patient's zone the reminder time was computed in. */
  zone: string;
  dueAt: Date;
  /** `dueAt`'s UTC hour, "YYYY-MM-DDTHH": the index-served way to find due reminders. */
  dueHour: string;
  /** Failed attempts so far. */
  attempts: number;
  lastError?: string | null;
  /** After a failure: not before then. */
  retryAt?: Date | null;
}

/** Due reminders are looked for in the hour buckets of this many past hours; older ones by the sweep's full read. */
export const DUE_LOOKBACK_HOURS = 48;
const HOUR = 3_600_000;

export const dueHourOf = (d: Date): string => d.toISOString().slice(0, 13);

/** The hour buckets from DUE_LOOKBACK_HOURS before `now` up to `hoursAhead` after it. */
const bucketsAround = (now: Date, hoursAhead: number): string[] =>
  Array.from({ length: DUE_LOOKBACK_HOURS + 1 + hoursAhead }, (_v, i) => dueHourOf(new Date(now.getTime() + (hoursAhead - i) * HOUR)));

const ReminderSchema = new Schema<ReminderDoc>(
  {
    _id: { type: String, required: true },
    start: { type: Date, required: true },
    zone: { type: String, required: true },
    dueAt: { type: Date, required: true },
    dueHour: { type: String, required: true },
    attempts: { type: Number, required: true, default: 0 },
    lastError: { type: String },
    retryAt: { type: Date },
  },
  { collection: 'reminders', versionKey: false },
);
ReminderSchema.index({ dueHour: 1 });

export class ReminderStore {
  constructor(private readonly Reminder: Model<ReminderDoc>) {}

  /**
   * Plans the reminder of an appointment. `insertOnly` (the sweep, the migration) leaves an
   * existing one as it is; otherwise it replaces it (a moved appointment moves its reminder).
   */
  async plan(appointmentId: string, start: Date, zone: string, dueAt: Date, insertOnly: boolean): Promise<void> {
    const doc = { start, zone, dueAt, dueHour: dueHourOf(dueAt), attempts: 0 };
    try {
      if (insertOnly) await this.Reminder.updateOne({ _id: appointmentId }, { $setOnInsert: doc }, { upsert: true });
      else await this.Reminder.replaceOne({ _id: appointmentId }, doc, { upsert: true });
    } catch (err) {
      // Two upserts of one new _id: one inserts, the other meets the unique _id.
      if (!isDuplicateKey(err)) throw err;
      if (!insertOnly) await this.Reminder.replaceOne({ _id: appointmentId }, doc);
    }
  }

  async drop(appointmentId: string): Promise<void> {
    await this.Reminder.deleteOne({ _id: appointmentId });
  }

  /** Reminders due at `now` whose dueAt lies in the last DUE_LOOKBACK_HOURS (index-served), oldest first. */
  async due(now = new Date()): Promise<ReminderDoc[]> {
    const found = await this.Reminder.find({ dueHour: { $in: bucketsAround(now, 0) } }, null, { batchSize: WHOLE_ANSWER_BATCH }).lean<ReminderDoc[]>();
    return found.filter((r) => r.dueAt.getTime() <= now.getTime()).sort((x, y) => x.dueAt.getTime() - y.dueAt.getTime());
  }

  /**
   * When the next reminder becomes ready to send, if one does before the end of the next hour: one
   * falling due (the buckets of the lookback and of the next hour, index-served), or a failed one
   * whose retry time comes. Null when none does. The due job runs again then instead of at its
   * next poll, so a reminder starts within a jobs round of falling due, and a retry when it may.
   */
  async nextReadyAt(now = new Date()): Promise<Date | null> {
    const pending = await this.Reminder.find({ dueHour: { $in: bucketsAround(now, 1) } }, { dueAt: 1, retryAt: 1 }, { batchSize: WHOLE_ANSWER_BATCH }).lean<Pick<ReminderDoc, 'dueAt' | 'retryAt'>[]>();
    let next: number | null = null;
    for (const r of pending) {
      const ready = Math.max(r.dueAt.getTime(), r.retryAt?.getTime() ?? 0);
      if (ready > now.getTime() && (next === null || ready < next)) next = ready;
    }
    return next === null ? null : new Date(next);
  }

  /** Due reminders older than the buckets `due` looks at (e.g. after days of downtime): a full read, for the 10-minute sweep. */
  async overdue(now = new Date()): Promise<ReminderDoc[]> {
    return this.Reminder.find({ dueAt: { $lt: new Date(now.getTime() - DUE_LOOKBACK_HOURS * HOUR) } })
      .limit(1000)
      .lean<ReminderDoc[]>();
  }

  /**
   * The reminder planned for `r.start` is handled (sent, obsolete or given up): deleted, unless it
   * was moved to another start meanwhile. On FerretDB this conditional delete is "find, then delete
   * by _id", so a reschedule landing between the two can be deleted with it; the dedupe key holds
   * the start, so nothing is sent twice, and the 10-minute sweep plans the lost reminder again
   * (every scheduled appointment of the next two days whose reminder time is ahead).
   */
  async done(r: Pick<ReminderDoc, '_id' | 'start'>): Promise<void> {
    await this.Reminder.deleteOne({ _id: r._id, start: r.start });
  }

  /** A failed attempt: counted, with the error and when to try again. */
  async failed(r: ReminderDoc, message: string, retryAt: Date): Promise<void> {
    await this.Reminder.updateOne({ _id: r._id, start: r.start }, { $set: { attempts: r.attempts + 1, lastError: message, retryAt } });
  }
}

export async function createReminderStore(conn: Connection): Promise<ReminderStore> {
  const Reminder = (conn.models.Reminder as Model<ReminderDoc> | undefined) ?? conn.model<ReminderDoc>('Reminder', ReminderSchema);
  await Reminder.createIndexes();
  return new ReminderStore(Reminder);
}
