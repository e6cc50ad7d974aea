import { DateTime } from 'luxon';
import { Types } from 'mongoose';
import type { AppointmentDoc, AppointmentStatus } from '../subgraphs/appointments/model';

/**
 * Synthetic but plausible appointments for the analytics benchmark, generated lazily in batches
 * (never all N in memory) from a seeded PRNG, so every run loads the same distribution.
 *
 * Two years of local dates; a fixed "today" splits past visits (completed, cancelled, no-show)
 * from future bookings (scheduled, a few cancelled), which gives overall ≈ 70% COMPLETED,
 * 10% CANCELLED, 8% NO_SHOW, 12% SCHEDULED. Doctors have uneven workloads, patients visit with a
 * skewed frequency, Sundays are closed and Saturdays quiet. Slots are not checked against each
 * other (`slotKey` is `bench|<_id>`), which the analytics pipelines never look at.
 */
export const FIRST_DAY = '2025-03-01';
export const LAST_DAY = '2027-02-28';
/** Fixed, so the data set does not depend on the day the benchmark runs. */
export const TODAY = '2026-11-28';

export const DOCTOR_COUNT = 50;
export const PATIENT_COUNT = 20_000;

/** Per specialty, the conditions recorded on completed visits, most frequent first. */
export const CONDITIONS: Record<string, string[]> = {
  Cardiology: ['Hypertension', 'Atrial fibrillation', 'Coronary artery disease', 'Heart failure', 'Hyperlipidaemia', 'Chest pain', 'Palpitations'],
  Dermatology: ['Eczema', 'Acne', 'Psoriasis', 'Rosacea', 'Actinic keratosis', 'Urticaria', 'Melanocytic naevus'],
  'General Practice': ['Upper respiratory infection', 'Hypertension', 'Type 2 diabetes', 'Back pain', 'Anxiety', 'Urinary tract infection', 'Gastroenteritis', 'Allergic rhinitis'],
  Neurology: ['Migraine', 'Epilepsy', 'Peripheral neuropathy', 'Parkinson disease', 'Multiple sclerosis', 'Tension headache'],
  Orthopedics: ['Osteoarthritis', 'Low back pain', 'Rotator cuff tear', 'Meniscus tear', 'Carpal tunnel syndrome', 'Fracture follow-up'],
  Pediatrics: ['Otitis media', 'Bronchiolitis', 'Asthma', 'Gastroenteritis', 'Atopic dermatitis', 'Well-child visit'],
  Psychiatry: ['Major depressive disorder', 'Generalised anxiety disorder', 'ADHD', 'Bipolar disorder', 'Insomnia', 'PTSD'],
  Endocrinology: ['Type 2 diabetes', 'Hypothyroidism', 'Type 1 diabetes', 'Hyperthyroidism', 'Osteoporosis', 'Obesity'],
};
export const SPECIALTIES = Object.keys(CONDITIONS);
export const ZONES = ['Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo'];

const REASONS = ['Follow-up', 'Check-up', 'Consultation', 'Test results', 'Prescription renewal', 'New symptoms', 'Second opinion', 'Referral'];
const CANCELLATION_REASONS = ['Patient request', 'Doctor unavailable', 'Rescheduled', 'Feeling better'];
const NOTES = ['Stable, continue current plan.', 'Labs ordered.', 'Medication adjusted.', 'Review in three months.'];

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** Opening hours in the doctor's zone: 08:00 to 18:00 in 15-minute slots. */
const FIRST_SLOT_MINUTE = 8 * 60;
const SLOTS_PER_DAY = 40;
const SLOT_MINUTES = 15;

/** Small, fast, seedable PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function objectIdHex(rand: () => number): string {
  let hex = '';
  for (let i = 0; i < 24; i++) hex += Math.floor(rand() * 16).toString(16);
  return hex;
}

/** Index into `cumulative` (ascending running totals) for a uniform draw. */
function pick(cumulative: Float64Array, rand: () => number): number {
  const x = rand() * cumulative[cumulative.length - 1];
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function cumulate(weights: number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => (out[i] = sum += w));
  return out;
}

export interface BenchDoctor {
  id: string;
  specialty: string;
  timeZone: string;
}

interface Day {
  localDate: string;
  utcMidnight: number;
  future: boolean;
  /** UTC offset in minutes of each zone of ZONES at noon of this day (opening hours never cross a DST switch). */
  offsets: number[];
}

/** The fixed cast (doctors, patients, calendar) the appointments are drawn from. */
export class World {
  readonly doctors: BenchDoctor[];
  readonly patients: string[];
  readonly days: Day[];
  private readonly doctorZone: number[];
  private readonly doctorWeights: Float64Array;
  private readonly dayWeights: Float64Array;
  private readonly conditionWeights = new Map<string, Float64Array>();
  private readonly rand: () => number;

