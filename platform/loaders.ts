import DataLoader from 'dataloader';
import type { Model } from 'mongoose';
import { Types } from 'mongoose';

/**
 * A DataLoader that fetches documents by id in one `$in` query per tick and returns them in the
 * order asked, `null` for unknown or malformed ids. Used by every `__resolveReference`.
 */
export function byIdLoader<T>(model: Model<T>): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const valid = ids.filter((id) => Types.ObjectId.isValid(id) && String(new Types.ObjectId(id)) === id);
    const docs = valid.length ? await model.find({ _id: { $in: valid } }).lean<T[]>() : [];
    const byId = new Map<string, T>();
    for (const d of docs) byId.set(String((d as { _id: unknown })._id), d);
    return ids.map((id) => byId.get(id) ?? null);
  });
}
