import DataLoader from 'dataloader';
import { DateTime } from 'luxon';
import { Types } from 'mongoose';
import { Claims, claimsModel } from '../../platform/claim';
import type { SubgraphContext } from '../../platform/context';
import { badInput, conflict, isDuplicateKey, notFound } from '../../platform/errors';
import type { Identity } from '../../platform/identity';
import type { Logger } from '../../platform/logger';
import { IdempotencyKeys, idempotencyModel, keyInProgress } from '../../platform/idempotency';
import { byIdLoader } from '../../platform/loaders';
import { appendEvent, newOutbox, outboxEvent } from '../../platform/outbox';
import { paginate, type Connection } from '../../platform/pagination';
import type { OutboxRelay } from '../../platform/outboxRelay';
import { TOPICS, type Publisher } from '../../platform/pubsub';
import { settledValue } from '../../platform/settled';
import { MAX_SLOT_RANGE_DAYS, slotsBetween, type Slot } from '../../platform/schedule';
import type { AppointmentFilter, BookAppointmentInput } from './__generated__/resolvers-types';
import type { Directory, DoctorInfo } from './directory';
import { appointmentClaimKey, slotKeyOf, type AppointmentDoc, type AppointmentModels, type AppointmentStatus } from './model';
import { withPatientLock } from './patientLock';

export interface Context extends SubgraphContext {
  appointments: AppointmentService;
  loaders: { appointment: DataLoader<string, AppointmentDoc | null> };
}

/** What the fast path of a booking reads of the appointment holding its slot. */
type SlotHolder = { _id: Types.ObjectId; bookingKey?: string | null };

/** Statuses that hold a slot and count for overlaps. */
const ACTIVE: AppointmentStatus = 'SCHEDULED';

/** How a change of one appointment waits for another change of it (see `changing`). */
const CHANGE_LEASE_MS = 10_000;
const CHANGE_WAIT_MS = 1_000;

/** Domain rules of appointments: validated booking, reschedule, cancel, completion, availability. */
export class AppointmentService {
  /** Patient and appointment claims, in the appointments database's `claims` collection. */
  private readonly claims: Claims;
  /** Appointment ids reserved per idempotency key (bookings sent with an Idempotency-Key). */
  readonly keys: IdempotencyKeys;
  /** Slot lookups in flight (see slotHolder). */
  private readonly slotReads = new Map<string, Promise<SlotHolder | null>>();

  constructor(
    private readonly models: AppointmentModels,
    private readonly directory: Directory,
    private readonly log: Logger,
    private readonly live: Publisher,
    private readonly relay: OutboxRelay<AppointmentDoc>,
  ) {
    this.claims = new Claims(claimsModel(models.Appointment.db, 'claims'));
    this.keys = new IdempotencyKeys(idempotencyModel(models.Appointment.db));
  }

  /** Live update for subscribers (router/subscriptions.ts); best effort, never fails the change. */
  private announce(doc: AppointmentDoc, change: string): AppointmentDoc {
    this.live
      .publish(TOPICS.appointmentChanged, { appointmentId: String(doc._id), doctorId: doc.doctorId, patientId: doc.patientId, change })
      .catch((err: Error) => this.log.warn({ err: err.message }, 'live event not published'));
    return doc;
  }

  loaders(): Context['loaders'] {
    return { appointment: byIdLoader(this.models.Appointment) };
  }

  async get(id: string): Promise<AppointmentDoc> {
    const doc = await this.models.Appointment.findById(id).lean<AppointmentDoc>();
    if (!doc) throw notFound('Appointment', id);
    return doc;
  }

  /** Lists what the caller may see: a patient their own, a doctor theirs, staff everything. */
  list(filter: AppointmentFilter | null | undefined, page: { first?: number | null; after?: string | null }, identity: Identity): Promise<Connection<AppointmentDoc>> {
    const q: Record<string, unknown> = {};
    if (filter?.patientId) q.patientId = filter.patientId;
    if (filter?.doctorId) q.doctorId = filter.doctorId;
    if (filter?.status) q.status = filter.status;
    if (filter?.from || filter?.to) q.start = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
    if (identity.role === 'PATIENT') q.patientId = identity.patientId ?? '-';
    if (identity.role === 'DOCTOR') q.doctorId = identity.doctorId ?? '-';
    return paginate(this.models.Appointment, q, '_id', page, -1);
  }

