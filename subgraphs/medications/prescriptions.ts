import { Types } from 'mongoose';
import { badInput, conflict, notFound } from '../../platform/errors';
import type { Identity } from '../../platform/identity';
import { newOutbox, outboxEvent } from '../../platform/outbox';
import { WHOLE_ANSWER_BATCH } from '../../platform/loaders';
import { paginate, type Connection } from '../../platform/pagination';
import { settledValue } from '../../platform/settled';
import type { PrescribeInput, PrescriptionStatus } from './__generated__/resolvers-types';
import type { ClinicDirectory } from './directory';
import type { MedicationModels, PrescriptionDoc } from './model';
import type { WriteQueue } from './serial';
import type { Loaders } from './service';

export const MAX_REFILLS = 12;
const NOTHING = { _id: { $in: [] } };
const SEES_ALL = new Set(['SUPER_ADMIN', 'ADMIN', 'PHARMACIST', 'NURSE']);

export function prescriptionStatus(p: Pick<PrescriptionDoc, 'status' | 'fillsRemaining'>): PrescriptionStatus {
  if (p.status === 'CANCELLED') return 'CANCELLED';
  return p.fillsRemaining > 0 ? 'ACTIVE' : 'COMPLETED';
}

function statusFilter(status: PrescriptionStatus): Record<string, unknown> {
  if (status === 'CANCELLED') return { status: 'CANCELLED' };
  return { status: 'ACTIVE', fillsRemaining: status === 'ACTIVE' ? { $gt: 0 } : 0 };
}

/** Refuses, with the reason, a prescription that cannot be dispensed now. */
export function assertFillable(p: PrescriptionDoc): void {
  const id = String(p._id);
  if (p.status === 'CANCELLED') throw conflict(`Prescription ${id} is cancelled and cannot be dispensed`);
  if (p.fillsRemaining < 1) {
    throw conflict(`Prescription ${id} has no fills left: ${p.fillsDispensed} of ${p.refillsAllowed + 1} fill(s) dispensed`);
  }
}

export type NewPrescription = Pick<
  PrescriptionDoc,
  'patientId' | 'prescriberId' | 'medicationId' | 'dosage' | 'frequency' | 'startDate' | 'endDate' | 'refillsAllowed'
>;

interface ListArgs {
  patientId?: string | null;
  doctorId?: string | null;
  status?: PrescriptionStatus | null;
  first?: number | null;
  after?: string | null;
}

/** Prescribing, cancelling and finding prescriptions. */
export class Prescriptions {
  constructor(
    private readonly models: MedicationModels,
    private readonly directory: ClinicDirectory,
    private readonly queue: WriteQueue,
  ) {}

  async get(id: string): Promise<PrescriptionDoc> {
    const doc = await this.models.Prescription.findById(id).lean<PrescriptionDoc>();
    if (!doc) throw notFound('Prescription', id);
    return doc;
  }

  /** Every prescription of these patients, newest first, in one query. */
  async ofPatients(patientIds: readonly string[]): Promise<PrescriptionDoc[][]> {
    // Without the outbox (events already handed on), which Patient.prescriptions never shows.
    const docs = await this.models.Prescription.find(
      { patientId: { $in: [...patientIds] } },
      { outbox: 0, outboxSeq: 0, outboxHandled: 0, outboxPending: 0, __v: 0 },
      { batchSize: WHOLE_ANSWER_BATCH },
    )
      .sort({ _id: -1 })
      .lean<PrescriptionDoc[]>();
    // Grouped in one pass (500 patients × their prescriptions was a filter of the whole list each).
    const byPatient = new Map<string, PrescriptionDoc[]>();
    for (const d of docs) {
      const list = byPatient.get(d.patientId);
      if (list) list.push(d);
      else byPatient.set(d.patientId, [d]);
    }
    return patientIds.map((id) => byPatient.get(id) ?? []);
  }

  /** The prescriptions the caller may see, narrowed in the query (the type's guard is the backup). */
  async list(args: ListArgs, identity: Identity, loaders: Loaders): Promise<Connection<PrescriptionDoc>> {
    const narrow: Record<string, unknown>[] = [];
    if (args.patientId) narrow.push({ patientId: args.patientId });
    if (args.doctorId) narrow.push({ prescriberId: args.doctorId });
    if (args.status) narrow.push(statusFilter(args.status));
    const visible = await this.visibleTo(identity, narrow, loaders);
    return paginate(this.models.Prescription, { $and: [...narrow, visible] }, '_id', args, -1);
  }

