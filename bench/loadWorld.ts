/**
 * The people `npm run bench:load` books for, created through the router as the super admin
 * (createDoctor, registerPatient), and the slots each step books: every doctor works every day
 * in 5-minute slots in UTC, so any whole 5 minutes of a day is a bookable slot; each step books
 * on a day of its own (or, for reminders, at one instant), so no two steps meet and no patient
 * holds two overlapping appointments.
 */
import type { Connection, mongo } from 'mongoose';
import { dbName, type Config } from '../platform/config';
import { JOBS_DB } from '../platform/jobs';
import { NOTIFY_APPOINTMENT_EVENTS, type AppointmentNotice } from '../platform/jobNames';
import { QUEUES_DB } from '../platform/queue';
import { WEEKDAYS } from '../platform/schedule';
import type { AppointmentDoc } from '../subgraphs/appointments/model';
import type { NotificationDoc } from '../subgraphs/notifications/model';
import type { ReminderDoc } from '../subgraphs/notifications/reminders';
import { pool, setupMutation, type BookingInput, type GraphClient } from './loadClient';

export const SLOT_MINUTES = 5;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Specialty of the 50 doctors of the day view (doctors(specialty:) finds exactly them). */
export const DAY_VIEW_SPECIALTY = 'Load Bench Day View';
export const DAY_VIEW_DOCTORS = 50;

/** The day of `doctors` doctors of one specialty in one query (appointments → patient, allergies, prescriptions → medication): bench:load's and bench:gateway's day view. */
export function dayViewQuery(doctors: number): string {
  return `query DayView($s: String!, $from: DateTime!, $to: DateTime!) {
  doctors(specialty: $s, first: ${doctors}) {
    edges { node { name appointments(from: $from, to: $to) {
      start reason
      patient { name allergies prescriptions(status: ACTIVE) { dosage medication { name strength } } }
    } } }
  }
}`;
}
const OTHER_SPECIALTY = 'Load Bench';
/** Patient zone: UTC, so "the day before" is exactly 24 h before. */
export const PATIENT_ZONE = 'UTC';

const CREATE_DOCTOR = `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id } }`;
const REGISTER_PATIENT = `mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`;

/** Doctors and patients created so far (the first DAY_VIEW_DOCTORS doctors are the day-view doctors). */
export class People {
  readonly doctors: string[] = [];
  readonly patients: string[] = [];
  setupMs = 0;

  constructor(private readonly client: GraphClient) {}

  /** Creates doctors until there are `n` (20 at a time). */
  async ensureDoctors(n: number, signal?: AbortSignal): Promise<void> {
    const todo = Array.from({ length: Math.max(0, n - this.doctors.length) }, (_v, k) => this.doctors.length + k);
    const t = performance.now();
    const ids = await pool(todo, 20, async (i) => {
      const data = await setupMutation<{ createDoctor: { id: string } }>(this.client, CREATE_DOCTOR, {
        i: {
          firstName: `Load${String(i).padStart(4, '0')}`,
          lastName: 'Doctor',
          specialty: i < DAY_VIEW_DOCTORS ? DAY_VIEW_SPECIALTY : OTHER_SPECIALTY,
          email: `load.doctor${i}@bench.example`,
          timeZone: 'UTC',
          weeklySchedule: WEEKDAYS.map((weekday) => ({ weekday, start: '00:00', end: '23:55', slotMinutes: SLOT_MINUTES })),
        },
      }, signal);
      return { i, id: data.createDoctor.id };
    }, { signal });
    for (const { i, id } of ids.sort((a, b) => a.i - b.i)) this.doctors[i] = id;
    this.setupMs += performance.now() - t;
    if (this.doctors.length < n) throw new Error(`only ${this.doctors.length} of ${n} doctors created`);
  }

