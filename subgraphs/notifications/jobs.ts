import type { Agenda, Job } from 'agenda';
import type { Config } from '../../platform/config';
import { backoffSeconds } from '../../platform/jobs';
import { NOTIFY_APPOINTMENT_EVENT, NOTIFY_LOW_STOCK } from '../../platform/jobNames';
import type { Logger } from '../../platform/logger';
import type { AppointmentDoc } from '../appointments/model';
import type { Directory } from './directory';
import type { MedicationReminders } from './medicationReminders';
import type { Kind } from './model';
import { RetryLater, type Sender } from './sender';
import * as t from './templates';

export const REMINDER_JOB = 'notifications.reminder';
export const REMINDER_SWEEP_JOB = 'notifications.reminder-sweep';
export const MEDICATION_REMINDERS_JOB = 'notifications.medication-reminders';
const MAX_JOB_ATTEMPTS = 6;

type Data = Record<string, unknown>;

/**
 * Runs a job body; when trying again can help (RetryLater, or a peer service unavailable) the job
 * is rescheduled with backoff, up to MAX_JOB_ATTEMPTS; anything else is logged and the job ends.
 * The worker keeps running either way.
 */
function retrying(log: Logger, body: (data: Data, job: Job) => Promise<void>) {
  return async (job: Job) => {
    const data = job.attrs.data as Data;
    try {
      await body(data, job);
    } catch (err) {
      const attempt = Number(data.attempt ?? 1);
      const retryable = err instanceof RetryLater || (err as { extensions?: { code?: string } }).extensions?.code === 'SUBGRAPH_UNAVAILABLE';
      if (retryable && attempt < MAX_JOB_ATTEMPTS) {
        log.warn({ job: job.attrs.name, attempt, err: (err as Error).message }, 'job will be retried');
        job.attrs.data = { ...data, attempt: attempt + 1 };
        job.schedule(new Date(Date.now() + backoffSeconds(attempt) * 1000));
        await job.save();
        return;
      }
      log.error({ job: job.attrs.name, attempt, err: (err as Error).message }, 'job gave up');
    }
  };
}

const KIND_OF_EVENT: Record<string, { kind: Kind; render: (f: t.VisitFacts) => string }> = {
  APPOINTMENT_BOOKED: { kind: 'APPOINTMENT_CONFIRMED', render: t.appointmentConfirmed },
  APPOINTMENT_RESCHEDULED: { kind: 'APPOINTMENT_RESCHEDULED', render: t.appointmentRescheduled },
  APPOINTMENT_CANCELLED: { kind: 'APPOINTMENT_CANCELLED', render: t.appointmentCancelled },
};

export class NotificationJobs {
  constructor(
    private readonly agenda: Agenda,
    private readonly directory: Directory,
    private readonly sender: Sender,
    private readonly cfg: Config,
    private readonly log: Logger,
    private readonly medicationReminders: MedicationReminders,
  ) {}

  async define(): Promise<void> {
    const { agenda, log } = this;
    agenda.define(NOTIFY_APPOINTMENT_EVENT, retrying(log, (d) => this.appointmentEvent(d)));
    agenda.define(REMINDER_JOB, retrying(log, (d) => this.reminder(d)));
    agenda.define(NOTIFY_LOW_STOCK, retrying(log, (d) => this.lowStock(d)));
    agenda.define(REMINDER_SWEEP_JOB, async () => {
      await this.reminderSweep();
    });
    await agenda.every('10 minutes', REMINDER_SWEEP_JOB);
    agenda.define(MEDICATION_REMINDERS_JOB, async () => {
      await this.medicationReminders.sweep();
    });
    await agenda.every(`${this.cfg.MEDICATION_REMINDER_EVERY_MINUTES} minutes`, MEDICATION_REMINDERS_JOB);
  }

  /** People and facts of one appointment; null (after recording a FAILED notice) when it cannot be sent. */
  private async facts(a: AppointmentDoc, dedupeKey: string, kind: Kind, requestId: string): Promise<{ facts: t.VisitFacts; phone: string | null; email: string | null } | null> {
    const [patient, doctor] = await Promise.all([this.directory.patient(a.patientId, requestId), this.directory.doctor(a.doctorId, requestId)]);
    if (!patient) {
      await this.sender.fail({ dedupeKey, kind, channel: 'SMS', patientId: a.patientId, message: '(not sent)', appointmentId: String(a._id) }, 'The patient record no longer exists');
      return null;
    }
    const facts = {
      firstName: patient.firstName,
      doctorName: doctor?.name ?? 'your doctor',
      specialty: doctor?.specialty ?? a.specialty,
      start: a.start,
      zone: patient.timeZone ?? this.cfg.CLINIC_TIME_ZONE,
      clinic: this.cfg.CLINIC_NAME,
    };
    return { facts, phone: patient.phone, email: patient.email };
  }