  forPatient(patientId: string, status: AppointmentStatus | null | undefined, page: { first?: number | null; after?: string | null }): Promise<Connection<AppointmentDoc>> {
    return paginate(this.models.Appointment, { patientId, ...(status ? { status } : {}) }, '_id', page, -1);
  }

  async forDoctor(doctorId: string, from: Date, to: Date, status?: AppointmentStatus | null): Promise<AppointmentDoc[]> {
    assertRange(from, to);
    return this.models.Appointment.find({ doctorId, start: { $gte: from, $lt: to }, ...(status ? { status } : {}) })
      .sort({ start: 1 })
      .lean<AppointmentDoc[]>();
  }

  async availableSlots(doctorId: string, from: Date, to: Date, requestId: string): Promise<Slot[]> {
    const doctor = await this.directory.doctor(doctorId, requestId);
    if (!doctor.active) return [];
    const slots = slotsBetween(doctor.weeklySchedule, doctor.timeZone, from, to);
    const booked = await this.models.Appointment.find({ doctorId, status: ACTIVE, start: { $gte: from, $lt: to } }, { start: 1 }).lean();
    const taken = new Set(booked.map((b) => b.start.getTime()));
    return slots.filter((s) => !taken.has(s.start.getTime()));
  }

  doctorTreats(doctorId: string, patientId: string, requestId: string): Promise<boolean> {
    return this.directory.treats(doctorId, patientId, requestId);
  }

  /**
   * The appointment holding a slot (its `slotKey`), if any. Lookups of one slot that overlap in
   * time share one read; an answer is never reused after it arrived (a slot may be freed).
   */
  private slotHolder(slotKey: string): Promise<SlotHolder | null> {
    let pending = this.slotReads.get(slotKey);
    if (!pending) {
      pending = this.models.Appointment.findOne({ slotKey }, { _id: 1, bookingKey: 1 })
        .lean<SlotHolder>()
        .finally(() => this.slotReads.delete(slotKey));
      this.slotReads.set(slotKey, pending);
    }
    return pending;
  }

  // ---- changes -------------------------------------------------------------------------------