  constructor(seed = 20261128) {
    this.rand = seededRandom(seed);
    const r = this.rand;
    this.doctorZone = [];
    this.doctors = Array.from({ length: DOCTOR_COUNT }, (_, i) => {
      const zone = i % ZONES.length;
      this.doctorZone.push(zone);
      return { id: objectIdHex(r), specialty: SPECIALTIES[i % SPECIALTIES.length], timeZone: ZONES[zone] };
    });
    this.doctorWeights = cumulate(this.doctors.map(() => 0.5 + r()));
    this.patients = Array.from({ length: PATIENT_COUNT }, () => objectIdHex(r));
    this.days = [];
    const weights: number[] = [];
    for (let d = DateTime.fromISO(FIRST_DAY, { zone: 'UTC' }); d.toISODate()! <= LAST_DAY; d = d.plus({ days: 1 })) {
      const localDate = d.toISODate()!;
      this.days.push({
        localDate,
        utcMidnight: d.toMillis(),
        future: localDate > TODAY,
        offsets: ZONES.map((zone) => DateTime.fromObject({ year: d.year, month: d.month, day: d.day, hour: 12 }, { zone }).offset),
      });
      weights.push(d.weekday === 7 ? 0 : d.weekday === 6 ? 0.35 : 1);
    }
    this.dayWeights = cumulate(weights);
    for (const [specialty, list] of Object.entries(CONDITIONS)) this.conditionWeights.set(specialty, cumulate(list.map((_, i) => 1 / (i + 1))));
  }

  private status(future: boolean): AppointmentStatus {
    const x = this.rand();
    if (future) return x < 0.95 ? 'SCHEDULED' : 'CANCELLED';
    return x < 0.8 ? 'COMPLETED' : x < 0.91 ? 'CANCELLED' : 'NO_SHOW';
  }

  private conditions(specialty: string): string[] {
    const list = CONDITIONS[specialty];
    const weights = this.conditionWeights.get(specialty)!;
    const first = list[pick(weights, this.rand)];
    if (this.rand() >= 0.35) return [first];
    const second = list[pick(weights, this.rand)];
    return second === first ? [first] : [first, second];
  }

  /** One appointment, with every field an AppointmentDoc has. */
  appointment(): AppointmentDoc {
    const r = this.rand;
    const d = pick(this.doctorWeights, r);
    const doctor = this.doctors[d];
    const day = this.days[pick(this.dayWeights, r)];
    const minute = FIRST_SLOT_MINUTE + Math.floor(r() * SLOTS_PER_DAY) * SLOT_MINUTES;
    const start = new Date(day.utcMidnight + (minute - day.offsets[this.doctorZone[d]]) * MINUTE_MS);
    const end = new Date(start.getTime() + (r() < 0.7 ? 15 : 30) * MINUTE_MS);
    // Skewed: a few patients come often, most rarely.
    const patientId = this.patients[Math.floor(PATIENT_COUNT * r() ** 1.6)];
    const status = this.status(day.future);
    const createdAt = new Date(start.getTime() - Math.floor(1 + r() * 60) * DAY_MS);
    const updatedAt =
      status === 'SCHEDULED' ? createdAt : status === 'CANCELLED' ? new Date(createdAt.getTime() + Math.floor(r() * (start.getTime() - createdAt.getTime()))) : end;
    const _id = new Types.ObjectId();
    return {
      _id,
      patientId,
      doctorId: doctor.id,
      start,
      end,
      localDate: day.localDate,
      timeZone: doctor.timeZone,
      reason: REASONS[Math.floor(r() * REASONS.length)],
      status,
      cancellationReason: status === 'CANCELLED' ? CANCELLATION_REASONS[Math.floor(r() * CANCELLATION_REASONS.length)] : null,
      conditions: status === 'COMPLETED' ? this.conditions(doctor.specialty) : [],
      notes: status === 'COMPLETED' && r() < 0.4 ? NOTES[Math.floor(r() * NOTES.length)] : null,
      specialty: doctor.specialty,
      slotKey: `bench|${_id.toHexString()}`,
      createdAt,
      updatedAt,
      outbox: [],
      outboxSeq: 0,
      outboxHandled: 0,
      outboxPending: false,
    };
  }

  /** `n` appointments in batches of `size`, built one batch at a time. */
  *batches(n: number, size: number): Generator<AppointmentDoc[]> {
    for (let done = 0; done < n; ) {
      const k = Math.min(size, n - done);
      const batch = new Array<AppointmentDoc>(k);
      for (let i = 0; i < k; i++) batch[i] = this.appointment();
      done += k;
      yield batch;
    }
  }
}