  /** Confirmation, reschedule or cancellation notice; keeps the reminder in step. */
  private async appointmentEvent(d: Data): Promise<void> {
    const type = String(d.type);
    const spec = KIND_OF_EVENT[type];
    if (!spec) return;
    const dedupeKey = `event:${String(d.eventId)}`;
    const requestId = `job-${String(d.eventId)}`;
    const a = await this.directory.appointment(String(d.appointmentId));
    if (!a) {
      await this.sender.fail({ dedupeKey, kind: spec.kind, channel: 'EMAIL', message: '(not sent)', appointmentId: String(d.appointmentId) }, 'The appointment no longer exists');
      return;
    }
    const found = await this.facts(a, dedupeKey, spec.kind, requestId);
    if (found) {
      const channel = found.email ? 'EMAIL' : 'SMS';
      await this.sender.send({
        dedupeKey,
        kind: spec.kind,
        channel,
        patientId: a.patientId,
        to: channel === 'EMAIL' ? found.email : found.phone,
        message: spec.render(found.facts),
        appointmentId: String(a._id),
      });
    }
    if (type === 'APPOINTMENT_CANCELLED') await this.agenda.cancel({ name: REMINDER_JOB, 'data.appointmentId': String(a._id) });
    else if (a.status === 'SCHEDULED') await this.scheduleReminder(a, found?.facts.zone ?? this.cfg.CLINIC_TIME_ZONE, false);
  }

  /** One reminder job per appointment; moved when the appointment moves (insertOnly=false). */
  async scheduleReminder(a: AppointmentDoc, zone: string, insertOnly: boolean): Promise<void> {
    const at = t.reminderTime(a.start, zone);
    if (at.getTime() <= Date.now()) return; // booked less than a day ahead: the confirmation says it all
    const job = this.agenda.create(REMINDER_JOB, { appointmentId: String(a._id), start: a.start.toISOString(), zone });
    job.unique({ 'data.appointmentId': String(a._id) }, { insertOnly });
    job.schedule(at);
    await job.save();
  }

  /** Sends the reminder unless the appointment was cancelled or moved since the job was planned. */
  private async reminder(d: Data): Promise<void> {
    const a = await this.directory.appointment(String(d.appointmentId));
    const dedupeKey = `reminder:${String(d.appointmentId)}:${String(d.start)}`;
    if (!a || a.status !== 'SCHEDULED' || a.start.toISOString() !== d.start) return;
    const found = await this.facts(a, dedupeKey, 'APPOINTMENT_REMINDER', `reminder-${String(a._id)}`);
    if (!found) return;
    await this.sender.send({
      dedupeKey,
      kind: 'APPOINTMENT_REMINDER',
      channel: 'SMS',
      patientId: a.patientId,
      to: found.phone,
      message: t.appointmentReminder(found.facts),
      appointmentId: String(a._id),
    });
  }

  /** Safety net: every scheduled appointment in the next two days has its reminder job. */
  async reminderSweep(): Promise<number> {
    const upcoming = await this.directory.upcoming(new Date(), new Date(Date.now() + 2 * 86_400_000));
    const zones = await this.directory.patientZones(upcoming.map((a) => a.patientId), 'reminder-sweep');
    for (const a of upcoming) await this.scheduleReminder(a, zones.get(a.patientId) ?? this.cfg.CLINIC_TIME_ZONE, true);
    return upcoming.length;
  }

  /** One in-app alert per pharmacist and admin, once per crossing below the reorder level. */
  private async lowStock(d: Data): Promise<void> {
    const users = await this.directory.staff(['PHARMACIST', 'ADMIN'], `job-${String(d.eventId)}`);
    const message = t.lowStockAlert({ medication: String(d.medicationName ?? d.medicationId), stockOnHand: Number(d.stockOnHand), reorderLevel: Number(d.reorderLevel) });
    for (const u of users) {
      await this.sender.send({ dedupeKey: `lowstock:${String(d.eventId)}:${u.id}`, kind: 'LOW_STOCK_ALERT', channel: 'IN_APP', userId: u.id, message, medicationId: String(d.medicationId) });
    }
  }
}