  private async visibleTo(identity: Identity, narrow: Record<string, unknown>[], loaders: Loaders): Promise<Record<string, unknown>> {
    if (identity.role && SEES_ALL.has(identity.role)) return {};
    if (identity.role === 'PATIENT' && identity.patientId) return { patientId: identity.patientId };
    if (identity.role !== 'DOCTOR' || !identity.doctorId) return NOTHING;
    // A doctor sees what they prescribed and every prescription of a patient they treat.
    const candidates = (await this.models.Prescription.distinct('patientId', narrow.length ? { $and: narrow } : {})) as string[];
    const treats = await loaders.treats.loadMany(candidates);
    const treated: string[] = [];
    candidates.forEach((patientId, i) => {
      const answer = treats[i];
      if (answer instanceof Error) throw answer;
      if (answer) treated.push(patientId);
    });
    return { $or: [{ prescriberId: identity.doctorId }, { patientId: { $in: treated } }] };
  }

  /** Checks the prescription against the patients and doctors services, then records it. */
  async prescribe(input: PrescribeInput, identity: Identity, requestId: string): Promise<PrescriptionDoc> {
    const prescriberId = identity.role === 'DOCTOR' ? identity.doctorId : input.doctorId;
    if (!prescriberId) throw badInput('doctorId is required: name the prescribing doctor', 'doctorId');
    if (input.endDate && input.endDate < input.startDate) throw badInput('endDate cannot be before startDate', 'endDate');
    const refillsAllowed = input.refillsAllowed ?? 0;
    if (!Number.isInteger(refillsAllowed) || refillsAllowed < 0 || refillsAllowed > MAX_REFILLS) {
      throw badInput(`refillsAllowed must be a whole number from 0 to ${MAX_REFILLS}`, 'refillsAllowed');
    }
    // All three checks run; the first failure in this order is reported, whatever answers first.
    const checks = await Promise.allSettled([
      this.directory.assertPatientExists(input.patientId, requestId),
      this.directory.assertActiveDoctor(prescriberId, requestId),
      this.assertMedicationExists(input.medicationId),
    ]);
    for (const check of checks) settledValue(check);
    return this.create({
      patientId: input.patientId,
      prescriberId,
      medicationId: input.medicationId,
      dosage: input.dosage,
      frequency: input.frequency,
      startDate: input.startDate,
      endDate: input.endDate ?? null,
      refillsAllowed,
    });
  }

  private async assertMedicationExists(id: string): Promise<void> {
    if (!(await this.models.Medication.exists({ _id: id }))) throw notFound('Medication', id);
  }

  /** Records an already checked prescription, with its PRESCRIPTION_CREATED event in the same write. */
  async create(fields: NewPrescription): Promise<PrescriptionDoc> {
    const _id = new Types.ObjectId();
    const doc = await this.models.Prescription.create({
      _id,
      ...fields,
      fillsRemaining: fields.refillsAllowed + 1,
      fillsDispensed: 0,
      status: 'ACTIVE',
      pendingFills: [],
      ...newOutbox(outboxEvent('PRESCRIPTION_CREATED', { prescriptionId: String(_id), patientId: fields.patientId })),
    });
    return doc.toObject<PrescriptionDoc>();
  }

  cancel(id: string, reason?: string | null): Promise<PrescriptionDoc> {
    const why = reason?.trim();
    return this.queue.run(`prescription:${id}`, async () => {
      const doc = await this.models.Prescription.findOneAndUpdate(
        { _id: id, status: 'ACTIVE', fillsRemaining: { $gt: 0 } },
        { $set: { status: 'CANCELLED', cancelledAt: new Date(), ...(why ? { cancelReason: why } : {}) } },
        { returnDocument: 'after' },
      ).lean<PrescriptionDoc>();
      if (doc) return doc;
      const current = await this.get(id);
      throw conflict(
        current.status === 'CANCELLED'
          ? `Prescription ${id} is already cancelled`
          : `Prescription ${id} is completed (every fill dispensed) and cannot be cancelled`,
      );
    });
  }
}
