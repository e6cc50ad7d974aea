import type { Agenda, Job } from 'agenda';
import type { Config } from '../../platform/config';
import { backoffSeconds, eachLimited, gaveUpAfter, removeDone } from '../../platform/jobs';
import { NOTIFY_APPOINTMENT_EVENT, NOTIFY_LOW_STOCK } from '../../platform/jobNames';
import type { Logger } from '../../platform/logger';
import { settledValue } from '../../platform/settled';
import type { AppointmentDoc } from '../appointments/model';
import type { DoctorCard, Directory, PatientContact } from './directory';
import type { MedicationReminders } from './medicationReminders';
import type { Kind } from './model';
import type { ReminderDoc, ReminderStore } from './reminders';
import { RetryLater, type Sender } from './sender';
import * as t from './templates';

/** The former one-job-per-reminder name: only read (and emptied) by the migration at start-up. */
export const REMINDER_JOB = 'notifications.reminder';
/** The one recurring job that sends due reminders in batches (every REMINDER_POLL_SECONDS, and when the next one falls due or may be retried). */
export const REMINDERS_DUE_JOB = 'notifications.reminders-due';
/** A reminder that still fails this long after it fell due is given up (recorded FAILED). */
export const REMINDER_GIVE_UP_MS = 3_600_000;
/** Reminders sent at a time, and read (with their appointments and people) at a time. */
const REMINDERS_AT_A_TIME = 16;
const REMINDER_BATCH = 200;

/**
 * The due-reminders job's lock, and the claim on each reminder it sends: at most 20 s (a send takes
 * about a second under load), so a worker killed mid-batch holds up the rest for no longer than that.
 */
export function reminderLeaseMs(cfg: Pick<Config, 'JOB_LOCK_LIFETIME_MS'>): number {
  return Math.min(deliveryLeaseMs(cfg), 20_000);
}
export const REMINDER_SWEEP_JOB = 'notifications.reminder-sweep';
export const MEDICATION_REMINDERS_JOB = 'notifications.medication-reminders';
/** Backoff 5 s, 10 s, … capped at 10 minutes: twelve attempts keep trying for about an hour. */
export const MAX_JOB_ATTEMPTS = 12;
/** Jobs of one kind a worker runs at a time, and also (lockLimit) locks at a time: see `define`. */
export const DELIVERY_JOBS_AT_A_TIME = 20;

/**
 * How long a worker holds a delivery job's lock and a notification's claim: the configured lock
 * lifetime, at most 30 s. After a crash, that is how long the dead worker's jobs and messages
 * wait for the next worker; a delivery job takes a second or two.
 */
export function deliveryLeaseMs(cfg: Pick<Config, 'JOB_LOCK_LIFETIME_MS'>): number {
  return Math.min(cfg.JOB_LOCK_LIFETIME_MS, 30_000);
}

type Data = Record<string, unknown>;

/** A peer service answered with a coded error of its own (e.g. FORBIDDEN): asking again will not change the answer. */
export function isFinalAnswer(err: unknown): boolean {
  const code = (err as { extensions?: { code?: string } }).extensions?.code;
  return code !== undefined && code !== 'SUBGRAPH_UNAVAILABLE' && !(err instanceof RetryLater);
}

/**
 * Runs a job body. A failure is retried with backoff (or, when another worker's lease on the
 * message is the reason, when that lease ends), up to MAX_JOB_ATTEMPTS: besides RetryLater and a
 * peer that is down, that covers the database's own passing errors (FerretDB answers a busy
 * SQLite with an error). A job that gives up is not silent: `giveUp` records the notification as
 * FAILED with a reason a person can read. The worker keeps running either way.
 */