  /**
   * Books a slot. With an idempotency key (platform/idempotency.ts) the appointment's id is
   * reserved per key before anything else, so every attempt with the key books under that one
   * id: a retry returns the appointment an earlier attempt saved (also one whose answer never
   * reached the client) instead of CONFLICT, and racing attempts cannot both save (unique `_id`).
   */
  async book(input: BookAppointmentInput, requestId: string, idempotencyKey: string | null = null): Promise<AppointmentDoc> {
    // What doctors and patients announced before this moment counts (their caches, directory.ts).
    const began = performance.now();
    const request = { mutation: 'bookAppointment', patientId: input.patientId, doctorId: input.doctorId, start: input.start, end: input.end, reason: input.reason };
    // A slot that is taken is answered at once, before anything is reserved or asked of other
    // services: under contention (many clients after one slot) the losers cost one shared read.
    assertFutureRange(input.start, input.end);
    const holder = await this.slotHolder(slotKeyOf(input.doctorId, input.start));
    if (holder) {
      // Only a booking made with this key can be this request's own: then (rarely) one more look;
      // also for one saved before appointments kept their booking's key (no `bookingKey` at all).
      const maybeMine = holder.bookingKey === idempotencyKey || holder.bookingKey === undefined;
      const mine = idempotencyKey && maybeMine ? await this.keys.find(idempotencyKey, request) : null;
      const replay = mine?.resultId.equals(holder._id) ? await this.models.Appointment.findById(holder._id).lean<AppointmentDoc>() : null;
      if (replay) return replay;
      throw conflict('That slot has already been booked; please pick another');
    }
    // The key's reservation, the doctor and the patient do not depend on each other: asked at once,
    // and judged in this order (a retry's earlier booking first, then the doctor, then the patient).
    const [reservation, doctorAnswer, patientAnswer] = await Promise.allSettled([
      idempotencyKey ? this.keys.reserve(idempotencyKey, request) : Promise.resolve(null),
      this.directory.activeDoctor(input.doctorId, requestId, began),
      this.directory.assertPatientExists(input.patientId, requestId, began),
    ]);
    const reserved = settledValue(reservation);
    // Only an earlier call with the key can have stored the booking; a fresh reservation has none.
    // (A later call racing this one books under the same id: the unique `_id` or the overlap check meets it.)
    const earlierCall = reserved !== null && !reserved.fresh;
    const bookedBefore = () => (reserved ? this.models.Appointment.findById(reserved.resultId).lean<AppointmentDoc>() : Promise.resolve(null));
    const earlier = earlierCall ? await bookedBefore() : null;
    if (earlier) return earlier;

    const doctor = settledValue(doctorAnswer);
    assertBookableSlot(doctor, input.start, input.end);
    settledValue(patientAnswer);

    // With a key, "busy" must not read as a failure: the attempt holding the patient's lock may be
    // an earlier one with this key, about to save this very booking. A retry with the key is safe.
    const busy = reserved ? () => keyInProgress('booking for this patient') : undefined;
    const booked = await withPatientLock(this.claims, input.patientId, async (): Promise<{ doc: AppointmentDoc; replay: boolean }> => {
      // An earlier attempt with the same key may have saved it while this one waited for the lock.
      const meanwhile = earlierCall ? await bookedBefore() : null;
      if (meanwhile) return { doc: meanwhile, replay: true };
      const clash = await this.overlap(input.patientId, input.start, input.end);
      if (clash && reserved?.resultId.equals(clash._id)) return { doc: clash, replay: true };
      if (clash) throw overlapConflict(clash);
      const _id = reserved?.resultId ?? new Types.ObjectId();
      try {
        const created = await this.models.Appointment.create({
          _id,
          patientId: input.patientId,
          doctorId: input.doctorId,
          start: input.start,
          end: input.end,
          localDate: localDateOf(input.start, doctor.timeZone),
          timeZone: doctor.timeZone,
          reason: input.reason,
          status: ACTIVE,
          conditions: [],
          specialty: doctor.specialty,
          slotKey: slotKeyOf(input.doctorId, input.start),
          bookingKey: idempotencyKey,
          // Handed on durably (notifications, the care relation): saved in the same single-document write.
          ...newOutbox(
            // The doctor's card rides along: notifications need not ask doctors again for the confirmation.
            outboxEvent('APPOINTMENT_BOOKED', { appointmentId: String(_id), doctorName: doctor.name, specialty: doctor.specialty }),
            outboxEvent('CARE_RELATION', { patientId: input.patientId, doctorId: input.doctorId }),
          ),
        });
        return { doc: created.toObject<AppointmentDoc>(), replay: false };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const same = await bookedBefore(); // the duplicate is this key's appointment, saved by another attempt
        if (same) return { doc: same, replay: true };
        throw conflict(`That slot with ${doctor.name} has just been booked; please pick another`);
      }
    }, busy);
    // The attempt that saved it handed its events on (or left them to the relay's sweep).
    if (booked.replay) return booked.doc;
    const { doc } = booked;
    // Hand the events on now: the doctor may see the record right away and the confirmation is
    // queued. Whatever fails here stays in the outbox for the relay's sweep.
    await this.relay.dispatch(doc).catch((err: Error) => this.log.warn({ err: err.message }, 'outbox left to the sweep'));
    return this.announce(doc, 'BOOKED');
  }