  /** Registers patients until there are `n` (20 at a time); each has an email and a phone (SMS reminders). */
  async ensurePatients(n: number, signal?: AbortSignal): Promise<void> {
    const todo = Array.from({ length: Math.max(0, n - this.patients.length) }, (_v, k) => this.patients.length + k);
    const t = performance.now();
    const ids = await pool(todo, 20, async (i) => {
      const data = await setupMutation<{ registerPatient: { id: string } }>(this.client, REGISTER_PATIENT, {
        i: {
          firstName: `Load${String(i).padStart(4, '0')}`,
          lastName: 'Patient',
          dateOfBirth: '1980-01-01',
          sex: i % 2 ? 'FEMALE' : 'MALE',
          email: `load.patient${i}@bench.example`,
          phone: `+4915112${String(i).padStart(6, '0')}`,
          timeZone: PATIENT_ZONE,
          allergies: i % 3 ? [] : ['Penicillin'],
        },
      }, signal);
      return { i, id: data.registerPatient.id };
    }, { signal });
    for (const { i, id } of ids.sort((a, b) => a.i - b.i)) this.patients[i] = id;
    this.setupMs += performance.now() - t;
    if (this.patients.length < n) throw new Error(`only ${this.patients.length} of ${n} patients registered`);
  }
}

/** Midnight UTC `days` days from today. */
export function dayFromToday(days: number): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + days * DAY_MS);
}

export function slotAt(start: Date): { start: string; end: string } {
  return { start: start.toISOString(), end: new Date(start.getTime() + SLOT_MINUTES * MINUTE_MS).toISOString() };
}

/**
 * `n` bookings on one day: booking i with doctor i mod `doctors` (the first ones: the day-view
 * doctors), at 08:00 + (i div `doctors`) slots, for patient i (distinct patients).
 */
/** `n` bookings of `day`, the i-th by patient `firstPatient + i` with doctor `i % doctors`, 8:00 onwards. */
export function dayBookings(people: People, day: Date, n: number, reason: string, doctors = DAY_VIEW_DOCTORS, firstPatient = 0): BookingInput[] {
  return Array.from({ length: n }, (_v, i) => ({
    patientId: people.patients[firstPatient + i],
    doctorId: people.doctors[i % doctors],
    ...slotAt(new Date(day.getTime() + 8 * 60 * MINUTE_MS + Math.floor(i / doctors) * SLOT_MINUTES * MINUTE_MS)),
    reason,
  }));
}

/** The collections the benchmark reads to count what was stored and sent. */
export class Stores {
  constructor(
    private readonly conn: Connection,
    private readonly cfg: Pick<Config, 'DB_PREFIX'>,
  ) {}

  get appointments(): mongo.Collection<AppointmentDoc> {
    return this.conn.useDb(dbName(this.cfg, 'appointments'), { useCache: true }).db!.collection<AppointmentDoc>('appointments');
  }

  get notifications(): mongo.Collection<NotificationDoc> {
    return this.conn.useDb(dbName(this.cfg, 'notifications'), { useCache: true }).db!.collection<NotificationDoc>('notifications');
  }

  /** Pending appointment reminders (one per appointment, deleted once handled). */
  get reminders(): mongo.Collection<ReminderDoc> {
    return this.conn.useDb(dbName(this.cfg, 'notifications'), { useCache: true }).db!.collection<ReminderDoc>('reminders');
  }

  /** Appointment notices waiting for notifications (platform/jobNames.ts). */
  get notices(): mongo.Collection<AppointmentNotice> {
    return this.conn.useDb(dbName(this.cfg, QUEUES_DB), { useCache: true }).db!.collection<AppointmentNotice>(NOTIFY_APPOINTMENT_EVENTS);
  }

  get jobs(): mongo.Collection {
    return this.conn.useDb(dbName(this.cfg, JOBS_DB), { useCache: true }).db!.collection('agendaJobs');
  }

  /** Prescriptions (their outbox flag tells whether the relay has handed their event on). */
  get prescriptions(): mongo.Collection {
    return this.conn.useDb(dbName(this.cfg, 'medications'), { useCache: true }).db!.collection('prescriptions');
  }

  /** A scratch collection for the plain insert rate. */
  get scratch(): mongo.Collection {
    return this.conn.useDb(dbName(this.cfg, 'bench_scratch'), { useCache: true }).db!.collection('inserts');
  }
}
