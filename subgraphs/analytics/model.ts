import { Schema, type Connection, type Model } from 'mongoose';
import type { AppointmentChange, AppointmentFacts } from '../../platform/jobNames';

/**
 * Analytics keeps its figures incrementally. Appointments report every change as an observation
 * (the appointment's state and version); the scheduled fold (fold.ts) compares it with the state
 * last counted (`facts`) and moves the counts in the materialised `days` and `patient_days`
 * documents from the old state to the new. Reports read only those documents, so their cost
 * depends on the days in the range, not on the number of appointments, and a run costs what
 * changed since the last run.
 *
 * Every collection is read by `_id` or is small: on FerretDB (SQLite) only a lone `_id` filter
 * uses an index, every other filter scans the collection.
 */

/** An appointment as last counted (`_id` = appointment id). Only the fold writes it. */
export interface FactsDoc extends AppointmentFacts {
  _id: string;
  version: number;
}

/** The batch the fold is working on: changes moved out of the queue, all with one `batch` id. */
export interface StagedChangeDoc extends AppointmentChange {
  batch: string;
}

/**
 * One move of the counts: -1 for the state an appointment left, +1 for the state it entered.
 * Written before anything else of the batch changes, so an interrupted fold repeats exactly.
 */
export interface DeltaDoc extends AppointmentFacts {
  _id: string;
  batch: string;
  appointmentId: string;
  version: number;
  sign: 1 | -1;
}

export interface DoctorDayCount {
  doctorId: string;
  specialty: string;
  status: string;
  n: number;
}
export interface ConditionDayCount {
  specialty: string;
  condition: string;
  n: number;
}
/** One calendar day (`_id` = YYYY-MM-DD, the doctor's zone): counts per doctor and status, conditions seen. */
export interface DayDoc {
  _id: string;
  doctors: DoctorDayCount[];
  conditions: ConditionDayCount[];
  /** The fold batch that last changed it: a resumed batch does not apply twice. */
  lastBatch: string;
}
/**
 * The days on which one patient has appointments (`_id` = patient id), for distinct-patient
 * counts: `visits` with counts (what the fold maintains), and the same as plain `days` and
 * `months` lists that a range query matches with `$in`. Not `$elemMatch`: FerretDB 1.24 answers
 * it wrongly for ranges (none found on sub-documents, every document on plain values).
 */
export interface PatientDaysDoc {
  _id: string;
  visits: { d: string; n: number }[];
  days: string[];
  months: string[];
  lastBatch: string;
}

export type FoldPhase = 'computed' | null;
export interface RunDoc {
  _id: 'current';
  computedAt: Date;
  /** Changes counted by the last run. */
  changes: number;
  /** Materialised documents written by the last run. */
  rows: number;
  durationMs: number;
  /** A batch whose deltas are written but not yet applied (resume it first). */
  pendingBatch: string | null;
  phase: FoldPhase;
  /** When every appointment was last counted from the appointments themselves (backfill.ts). */
  backfilledAt?: Date | null;
}

const facts = {
  localDate: String,
  doctorId: String,
  specialty: String,
  status: String,
  patientId: String,
  conditions: { type: [String], default: [] },
};
const opts = (collection: string) => ({ collection, versionKey: false as const });

const FactsSchema = new Schema<FactsDoc>({ _id: String, ...facts, version: Number }, opts('facts'));
const StagedSchema = new Schema<StagedChangeDoc>({ _id: String, appointmentId: String, version: Number, batch: String, ...facts }, opts('fold_staged'));
const DeltaSchema = new Schema<DeltaDoc>({ _id: String, batch: String, appointmentId: String, version: Number, sign: Number, ...facts }, opts('fold_deltas'));
const DaySchema = new Schema<DayDoc>(
  {
    _id: String,
    doctors: [{ _id: false, doctorId: String, specialty: String, status: String, n: Number }],
    conditions: [{ _id: false, specialty: String, condition: String, n: Number }],
    lastBatch: String,
  },
  opts('days'),
);
const PatientDaysSchema = new Schema<PatientDaysDoc>(
  { _id: String, visits: [{ _id: false, d: String, n: Number }], days: [String], months: [String], lastBatch: String },
  opts('patient_days'),
);
// MongoDB answers "patients with a visit in the range" from these multikey indexes.
PatientDaysSchema.index({ months: 1 });
PatientDaysSchema.index({ days: 1 });
const RunSchema = new Schema<RunDoc>(
  { _id: String, computedAt: Date, changes: Number, rows: Number, durationMs: Number, pendingBatch: String, phase: String, backfilledAt: Date },
  opts('runs'),
);

export interface AnalyticsModels {
  Facts: Model<FactsDoc>;
  Staged: Model<StagedChangeDoc>;
  Delta: Model<DeltaDoc>;
  Day: Model<DayDoc>;
  PatientDays: Model<PatientDaysDoc>;
  Run: Model<RunDoc>;
}

export async function createAnalyticsModels(conn: Connection): Promise<AnalyticsModels> {
  const models: AnalyticsModels = {
    Facts: conn.model<FactsDoc>('Facts', FactsSchema),
    Staged: conn.model<StagedChangeDoc>('StagedChange', StagedSchema),
    Delta: conn.model<DeltaDoc>('Delta', DeltaSchema),
    Day: conn.model<DayDoc>('Day', DaySchema),
    PatientDays: conn.model<PatientDaysDoc>('PatientDays', PatientDaysSchema),
    Run: conn.model<RunDoc>('Run', RunSchema),
  };
  await models.PatientDays.createIndexes();
  return models;
}