  /**
   * Moves a scheduled appointment. With an idempotency key, a retry of a move that was made (its
   * answer lost) finds the appointment carrying the key at the new start and returns it.
   */
  async reschedule(id: string, start: Date, end: Date, requestId: string, changeKey: string | null = null): Promise<AppointmentDoc> {
    const moved = (doc: AppointmentDoc) => changeKey !== null && doc.changeKey === changeKey && doc.status === ACTIVE && doc.start.getTime() === start.getTime();
    const current = await this.get(id);
    if (moved(current)) return current;
    if (current.status !== ACTIVE) throw conflict(`Only a scheduled appointment can be moved; this one is ${current.status.toLowerCase()}`);
    const doctor = await this.directory.activeDoctor(current.doctorId, requestId);
    assertBookableSlot(doctor, start, end);
    return this.changing(id, changeKey, async () => {
      // Read again inside the claim: a change that finished meanwhile counts.
      const latest = await this.get(id);
      if (moved(latest)) return latest;
      if (latest.status !== ACTIVE) throw conflict('The appointment changed meanwhile; reload and try again');
      return withPatientLock(this.claims, latest.patientId, async () => {
        await this.assertNoOverlap(latest.patientId, start, end, latest._id);
        try {
          const doc = await this.models.Appointment.findOneAndUpdate(
            { _id: latest._id, status: ACTIVE },
            appendEvent(outboxEvent('APPOINTMENT_RESCHEDULED', { appointmentId: id, previousStart: latest.start.toISOString(), doctorName: doctor.name, specialty: doctor.specialty }), {
              start,
              end,
              localDate: localDateOf(start, doctor.timeZone),
              slotKey: slotKeyOf(latest.doctorId, start),
              ...(changeKey ? { changeKey } : {}),
            }),
            { returnDocument: 'after' },
          ).lean<AppointmentDoc>();
          if (!doc) throw conflict('The appointment changed meanwhile; reload and try again');
          await this.handOn(doc);
          return this.announce(doc, 'RESCHEDULED');
        } catch (err) {
          if (isDuplicateKey(err)) throw conflict(`That slot with ${doctor.name} is already booked; please pick another`);
          throw err;
        }
      }, changeKey ? () => keyInProgress('change for this patient') : undefined);
    });
  }

  async cancel(id: string, reason: string, changeKey: string | null = null): Promise<AppointmentDoc> {
    return this.transition(id, 'CANCELLED', { cancellationReason: reason, slotKey: `released|${id}` }, 'APPOINTMENT_CANCELLED', changeKey);
  }

  async complete(id: string, conditions: string[], notes: string | null | undefined, changeKey: string | null = null): Promise<AppointmentDoc> {
    await this.assertStarted(id);
    const clean = [...new Set(conditions.map((c) => c.trim()))];
    return this.transition(id, 'COMPLETED', { conditions: clean, ...(notes ? { notes } : {}) }, 'APPOINTMENT_COMPLETED', changeKey);
  }

  async markNoShow(id: string, changeKey: string | null = null): Promise<AppointmentDoc> {
    await this.assertStarted(id);
    return this.transition(id, 'NO_SHOW', {}, 'APPOINTMENT_NO_SHOW', changeKey);
  }

  /**
   * Runs one change of an appointment at a time, also across instances: a short claim on
   * `appointment:<id>` (platform/claim.ts). A conditional update alone does not serialise on
   * FerretDB, where two concurrent cancels could both match `status: SCHEDULED`. A change that
   * stays blocked for CHANGE_WAIT_MS gets CONFLICT, or with an idempotency key the retryable
   * SUBGRAPH_UNAVAILABLE (the change holding the claim may be an earlier attempt with the key).
   */
  private changing<T>(id: string, changeKey: string | null, work: () => Promise<T>): Promise<T> {
    const busy = changeKey ? () => keyInProgress('change of this appointment') : () => conflict('The appointment is being changed; please try again');
    return this.claims.withClaim(appointmentClaimKey(id), { leaseMs: CHANGE_LEASE_MS, waitMs: CHANGE_WAIT_MS, busy }, work);
  }

  /**
   * Hands the change's events on while the change still holds the appointment's claim: the relay
   * marks them handled with another write to the same document, and on FerretDB a write that
   * overlaps the next change could undo it. Whatever fails stays in the outbox for the sweep.
   */
  private async handOn(doc: AppointmentDoc): Promise<void> {
    await this.relay.dispatch(doc).catch((err: Error) => this.log.warn({ err: err.message }, 'outbox left to the sweep'));
  }

