import { Schema, type Connection, type Model, type Types } from 'mongoose';

export type Sex = 'FEMALE' | 'MALE' | 'OTHER' | 'UNKNOWN';

export interface HistoryDoc {
  _id: Types.ObjectId;
  condition: string;
  diagnosedOn?: string | null;
  notes?: string | null;
  recordedAt: Date;
}

export interface LabResultDoc {
  _id: Types.ObjectId;
  test: string;
  value: number;
  unit: string;
  referenceRange?: { low?: number | null; high?: number | null } | null;
  takenAt: Date;
}

export interface AddressDoc {
  line1: string;
  line2?: string | null;
  city: string;
  postalCode: string;
  country: string;
}

export interface EmergencyContactDoc {
  name: string;
  relationship: string;
  phone: string;
}

export interface PatientDoc {
  _id: Types.ObjectId;
  firstName: string;
  lastName: string;
  /** "lastname firstname" lower-cased: the order of lists and the pagination key. */
  sortKey: string;
  dateOfBirth: string;
  sex: Sex;
  email?: string | null;
  phone?: string | null;
  address?: AddressDoc | null;
  emergencyContact?: EmergencyContactDoc | null;
  timeZone?: string | null;
  allergies: string[];
  medicalHistory: HistoryDoc[];
  labResults: LabResultDoc[];
  createdAt: Date;
  updatedAt: Date;
}

export function patientSortKey(firstName: string, lastName: string): string {
  return `${lastName} ${firstName}`.toLowerCase();
}

const AddressSchema = new Schema<AddressDoc>(
  {
    line1: { type: String, required: true, trim: true },
    line2: { type: String, trim: true },
    city: { type: String, required: true, trim: true },
    postalCode: { type: String, required: true, trim: true },
    country: { type: String, required: true, trim: true },
  },
  { _id: false },
);

const EmergencyContactSchema = new Schema<EmergencyContactDoc>(
  {
    name: { type: String, required: true, trim: true },
    relationship: { type: String, required: true, trim: true },
    phone: { type: String, required: true },
  },
  { _id: false },
);

const HistorySchema = new Schema<HistoryDoc>({
  condition: { type: String, required: true, trim: true },
  diagnosedOn: { type: String },
  notes: { type: String },
  recordedAt: { type: Date, required: true },
});

const LabResultSchema = new Schema<LabResultDoc>({
  test: { type: String, required: true, trim: true },
  value: { type: Number, required: true },
  unit: { type: String, required: true, trim: true },
  referenceRange: { type: new Schema({ low: Number, high: Number }, { _id: false }) },
  takenAt: { type: Date, required: true },
});

const PatientSchema = new Schema<PatientDoc>(
  {
    firstName: { type: String, required: true, trim: true },
    lastName: { type: String, required: true, trim: true },
    sortKey: { type: String, required: true },
    dateOfBirth: { type: String, required: true },
    sex: { type: String, required: true, enum: ['FEMALE', 'MALE', 'OTHER', 'UNKNOWN'] },
    email: { type: String, lowercase: true, trim: true },
    phone: { type: String },
    address: { type: AddressSchema },
    emergencyContact: { type: EmergencyContactSchema },
    timeZone: { type: String },
    allergies: { type: [String], default: [] },
    medicalHistory: { type: [HistorySchema], default: [] },
    labResults: { type: [LabResultSchema], default: [] },
  },
  { timestamps: true, collection: 'patients' },
);
PatientSchema.index({ sortKey: 1, _id: 1 });
PatientSchema.index({ email: 1 });

/**
 * A doctor treats a patient: what lets a DOCTOR see a patient's record. Written when an
 * appointment is booked (and by the demo seed); never removed by a cancellation, since the
 * doctor keeps needing the history of someone they saw.
 */
export interface CareRelationDoc {
  _id: Types.ObjectId;
  patientId: string;
  doctorId: string;
  since: Date;
}

const CareRelationSchema = new Schema<CareRelationDoc>(
  {
    patientId: { type: String, required: true },
    doctorId: { type: String, required: true },
    since: { type: Date, required: true },
  },
  { collection: 'care_relations', versionKey: false },
);
CareRelationSchema.index({ doctorId: 1, patientId: 1 }, { unique: true });
CareRelationSchema.index({ patientId: 1 });

export interface PatientModels {
  Patient: Model<PatientDoc>;
  CareRelation: Model<CareRelationDoc>;
}

export async function createPatientModels(conn: Connection): Promise<PatientModels> {
  const models = {
    Patient: conn.model<PatientDoc>('Patient', PatientSchema),
    CareRelation: conn.model<CareRelationDoc>('CareRelation', CareRelationSchema),
  };
  await Promise.all([models.Patient.createIndexes(), models.CareRelation.createIndexes()]);
  return models;
}
