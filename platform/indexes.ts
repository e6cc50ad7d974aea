import type { Model } from 'mongoose';

/**
 * The model's declared indexes, created on the first call and then remembered (connections run
 * with autoIndex off, and a unique index must exist before the first write that relies on it).
 * A failed attempt is forgotten, so the next call tries again.
 */
export function indexesOnce<T>(model: Model<T>): () => Promise<unknown> {
  let created: Promise<unknown> | null = null;
  return () =>
    (created ??= model.createIndexes().catch((err: unknown) => {
      created = null;
      throw err;
    }));
}
