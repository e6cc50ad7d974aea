import { Types } from 'mongoose';
import { badInput, conflict, isDuplicateKey, notFound } from '../../platform/errors';
import { keyInProgress, type IdempotencyKeys } from '../../platform/idempotency';
import type { Identity } from '../../platform/identity';
import type { Logger } from '../../platform/logger';
import type { DispensationDoc, MedicationDoc, MedicationModels, PrescriptionDoc } from './model';
import { assertFillable } from './prescriptions';
import type { WriteQueue } from './serial';
import { notEnoughStock, type Stock } from './stock';

export interface DispenseResult {
  dispensation: DispensationDoc;
  prescription: PrescriptionDoc;
  medication: MedicationDoc;
}

/** A PENDING dispensation this old belongs to a process that stopped half-way. */
export const STALE_AFTER_MS = 60_000;
/** How long a dispense with an idempotency key waits for an earlier attempt with the key to finish. */
const KEY_WAIT_MS = 5_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Dispensing without multi-document transactions: a small saga.
 *
 *   1. write the dispensation, PENDING;
 *   2. claim one fill on the prescription (atomic, conditional: ACTIVE with fills left), recording
 *      the dispensation's id in `pendingFills` in the same write;
 *   3. take the quantity from stock (atomic, conditional: enough on hand), recording the id in
 *      `pendingDispensations` in the same write;
 *   4. mark it COMPLETED (only from PENDING): from here on it is acknowledged.
 *
 * On any failure the steps taken are given back, found by those markers, so giving back twice
 * or for a step that never happened changes nothing. `recover()` does the same for dispensations
 * a stopped process left PENDING. A dispensation a recovery took over cannot complete: step 4
 * fails and the saga gives back what it took, so nothing acknowledged is lost and nothing
 * half-written stays.
 */
export class Dispensing {
  constructor(
    private readonly models: MedicationModels,
    private readonly stock: Stock,
    private readonly queue: WriteQueue,
    private readonly log: Logger,
    private readonly keys: IdempotencyKeys,
  ) {}

