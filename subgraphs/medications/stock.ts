import type { Model, Types } from 'mongoose';
import { conflict, notFound } from '../../platform/errors';
import { appendEvent, outboxEvent, type OutboxEvent } from '../../platform/outbox';
import type { MedicationDoc } from './model';
import type { WriteQueue } from './serial';

type StockLevel = Pick<MedicationDoc, '_id' | 'stockOnHand' | 'reorderLevel'>;

type Update = Record<string, Record<string, unknown>>;

export interface PlannedStockChange {
  /** Conditions on the stored document under which this exact update is right. */
  filter: Record<string, unknown>;
  update: Update;
  /** LOW_STOCK, when this change takes the stock from at/above the reorder level to below it. */
  event?: OutboxEvent;
}

/** Merges update documents operator by operator ({$set: a}, {$set: b} → {$set: {...a, ...b}}). */
function mergeUpdates(...updates: Update[]): Update {
  const out: Update = {};
  for (const u of updates) for (const [op, fields] of Object.entries(u)) if (Object.keys(fields).length) out[op] = { ...out[op], ...fields };
  return out;
}

/**
 * Plans one conditional single-document update that changes the stock by `delta` (and, with
 * delta 0, may set a new reorder level), keeps `lowStock` right and announces a fall below the
 * reorder level in the same write. The filter names the range of stock levels for which the
 * planned update is right (never below zero afterwards, same side of the reorder level), so a
 * concurrent change within that range does not matter and any other one makes the update match
 * nothing (the caller then plans again). Returns null when the stock would go below zero.
 */
export function planStockChange(current: StockLevel, delta: number, reorderLevel = current.reorderLevel): PlannedStockChange | null {
  const before = current.stockOnHand;
  const after = before + delta;
  if (after < 0) return null;
  const lowStock = after < reorderLevel;
  const crossesBelow = delta < 0 && before >= current.reorderLevel && lowStock;
  let stock: number | Record<string, number>;
  if (crossesBelow) {
    // Once per crossing, and the event carries the exact level: match this very stock level.
    stock = before;
  } else {
    let min = Math.max(0, -delta);
    let max = Number.POSITIVE_INFINITY;
    if (lowStock) max = reorderLevel - delta;
    else min = Math.max(min, reorderLevel - delta);
    if (delta < 0 && lowStock) max = Math.min(max, current.reorderLevel); // was below already
    stock = { $gte: min, ...(Number.isFinite(max) ? { $lt: max } : {}) };
  }
  const update: Update = { $inc: { stockOnHand: delta }, $set: { lowStock, reorderLevel } };
  const filter = { _id: current._id, reorderLevel: current.reorderLevel, stockOnHand: stock };
  if (!crossesBelow) return { filter, update };
  const event = outboxEvent('LOW_STOCK', { medicationId: String(current._id), stockOnHand: after, reorderLevel });
  return { filter, update: mergeUpdates(update, appendEvent(event) as Update), event };
}

export interface StockChangeOptions {
  /** A new reorder level (only with delta 0). */
  reorderLevel?: number;
  /** Other fields changed in the same write, from the current document. */
  set?: (current: MedicationDoc) => Record<string, unknown>;
  unset?: string[];
  /** The dispensation taking this stock: recorded in the same write so a rollback can give it back. */
  takenBy?: Types.ObjectId;
}

const MAX_ATTEMPTS = 20;

export function notEnoughStock(m: MedicationDoc, wanted: number) {
  return conflict(`Not enough ${m.name} ${m.strength} in stock: ${m.stockOnHand} ${m.unit}(s) on hand, ${wanted} requested`);
}

/** Every change of a medication document goes through here: stock, reorder level, catalogue fields. */
export class Stock {
  constructor(
    private readonly Medication: Model<MedicationDoc>,
    private readonly queue: WriteQueue,
  ) {}

  async change(id: string, delta: number, opts: StockChangeOptions = {}): Promise<MedicationDoc> {
    // apply() answers null only for a give-back, never here.
    return (await this.apply(id, delta, opts))!;
  }

  /** Gives back the stock a dispensation took; false when it took none (or it was given back already). */
  async giveBack(id: string, quantity: number, dispensationId: Types.ObjectId): Promise<boolean> {
    return (await this.apply(id, quantity, {}, dispensationId)) !== null;
  }

  /** Drops a finished dispensation's marker. */
  async release(id: string, dispensationId: Types.ObjectId): Promise<void> {
    await this.queue.run(`medication:${id}`, () => this.Medication.updateOne({ _id: id }, { $pull: { pendingDispensations: dispensationId } }));
  }

  /** Null only when `pull` is given and the medication does not carry that marker. */
  private apply(id: string, delta: number, opts: StockChangeOptions, pull?: Types.ObjectId): Promise<MedicationDoc | null> {
    const push = opts.takenBy;
    return this.queue.run(`medication:${id}`, async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const current = await this.Medication.findById(id).lean<MedicationDoc>();
        if (!current) throw notFound('Medication', id);
        if (pull && !current.pendingDispensations.some((m) => m.equals(pull))) return null;
        const plan = planStockChange(current, delta, opts.reorderLevel);
        if (!plan) throw notEnoughStock(current, -delta);
        const update = mergeUpdates(
          plan.update,
          { $set: opts.set?.(current) ?? {} },
          { $unset: Object.fromEntries((opts.unset ?? []).map((f) => [f, 1])) },
          push ? { $push: { pendingDispensations: push } } : {},
          pull ? { $pull: { pendingDispensations: pull } } : {},
        );
        const filter = pull ? { ...plan.filter, pendingDispensations: pull } : plan.filter;
        const doc = await this.Medication.findOneAndUpdate(filter, update, { returnDocument: 'after', runValidators: true }).lean<MedicationDoc>();
        if (doc) return doc;
      }
      throw conflict(`The stock of medication ${id} is changing too quickly; please try again`);
    });
  }
}
