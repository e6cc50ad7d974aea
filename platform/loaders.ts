import DataLoader from 'dataloader';
import type { Model } from 'mongoose';
import { Types } from 'mongoose';

/**
 * The batch size of a read whose whole answer a request needs at once (a day's appointments, the
 * patients of a day view): without it the server's first batch holds 101 documents, and every
 * further batch is one more round trip (getMore) on the request's path (a 500-appointment day view
 * read each list in three). A reply still ends at the server's 16 MiB.
 */
export const WHOLE_ANSWER_BATCH = 10_000;

/**
 * A DataLoader that fetches documents by id in one `$in` query per tick and returns them in the
 * order asked, `null` for unknown or malformed ids. Used by every `__resolveReference`.
 */
export function byIdLoader<T>(model: Model<T>): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const valid = ids.filter((id) => Types.ObjectId.isValid(id) && String(new Types.ObjectId(id)) === id);
    const docs = valid.length ? await model.find({ _id: { $in: valid } }, null, { batchSize: WHOLE_ANSWER_BATCH }).lean<T[]>() : [];
    const byId = new Map<string, T>();
    for (const d of docs) byId.set(String((d as { _id: unknown })._id), d);
    return ids.map((id) => byId.get(id) ?? null);
  });
}