  /**
   * SCHEDULED → `to`. With an idempotency key the change records it (`changeKey`), and a retry of
   * a change that was made (its answer lost) returns the appointment instead of "already …".
   */
  private transition(id: string, to: AppointmentStatus, set: Record<string, unknown>, event: string, changeKey: string | null): Promise<AppointmentDoc> {
    return this.changing(id, changeKey, async () => {
      // Read inside the claim: the status a concurrent change left behind is the one that counts.
      const current = await this.get(id);
      if (changeKey && current.changeKey === changeKey && current.status === to) return current;
      if (current.status !== ACTIVE) throw already(current.status);
      const doc = await this.models.Appointment.findOneAndUpdate(
        { _id: current._id, status: ACTIVE },
        appendEvent(outboxEvent(event, { appointmentId: id }), { status: to, ...set, ...(changeKey ? { changeKey } : {}) }),
        { returnDocument: 'after' },
      ).lean<AppointmentDoc>();
      if (!doc) throw already((await this.get(id)).status);
      await this.handOn(doc);
      return this.announce(doc, to);
    });
  }

  private async assertStarted(id: string): Promise<void> {
    const current = await this.get(id);
    if (current.start.getTime() > Date.now()) throw conflict('The visit has not started yet');
  }

  private async assertNoOverlap(patientId: string, start: Date, end: Date, except?: Types.ObjectId): Promise<void> {
    const clash = await this.overlap(patientId, start, end, except);
    if (clash) throw overlapConflict(clash);
  }

  /** A scheduled appointment of the patient overlapping [start, end), if any. */
  private overlap(patientId: string, start: Date, end: Date, except?: Types.ObjectId): Promise<AppointmentDoc | null> {
    return this.models.Appointment.findOne({
      patientId,
      status: ACTIVE,
      start: { $lt: end },
      end: { $gt: start },
      ...(except ? { _id: { $ne: except } } : {}),
    }).lean<AppointmentDoc>();
  }
}

function overlapConflict(clash: AppointmentDoc): Error {
  return conflict(`The patient already has an appointment from ${clash.start.toISOString()} to ${clash.end.toISOString()}`);
}

function already(status: AppointmentStatus): Error {
  return conflict(`The appointment is already ${status.toLowerCase().replace('_', '-')}`);
}

function assertRange(from: Date, to: Date): void {
  if (to.getTime() <= from.getTime()) throw badInput('`to` must be after `from`', 'to');
  if (to.getTime() - from.getTime() > MAX_SLOT_RANGE_DAYS * 86_400_000) throw badInput(`from and to may be at most ${MAX_SLOT_RANGE_DAYS} days apart`, 'to');
}

/** The appointment must end after it starts and start in the future. */
function assertFutureRange(start: Date, end: Date): void {
  if (end.getTime() <= start.getTime()) throw badInput('end must be after start', 'end');
  if (start.getTime() <= Date.now()) throw badInput('The appointment must start in the future', 'start');
}

/** The slot must be in the future and be exactly one slot of the doctor's weekly schedule. */
function assertBookableSlot(doctor: DoctorInfo, start: Date, end: Date): void {
  assertFutureRange(start, end);
  const dayBefore = new Date(start.getTime() - 86_400_000);
  const match = slotsBetween(doctor.weeklySchedule, doctor.timeZone, dayBefore, new Date(end.getTime() + 86_400_000), start).find(
    (s) => s.start.getTime() === start.getTime() && s.end.getTime() === end.getTime(),
  );
  if (!match) {
    const local = DateTime.fromJSDate(start, { zone: doctor.timeZone }).toFormat("cccc HH:mm '('ZZZZ')'");
    throw badInput(`${local} to ${DateTime.fromJSDate(end, { zone: doctor.timeZone }).toFormat('HH:mm')} is not one of ${doctor.name}'s slots`, 'start');
  }
}

function localDateOf(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toISODate() ?? '';
}