  /**
   * Dispenses once. With an idempotency key (platform/idempotency.ts) the dispensation's id is
   * reserved per key, so attempts with the key run the saga under one id (its insert in step 1
   * happens once) and a retry gets the completed dispensation back. While an earlier attempt is
   * PENDING the retry waits for it (then answers a retryable SUBGRAPH_UNAVAILABLE); one that was
   * rolled back failed, so the retry dispenses under a newly reserved id.
   */
  async dispense(prescriptionId: string, quantity: number, identity: Identity, idempotencyKey: string | null = null): Promise<DispenseResult> {
    if (!Number.isInteger(quantity) || quantity < 1) throw badInput('quantity must be a whole number above 0', 'quantity');
    if (!idempotencyKey) return this.run(prescriptionId, quantity, identity, new Types.ObjectId());
    const deadline = Date.now() + KEY_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      const reservation = await this.keys.reserve(idempotencyKey, { mutation: 'dispense', prescriptionId, quantity });
      const earlier = await this.models.Dispensation.findById(reservation.resultId).lean<DispensationDoc>();
      if (!earlier) {
        try {
          return await this.run(prescriptionId, quantity, identity, reservation.resultId);
        } catch (err) {
          // Another attempt with the key wrote the dispensation first: look at it again.
          if (!(err instanceof DuplicateDispensation)) throw err;
        }
      } else if (earlier.status === 'COMPLETED') {
        return this.resultOf(earlier);
      } else if (earlier.status === 'PENDING' && earlier.createdAt.getTime() < Date.now() - STALE_AFTER_MS) {
        await this.rollBack(earlier._id, 'recovered: the service stopped before it finished');
        continue;
      } else if (earlier.status !== 'PENDING') {
        await this.keys.release(reservation); // it failed and was given back: this attempt dispenses anew
        continue;
      }
      if (Date.now() >= deadline) throw keyInProgress('dispense');
      await sleep(Math.min(25 * 2 ** attempt, 250));
    }
  }

  private async resultOf(d: DispensationDoc): Promise<DispenseResult> {
    const [prescription, medication] = await Promise.all([
      this.models.Prescription.findById(d.prescriptionId).lean<PrescriptionDoc>(),
      this.models.Medication.findById(d.medicationId).lean<MedicationDoc>(),
    ]);
    if (!prescription) throw notFound('Prescription', d.prescriptionId);
    if (!medication) throw notFound('Medication', d.medicationId);
    return { dispensation: d, prescription, medication };
  }

  private async run(prescriptionId: string, quantity: number, identity: Identity, id: Types.ObjectId): Promise<DispenseResult> {
    const prescription = await this.models.Prescription.findById(prescriptionId).lean<PrescriptionDoc>();
    if (!prescription) throw notFound('Prescription', prescriptionId);
    assertFillable(prescription);
    const medication = await this.models.Medication.findById(prescription.medicationId).lean<MedicationDoc>();
    if (!medication) throw notFound('Medication', prescription.medicationId);
    if (medication.stockOnHand < quantity) throw notEnoughStock(medication, quantity);

    const d = await this.begin(prescription, quantity, identity.userId ?? identity.service ?? null, id);
    try {
      const claimed = await this.claimFill(d);
      const taken = await this.takeStock(d);
      await this.complete(d);
      return { dispensation: { ...d, status: 'COMPLETED' }, prescription: claimed, medication: taken };
    } catch (err) {
      await this.rollBack(d._id, (err as Error).message).catch((rollbackErr: unknown) => {
        // It stays PENDING/ROLLING_BACK and recover() finishes the rollback.
        this.log.error({ err: (rollbackErr as Error).message, dispensationId: String(d._id) }, 'dispensation rollback failed');
      });
      throw err;
    }
  }

  /** Step 1; a dispensation with `id` already written (same idempotency key) → DuplicateDispensation. */
  async begin(p: PrescriptionDoc, quantity: number, dispensedBy: string | null, id = new Types.ObjectId()): Promise<DispensationDoc> {
    try {
      const doc = await this.models.Dispensation.create({
        _id: id,
        prescriptionId: String(p._id),
        medicationId: p.medicationId,
        patientId: p.patientId,
        quantity,
        status: 'PENDING',
        dispensedBy,
      });
      return doc.toObject<DispensationDoc>();
    } catch (err) {
      if (isDuplicateKey(err)) throw new DuplicateDispensation();
      throw err;
    }
  }

  /** Step 2: one fill, or CONFLICT saying why not. */
  claimFill(d: DispensationDoc): Promise<PrescriptionDoc> {
    return this.queue.run(`prescription:${d.prescriptionId}`, async () => {
      const doc = await this.models.Prescription.findOneAndUpdate(
        { _id: d.prescriptionId, status: 'ACTIVE', fillsRemaining: { $gt: 0 } },
        { $inc: { fillsRemaining: -1, fillsDispensed: 1 }, $push: { pendingFills: d._id } },
        { returnDocument: 'after' },
      ).lean<PrescriptionDoc>();
      if (doc) return doc;
      const current = await this.models.Prescription.findById(d.prescriptionId).lean<PrescriptionDoc>();
      if (!current) throw notFound('Prescription', d.prescriptionId);
      assertFillable(current);
      throw conflict(`Prescription ${d.prescriptionId} changed while dispensing; please try again`);
    });
  }

  /** Step 3: the quantity from stock, or CONFLICT when there is not enough. */
  takeStock(d: DispensationDoc): Promise<MedicationDoc> {
    return this.stock.change(d.medicationId, -d.quantity, { takenBy: d._id });
  }

  /** Step 4. */
  async complete(d: DispensationDoc): Promise<void> {
    const res = await this.queue.run(`dispensation:${d._id}`, () =>
      this.models.Dispensation.updateOne({ _id: d._id, status: 'PENDING' }, { $set: { status: 'COMPLETED' } }),
    );
    if (res.matchedCount !== 1) {
      throw conflict('This dispensation was rolled back while it was being recorded; nothing was dispensed, please try again');
    }
    // The markers have done their job; a leftover one is harmless (only a rollback reads it).
    await Promise.all([
      this.queue.run(`prescription:${d.prescriptionId}`, () =>
        this.models.Prescription.updateOne({ _id: d.prescriptionId }, { $pull: { pendingFills: d._id } }),
      ),
      this.stock.release(d.medicationId, d._id),
    ]).catch((err: unknown) => this.log.warn({ err: (err as Error).message, dispensationId: String(d._id) }, 'markers not released'));
  }

  /** Gives back whatever a not COMPLETED dispensation took. False when there is nothing to roll back. */
  async rollBack(id: Types.ObjectId, reason: string): Promise<boolean> {
    const d = await this.queue.run(`dispensation:${id}`, () =>
      this.models.Dispensation.findOneAndUpdate(
        { _id: id, status: { $ne: 'COMPLETED' } },
        { $set: { status: 'ROLLING_BACK', reason } },
        { returnDocument: 'after' },
      ).lean<DispensationDoc>(),
    );
    if (!d) return false;
    await this.stock.giveBack(d.medicationId, d.quantity, d._id);
    await this.queue.run(`prescription:${d.prescriptionId}`, () =>
      this.models.Prescription.updateOne(
        { _id: d.prescriptionId, pendingFills: d._id },
        { $inc: { fillsRemaining: 1, fillsDispensed: -1 }, $pull: { pendingFills: d._id } },
      ),
    );
    await this.queue.run(`dispensation:${id}`, () =>
      this.models.Dispensation.updateOne({ _id: id, status: 'ROLLING_BACK' }, { $set: { status: 'ROLLED_BACK' } }),
    );
    return true;
  }

  /** Rolls back what stopped processes left unfinished (called when the service starts). */
  async recover(staleAfterMs = STALE_AFTER_MS): Promise<number> {
    const cutoff = new Date(Date.now() - staleAfterMs);
    const stale = await this.models.Dispensation.find(
      { $or: [{ status: 'PENDING', createdAt: { $lt: cutoff } }, { status: 'ROLLING_BACK' }] },
      { _id: 1 },
    ).lean<Pick<DispensationDoc, '_id'>[]>();
    let done = 0;
    for (const { _id } of stale) if (await this.rollBack(_id, 'recovered: the service stopped before it finished')) done++;
    return done;
  }
}

/** Step 1 found the dispensation's id taken: another attempt with the same idempotency key. */
class DuplicateDispensation extends Error {
  constructor() {
    super('dispensation already written');
  }
}
