import { Schema, Types, type Model } from 'mongoose';

/**
 * Transactional outbox without transactions: an event is appended to the `outbox` array of the
 * very document whose change it announces, in the same single-document write, so a change is
 * never saved without its event. The array is append-only (the document's event history);
 * `outboxSeq` counts events, `outboxHandled` how many a relay has handed on, and
 * `outboxPending` marks documents with events still to hand on (an index-friendly flag, since
 * FerretDB cannot compare two fields). Consumers are idempotent by event id, so a relay that dies
 * between handing on and marking only causes a duplicate that is ignored.
 *
 * Why not pull handed-on events out of the array: FerretDB 1.24 silently ignores `$pull` with a
 * condition and misreports `$pullAll` of sub-documents.
 */
export interface OutboxEvent {
  _id: Types.ObjectId;
  type: string;
  at: Date;
  data: Record<string, unknown>;
}

export interface OutboxFields {
  outbox: OutboxEvent[];
  outboxSeq: number;
  outboxHandled: number;
  outboxPending: boolean;
}

export const OutboxEventSchema = new Schema<OutboxEvent>(
  {
    type: { type: String, required: true },
    at: { type: Date, required: true },
    data: { type: Schema.Types.Mixed, default: {} },
  },
  { _id: true },
);

/** Schema paths to add to a model that has an outbox. */
export const outboxPaths = {
  outbox: { type: [OutboxEventSchema], default: [] },
  outboxSeq: { type: Number, default: 0 },
  outboxHandled: { type: Number, default: 0 },
  outboxPending: { type: Boolean, default: false },
};

export function outboxEvent(type: string, data: Record<string, unknown> = {}): OutboxEvent {
  return { _id: new Types.ObjectId(), type, at: new Date(), data };
}

/** Initial outbox of a document created together with its first events. */
export function newOutbox(...events: OutboxEvent[]): OutboxFields {
  return { outbox: events, outboxSeq: events.length, outboxHandled: 0, outboxPending: events.length > 0 };
}

/** Update operators that append an event; merge with the change's own `$set`. */
export function appendEvent(event: OutboxEvent, $set: Record<string, unknown> = {}): Record<string, unknown> {
  return { $push: { outbox: event }, $inc: { outboxSeq: 1 }, $set: { ...$set, outboxPending: true } };
}

/** Events not handed on yet. */
export function pendingEvents(doc: OutboxFields): OutboxEvent[] {
  return doc.outbox.slice(doc.outboxHandled ?? 0);
}

/** Records that the first `seq` events were handed on; clears the flag unless more arrived. */
export async function markHandled<T extends OutboxFields>(model: Model<T>, docId: Types.ObjectId, seq: number): Promise<void> {
  // One write in the usual case (no event was added meanwhile); a second only when one was.
  const { matchedCount } = await model.updateOne({ _id: docId, outboxSeq: seq }, { $max: { outboxHandled: seq }, $set: { outboxPending: false } });
  if (matchedCount === 0) await model.updateOne({ _id: docId }, { $max: { outboxHandled: seq } });
}
