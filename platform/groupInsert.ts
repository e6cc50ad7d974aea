import type { Model, Types } from 'mongoose';
import { Coalescer } from './coalesce';
import { isDatabaseUnavailable, isDuplicateKey } from './errors';

/**
 * Inserts of one collection made by concurrent requests, stored together (group commit with
 * `Coalescer`): one insertMany for many documents instead of an insert each, which on the
 * embedded FerretDB costs about as much as one. Each document still wins or loses on its own
 * unique index: `insert` answers false only for a document whose unique key another one holds.
 * Documents carry their own `_id`, so after a batch some of which was refused the stored ones are
 * known by id and only the others are inserted again one by one.
 */
export class GroupInsert<T extends { _id: Types.ObjectId }> {
  private readonly coalescer: Coalescer<T, boolean>;

  constructor(
    private readonly model: Model<T>,
    maxBatch = 100,
  ) {
    this.coalescer = new Coalescer((docs) => this.insertAll(docs), maxBatch);
  }

  /** True when stored, false when refused as a duplicate of a unique key; other errors throw. */
  insert(doc: T): Promise<boolean> {
    return this.coalescer.load(doc);
  }

  private async insertAll(docs: T[]): Promise<boolean[]> {
    if (docs.length === 1) return [await this.insertOne(docs[0])];
    try {
      // Unordered: every document that can be stored is, and any refusal throws afterwards.
      await this.model.insertMany(docs, { ordered: false, lean: true });
      return docs.map(() => true);
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
    }
    const stored = new Set((await this.model.find({ _id: { $in: docs.map((d) => d._id) } }, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>()).map((d) => String(d._id)));
    return Promise.all(docs.map((d) => (stored.has(String(d._id)) ? true : this.insertOne(d))));
  }

  private async insertOne(doc: T): Promise<boolean> {
    try {
      await this.model.create(doc);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }
}
