import { Schema, type Connection, type Model, type Types, type mongo } from 'mongoose';
import { dbName, type Config } from '../../platform/config';
import type { AppointmentObservation } from '../../platform/jobNames';
import { outboxPaths, type OutboxFields } from '../../platform/outbox';

export const APPOINTMENT_STATUSES = ['SCHEDULED', 'CANCELLED', 'COMPLETED', 'NO_SHOW'] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];

export interface AppointmentDoc extends OutboxFields {
  _id: Types.ObjectId;
  patientId: string;
  doctorId: string;
  start: Date;
  end: Date;
  /** YYYY-MM-DD in the doctor's zone: what reports group by (no $dateToString on FerretDB). */
  localDate: string;
  timeZone: string;
  reason: string;
  status: AppointmentStatus;
  cancellationReason?: string | null;
  conditions: string[];
  notes?: string | null;
  specialty: string;
  /**
   * `doctorId|startISO` while the appointment holds its slot; unique, so two bookings of one slot
   * cannot both be saved. A cancellation releases it (`released|<id>`).
   */
  slotKey: string;
  /**
   * Idempotency scope (platform/idempotency.ts) of the last change made with an Idempotency-Key:
   * a retry of that change finds it done and answers with the appointment.
   */
  changeKey?: string | null;
  /**
   * Idempotency scope of the booking that made it, when it came with an Idempotency-Key: a retry
   * that finds its slot taken tells its own booking from another client's without another read.
   * Null for a booking without a key; absent on appointments saved before this field existed.
   */
  bookingKey?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const AppointmentSchema = new Schema<AppointmentDoc>(
  {
    patientId: { type: String, required: true },
    doctorId: { type: String, required: true },
    start: { type: Date, required: true },
    end: { type: Date, required: true },
    localDate: { type: String, required: true },
    timeZone: { type: String, required: true },
    reason: { type: String, required: true, trim: true },
    status: { type: String, required: true, enum: APPOINTMENT_STATUSES },
    cancellationReason: { type: String },
    conditions: { type: [String], default: [] },
    notes: { type: String },
    specialty: { type: String, required: true },
    slotKey: { type: String, required: true },
    changeKey: { type: String },
    bookingKey: { type: String, default: null },
    ...outboxPaths,
  },
  { timestamps: true, collection: 'appointments' },
);
AppointmentSchema.index({ slotKey: 1 }, { unique: true });
AppointmentSchema.index({ doctorId: 1, start: 1 });
AppointmentSchema.index({ patientId: 1, start: -1 });
AppointmentSchema.index({ localDate: 1, status: 1 });
AppointmentSchema.index({ outboxPending: 1 });

/**
 * The appointments collection, for the services the design lets read it directly (notifications
 * for reminders, analytics for its backfill and a patient's visit summary). Read-only by convention:
 * only the appointments service writes it.
 */
export function appointmentsCollection(conn: Connection, cfg: Config): mongo.Collection<AppointmentDoc> {
  return conn.useDb(dbName(cfg, 'appointments'), { useCache: true }).db!.collection<AppointmentDoc>('appointments');
}

export interface AppointmentModels {
  Appointment: Model<AppointmentDoc>;
}

export async function createAppointmentModels(conn: Connection): Promise<AppointmentModels> {
  const models = {
    Appointment: conn.model<AppointmentDoc>('Appointment', AppointmentSchema),
  };
  await models.Appointment.createIndexes();
  return models;
}

/**
 * Outbox event of an appointment written by an import (demo data, a migration) rather than booked:
 * analytics counts it, nobody is notified.
 */
export const APPOINTMENT_IMPORTED = 'APPOINTMENT_IMPORTED';

/** What analytics is told about the appointment's current state (platform/jobNames.ts). */
export function observationOf(doc: AppointmentDoc): AppointmentObservation {
  return {
    appointmentId: String(doc._id),
    version: doc.outboxSeq ?? 0, // appointments written before outboxes had none
    localDate: doc.localDate,
    doctorId: doc.doctorId,
    specialty: doc.specialty,
    status: doc.status,
    patientId: doc.patientId,
    conditions: doc.conditions ?? [],
  };
}

/**
 * The claim every change of one appointment takes (service.ts, the outbox sweep, test fixtures):
 * on FerretDB an update rewrites the whole document, so unserialised writes can undo each other.
 */
export function appointmentClaimKey(id: string): string {
  return `appointment:${id}`;
}

export function slotKeyOf(doctorId: string, start: Date): string {
  return `${doctorId}|${start.toISOString()}`;
}