function retrying(log: Logger, body: (data: Data) => Promise<void>, giveUp: (data: Data, reason: string) => Promise<void>) {
  return async (job: Job) => {
    const data = job.attrs.data as Data;
    const attempt = Number(data.attempt ?? 1);
    const retry = async (at: Date) => {
      job.attrs.data = { ...data, attempt: attempt + 1 };
      job.schedule(at);
      await job.save();
    };
    // A one-off job that is done leaves the jobs collection at once: every worker's poll for its
    // name reads all the jobs of that name (FerretDB filters the rest in Go), so finished ones kept
    // for the hourly purge made an idle system's polls cost more with every booking. The message
    // itself is the record; an event handed on again finds it by its dedupe key.
    const done = () => removeDone(job).catch((err: Error) => log.warn({ job: job.attrs.name, err: err.message }, 'finished job not removed; the purge will'));
    try {
      await body(data);
      await done();
    } catch (err) {
      const message = (err as Error).message;
      if (!isFinalAnswer(err) && attempt < MAX_JOB_ATTEMPTS) {
        log.warn({ job: job.attrs.name, attempt, err: message }, 'job will be retried');
        const backoff = new Date(Date.now() + backoffSeconds(attempt) * 1000);
        await retry(err instanceof RetryLater && err.retryAt ? err.retryAt : backoff);
        return;
      }
      log.error({ job: job.attrs.name, attempt, err: message }, 'job gave up');
      try {
        await giveUp(data, `Not sent: ${gaveUpAfter(attempt, message)}`);
        await done();
      } catch (failErr) {
        // Not even the failure could be recorded (e.g. the database is away): try it all again later.
        log.error({ job: job.attrs.name, err: (failErr as Error).message }, 'job gave up, failure not recorded; retrying later');
        await retry(new Date(Date.now() + backoffSeconds(MAX_JOB_ATTEMPTS) * 1000));
      }
    }
  };
}

