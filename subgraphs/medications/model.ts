import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPaths, type OutboxFields } from '../../platform/outbox';

export type MedicationForm = 'TABLET' | 'CAPSULE' | 'LIQUID' | 'INJECTION' | 'INHALER' | 'CREAM' | 'DROPS' | 'PATCH' | 'OTHER';
export const MEDICATION_FORMS: readonly MedicationForm[] = ['TABLET', 'CAPSULE', 'LIQUID', 'INJECTION', 'INHALER', 'CREAM', 'DROPS', 'PATCH', 'OTHER'];

/** Outbox (platform/outbox.ts): LOW_STOCK when a dispense takes the stock below the reorder level. */
export interface MedicationDoc extends OutboxFields {
  _id: Types.ObjectId;
  name: string;
  form: MedicationForm;
  strength: string;
  code: string;
  unit: string;
  /** "name strength" lower-cased: the order of the catalogue and its pagination key. */
  sortKey: string;
  stockOnHand: number;
  reorderLevel: number;
  /**
   * stockOnHand < reorderLevel, stored so `medications(lowStock: true)` is a plain filter
   * (FerretDB has no $expr); every stock write sets it in the same update (see stock.ts).
   */
  lowStock: boolean;
  lot?: string | null;
  expiresOn?: string | null;
  /** Dispensations that took stock and are not finished yet: what a rollback gives back. */
  pendingDispensations: Types.ObjectId[];
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Stored status. COMPLETED is not stored: an ACTIVE prescription with no fills left is
 * COMPLETED, so a fill given back by a rollback makes it ACTIVE again without a second write.
 */
export type StoredPrescriptionStatus = 'ACTIVE' | 'CANCELLED';

/** Outbox (platform/outbox.ts): PRESCRIPTION_CREATED. */
export interface PrescriptionDoc extends OutboxFields {
  _id: Types.ObjectId;
  patientId: string;
  prescriberId: string;
  medicationId: string;
  dosage: string;
  frequency: string;
  startDate: string;
  endDate?: string | null;
  refillsAllowed: number;
  /** refillsAllowed + 1 at first (the first fill is not a refill), minus fills claimed. */
  fillsRemaining: number;
  fillsDispensed: number;
  status: StoredPrescriptionStatus;
  cancelledAt?: Date | null;
  cancelReason?: string | null;
  /** Dispensations that claimed a fill and are not finished yet: what a rollback gives back. */
  pendingFills: Types.ObjectId[];
  createdAt: Date;
  updatedAt: Date;
}

/**
 * PENDING: written before anything changes. COMPLETED: fill and stock taken, acknowledged.
 * ROLLING_BACK → ROLLED_BACK: what was taken is being / has been given back.
 */
export type DispensationStatus = 'PENDING' | 'COMPLETED' | 'ROLLING_BACK' | 'ROLLED_BACK';

export interface DispensationDoc {
  _id: Types.ObjectId;
  prescriptionId: string;
  medicationId: string;
  patientId: string;
  quantity: number;
  status: DispensationStatus;
  dispensedBy?: string | null;
  /** Why it was rolled back. */
  reason?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function medicationSortKey(name: string, strength: string): string {
  return `${name} ${strength}`.toLowerCase();
}

const MedicationSchema = new Schema<MedicationDoc>(
  {
    name: { type: String, required: true, trim: true },
    form: { type: String, required: true, enum: MEDICATION_FORMS },
    strength: { type: String, required: true, trim: true },
    code: { type: String, required: true, trim: true },
    unit: { type: String, required: true, trim: true },
    sortKey: { type: String, required: true },
    stockOnHand: { type: Number, required: true, min: 0 },
    reorderLevel: { type: Number, required: true, min: 0 },
    lowStock: { type: Boolean, required: true },
    lot: { type: String, trim: true },
    expiresOn: { type: String },
    ...outboxPaths,
    pendingDispensations: { type: [Schema.Types.ObjectId], default: [] },
  },
  { timestamps: true, collection: 'medications' },
);
MedicationSchema.index({ sortKey: 1, _id: 1 });
MedicationSchema.index({ code: 1 }, { unique: true });
MedicationSchema.index({ lowStock: 1, sortKey: 1 });

const PrescriptionSchema = new Schema<PrescriptionDoc>(
  {
    patientId: { type: String, required: true },
    prescriberId: { type: String, required: true },
    medicationId: { type: String, required: true },
    dosage: { type: String, required: true, trim: true },
    frequency: { type: String, required: true, trim: true },
    startDate: { type: String, required: true },
    endDate: { type: String },
    refillsAllowed: { type: Number, required: true, min: 0 },
    fillsRemaining: { type: Number, required: true, min: 0 },
    fillsDispensed: { type: Number, required: true, min: 0 },
    status: { type: String, required: true, enum: ['ACTIVE', 'CANCELLED'] },
    cancelledAt: { type: Date },
    cancelReason: { type: String },
    ...outboxPaths,
    pendingFills: { type: [Schema.Types.ObjectId], default: [] },
  },
  { timestamps: true, collection: 'prescriptions' },
);
PrescriptionSchema.index({ patientId: 1, _id: -1 });
PrescriptionSchema.index({ prescriberId: 1, _id: -1 });

const DispensationSchema = new Schema<DispensationDoc>(
  {
    prescriptionId: { type: String, required: true },
    medicationId: { type: String, required: true },
    patientId: { type: String, required: true },
    quantity: { type: Number, required: true, min: 1 },
    status: { type: String, required: true, enum: ['PENDING', 'COMPLETED', 'ROLLING_BACK', 'ROLLED_BACK'] },
    dispensedBy: { type: String },
    reason: { type: String },
  },
  { timestamps: true, collection: 'dispensations' },
);
DispensationSchema.index({ status: 1, createdAt: 1 });
DispensationSchema.index({ prescriptionId: 1 });

export interface MedicationModels {
  Medication: Model<MedicationDoc>;
  Prescription: Model<PrescriptionDoc>;
  Dispensation: Model<DispensationDoc>;
}

export async function createMedicationModels(conn: Connection): Promise<MedicationModels> {
  const models = {
    Medication: conn.model<MedicationDoc>('Medication', MedicationSchema),
    Prescription: conn.model<PrescriptionDoc>('Prescription', PrescriptionSchema),
    Dispensation: conn.model<DispensationDoc>('Dispensation', DispensationSchema),
  };
  await Promise.all(Object.values(models).map((m) => m.createIndexes()));
  return models;
}