/** What a batch of due reminders needs, read in three calls instead of three per reminder. */
interface Prefetched {
  appointments: Map<string, AppointmentDoc>;
  patients: Map<string, PatientContact>;
  doctors: Map<string, DoctorCard>;
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
    private readonly reminders: ReminderStore,
    /** The Sender for reminders: claims of reminderLeaseMs. */
    private readonly reminderSender: Sender,
  ) {}

  /**
   * The delivery jobs lock no more than they run (`lockLimit` = `concurrency`). Agenda's default
   * (no lock limit) makes a worker lock every due job at each poll while it runs five at a time:
   * with a backlog (e.g. everything that waited while the worker was down) most locks expire
   * before their job's turn, Agenda drops those jobs from its queue unrun and locks them again at
   * the next poll, and on FerretDB, where each lock attempt scans the jobs collection and is not
   * atomic, the overlapping lock rounds lock the same job several times. The backlog then drained
   * at about one job per lock lifetime (issue "Sound under load and faults", point 3).
   */
  async define(): Promise<void> {
    const { agenda, log } = this;
    const delivery = { concurrency: DELIVERY_JOBS_AT_A_TIME, lockLimit: DELIVERY_JOBS_AT_A_TIME, lockLifetime: deliveryLeaseMs(this.cfg) };
    agenda.define(NOTIFY_APPOINTMENT_EVENT, delivery, retrying(log, (d) => this.appointmentEvent(d), (d, reason) => this.appointmentEventFailed(d, reason)));
    agenda.define(NOTIFY_LOW_STOCK, delivery, retrying(log, (d) => this.lowStock(d), (d, reason) => this.lowStockFailed(d, reason)));
    // Due reminders: one job, one worker at a time, a bounded share of its lock per run, so a lock
    // never runs out under a run (70%: sends under way finish after the budget) and another worker
    // takes over a dead one's share one (short) lock lifetime later. A run that stopped with
    // reminders left asks for the next run at once.
    const lease = reminderLeaseMs(this.cfg);
    // No concurrency 1 / lockLimit 1: there is one job document, which a worker cannot run twice at
    // once anyway, and Agenda leaks a slot when a job's final save fails (a busy database): with
    // one slot the worker would never run the job again.
    agenda.define(REMINDERS_DUE_JOB, { lockLifetime: lease }, async (job: Job) => {
      const started = Date.now();
      const { handled, left } = await this.remindersDue(0.7 * lease);
      if (handled) log.info({ handled, left, ms: Date.now() - started }, 'due reminders handled');
      if (left) job.attrs.nextRunAt = new Date();
      else {
        // Next run when the next reminder falls due or may be retried, if that is before the next poll.
        const next = await this.reminders.nextReadyAt().catch((err: Error) => {
          log.warn({ err: err.message }, 'next reminder time not read; polling as usual');
          return null;
        });
        if (next && (!job.attrs.nextRunAt || next.getTime() < job.attrs.nextRunAt.getTime())) job.attrs.nextRunAt = next;
      }
    });
    await agenda.every(`${this.cfg.REMINDER_POLL_SECONDS} seconds`, REMINDERS_DUE_JOB);
    await this.migrateReminderJobs().catch((err: Error) => log.error({ err: err.message }, 'reminder jobs not migrated; the next start tries again'));
    agenda.define(REMINDER_SWEEP_JOB, async () => {
      // The same safety net for messages: one stored but left QUEUED (its job gave up or was lost) goes out now.
      // Reminders overdue for longer than the due poll looks back (days of downtime) are handled here.
      const overdue = async () => this.remindersDue(0.8 * this.cfg.JOB_LOCK_LIFETIME_MS, () => this.reminders.overdue());
      const results = await Promise.allSettled([this.reminderSweep(), this.sender.redeliverStale(), overdue()]);
      for (const r of results) settledValue<unknown>(r);
    });
    await agenda.every('10 minutes', REMINDER_SWEEP_JOB);
    agenda.define(MEDICATION_REMINDERS_JOB, async () => {
      await this.medicationReminders.sweep();
    });
    await agenda.every(`${this.cfg.MEDICATION_REMINDER_EVERY_MINUTES} minutes`, MEDICATION_REMINDERS_JOB);
  }

  /** A notice about an appointment whose job gave up: FAILED with the reason (a stored one keeps its text). */
  async appointmentEventFailed(d: Data, reason: string): Promise<void> {
    const spec = KIND_OF_EVENT[String(d.type)];
    if (!spec) return;
    const a = await this.directory.appointment(String(d.appointmentId));
    await this.sender.fail({ dedupeKey: `event:${String(d.eventId)}`, kind: spec.kind, channel: 'EMAIL', patientId: a?.patientId, message: '(not sent)', appointmentId: String(d.appointmentId) }, reason);
  }

  /**
   * Older installations planned one Agenda job per reminder: those still to run become documents
   * of the reminders collection (kept if one is there already), and all of them are deleted.
   * Idempotent, so several workers starting at once do no harm.
   */
  private async migrateReminderJobs(): Promise<void> {
    // Only those still to run (Agenda's Job reads a missing nextRunAt as "now": ask the database).
    const old = await this.agenda.jobs({ name: REMINDER_JOB, nextRunAt: { $ne: null } });
    for (const job of old) {
      const d = job.attrs.data as Data;
      if (!job.attrs.nextRunAt || typeof d.appointmentId !== 'string' || typeof d.start !== 'string') continue;
      await this.reminders.plan(d.appointmentId, new Date(d.start), String(d.zone ?? this.cfg.CLINIC_TIME_ZONE), job.attrs.nextRunAt, true);
    }
    const deleted = await this.agenda.cancel({ name: REMINDER_JOB });
    if (deleted) this.log.info({ moved: old.length, deleted }, 'reminder jobs moved to the reminders collection');
  }

  private async reminderFailed(d: Data, reason: string): Promise<void> {
    const a = await this.directory.appointment(String(d.appointmentId));
    if (!a || a.status !== 'SCHEDULED' || a.start.toISOString() !== d.start) return; // no reminder was due any more
    const dedupeKey = `reminder:${String(d.appointmentId)}:${String(d.start)}`;
    await this.sender.fail({ dedupeKey, kind: 'APPOINTMENT_REMINDER', channel: 'SMS', patientId: a?.patientId, message: '(not sent)', appointmentId: String(d.appointmentId) }, reason);
  }

  /** The alert could not go out (e.g. accounts unreachable for an hour): one FAILED record for the event, seen by admins. */
  private async lowStockFailed(d: Data, reason: string): Promise<void> {
    await this.sender.fail({ dedupeKey: `lowstock:${String(d.eventId)}`, kind: 'LOW_STOCK_ALERT', channel: 'IN_APP', message: '(not sent)', medicationId: String(d.medicationId) }, reason);
  }

  /** People and facts of one appointment; null (after recording a FAILED notice) when it cannot be sent. */
  private async facts(
    a: AppointmentDoc,
    dedupeKey: string,
    kind: Kind,
    requestId: string,
    pre?: Prefetched,
    knownDoctor?: DoctorCard,
  ): Promise<{ facts: t.VisitFacts; phone: string | null; email: string | null } | null> {
    const [patient, doctor] = pre
      ? [pre.patients.get(a.patientId) ?? null, pre.doctors.get(a.doctorId) ?? null]
      : await Promise.all([this.directory.patient(a.patientId, requestId), knownDoctor ?? this.directory.doctor(a.doctorId, requestId)]);
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

  /**
   * Confirmation, reschedule or cancellation notice; keeps the reminder in step. `d`: the event's
   * {eventId, type, appointmentId, doctorName?, specialty?} (a queued notice or a job of old).
   */
  async appointmentEvent(d: Data, sender: Sender = this.sender): Promise<void> {
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
    // The event names the doctor as the booking saw them (appointments asked doctors then).
    const doctor = typeof d.doctorName === 'string' ? { id: a.doctorId, name: d.doctorName, specialty: String(d.specialty ?? a.specialty) } : undefined;
    const found = await this.facts(a, dedupeKey, spec.kind, requestId, undefined, doctor);
    if (found) {
      const channel = found.email ? 'EMAIL' : 'SMS';
      await sender.send({
        dedupeKey,
        kind: spec.kind,
        channel,
        patientId: a.patientId,
        to: channel === 'EMAIL' ? found.email : found.phone,
        message: spec.render(found.facts),
        appointmentId: String(a._id),
      });
    }
    if (type === 'APPOINTMENT_CANCELLED') await this.reminders.drop(String(a._id));
    else if (a.status === 'SCHEDULED') await this.scheduleReminder(a, found?.facts.zone ?? this.cfg.CLINIC_TIME_ZONE, false);
  }

  /** One pending reminder per appointment; moved when the appointment moves (insertOnly=false). */
  async scheduleReminder(a: AppointmentDoc, zone: string, insertOnly: boolean): Promise<void> {
    const at = t.reminderTime(a.start, zone);
    if (at.getTime() <= Date.now()) return; // booked less than a day ahead: the confirmation says it all
    await this.reminders.plan(String(a._id), a.start, zone, at, insertOnly);
  }

  /**
   * Sends the due reminders (read once per run), REMINDERS_AT_A_TIME at once, until all are done
   * or `budgetMs` is used (`left`: the rest is the next run's); returns how many were handled. Each is
   * deleted once handled: sent, obsolete, or given up and recorded FAILED. Safe to kill at any
   * point and to run on two workers at once: a reminder found again is sent under the same dedupe
   * key, which the Sender stores and delivers once (unique key + claim), and then deleted.
   */
  async remindersDue(budgetMs: number, load: () => Promise<ReminderDoc[]> = () => this.reminders.due()): Promise<{ handled: number; left: boolean }> {
    const deadline = Date.now() + budgetMs;
    const now = Date.now();
    const ready = (await load()).filter((r) => !r.retryAt || r.retryAt.getTime() <= now);
    // From a random place in the list: two runs at once (Agenda's lock is not atomic on FerretDB)
    // then mostly share the work instead of meeting each other's claims on the same reminders.
    const from = Math.floor(Math.random() * ready.length);
    const due = [...ready.slice(from), ...ready.slice(0, from)];
    // Appointments and people are read per REMINDER_BATCH, when the first of the batch needs them.
    const batches = new Map<number, Promise<Prefetched | undefined>>();
    const prefetched = (i: number) => {
      const n = Math.floor(i / REMINDER_BATCH);
      if (!batches.has(n)) {
        const batch = due.slice(n * REMINDER_BATCH, (n + 1) * REMINDER_BATCH);
        batches.set(
          n,
          this.prefetch(batch).catch((err: Error) => {
            this.log.warn({ err: err.message }, 'reminder batch not prefetched; reading one by one');
            return undefined;
          }),
        );
      }
      return batches.get(n)!;
    };
    let handled = 0;
    let left = false;
    await eachLimited(
      due.map((r, i) => ({ r, i })),
      REMINDERS_AT_A_TIME,
      async ({ r, i }) => {
        if (Date.now() >= deadline) {
          left = true;
          return;
        }
        if (await this.handleReminder(r, await prefetched(i))) handled++;
      },
    );
    return { handled, left };
  }

  private async prefetch(batch: ReminderDoc[]): Promise<Prefetched> {
    const appointments = await this.directory.appointments(batch.map((r) => r._id));
    const list = [...appointments.values()];
    const [patients, doctors] = await Promise.all([
      this.directory.patients(list.map((a) => a.patientId), 'reminders-due'),
      this.directory.doctors(list.map((a) => a.doctorId), 'reminders-due'),
    ]);
    return { appointments, patients, doctors };
  }

  /** One due reminder: true when it is done with (and deleted), false when it stays for a later try. */
  private async handleReminder(r: ReminderDoc, pre: Prefetched | undefined): Promise<boolean> {
    const d = { appointmentId: r._id, start: r.start.toISOString() };
    const attempts = r.attempts + 1;
    try {
      await this.reminder(d, pre);
      await this.reminders.done(r);
      return true;
    } catch (err) {
      const message = (err as Error).message;
      if (isFinalAnswer(err) || Date.now() - r.dueAt.getTime() > REMINDER_GIVE_UP_MS) {
        this.log.error({ appointmentId: r._id, attempts, err: message }, 'reminder gave up');
        try {
          await this.reminderFailed(d, `Not sent: ${gaveUpAfter(attempts, message)}`);
          await this.reminders.done(r);
          return true;
        } catch (failErr) {
          this.log.error({ appointmentId: r._id, err: (failErr as Error).message }, 'reminder gave up, failure not recorded; retrying later');
        }
      } else {
        this.log.warn({ appointmentId: r._id, attempts, err: message }, 'reminder will be retried');
      }
      const at = err instanceof RetryLater && err.retryAt ? err.retryAt : new Date(Date.now() + backoffSeconds(attempts) * 1000);
      await this.reminders.failed(r, message, at).catch((e: Error) => this.log.warn({ appointmentId: r._id, err: e.message }, 'reminder failure not counted'));
      return false;
    }
  }

  /** Sends the reminder unless the appointment was cancelled, moved or has begun since it was planned. */
  private async reminder(d: { appointmentId: string; start: string }, pre?: Prefetched): Promise<void> {
    const a = pre ? (pre.appointments.get(d.appointmentId) ?? null) : await this.directory.appointment(d.appointmentId);
    const dedupeKey = `reminder:${d.appointmentId}:${d.start}`;
    if (!a || a.status !== 'SCHEDULED' || a.start.toISOString() !== d.start || a.start.getTime() <= Date.now()) return;
    const found = await this.facts(a, dedupeKey, 'APPOINTMENT_REMINDER', `reminder-${String(a._id)}`, pre);
    if (!found) return;
    await this.reminderSender.send({
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
