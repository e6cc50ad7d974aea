import { Types, type Model } from 'mongoose';
import { Claims } from '../../platform/claim';
import { conflict, isDuplicateKey } from '../../platform/errors';
import { appointmentChange, type AppointmentChange, type AppointmentFacts, type AppointmentObservation } from '../../platform/jobNames';
import type { Queue } from '../../platform/queue';
import { inParallel, READS } from './inParallel';
import type { AnalyticsModels, ConditionDayCount, DeltaDoc, DoctorDayCount, RunDoc, StagedChangeDoc } from './model';

/** Changes folded per batch: bounds the batch's `$group` (FerretDB's cost grows with rows × groups). */
export const DEFAULT_BATCH = 1000;
const RUN_LEASE_MS = 15 * 60_000;

/**
 * The aggregation pipelines of a batch, run over the batch's deltas only (a few thousand rows,
 * whatever the size of the clinic). Only stages and accumulators MongoDB 7 and FerretDB 1.24 both
 * have: $match, $group, $sum. Conditions are grouped by the whole list and split when applied,
 * because FerretDB's $unwind drops the document's other fields.
 */
export const PIPELINES = {
  status: [{ $group: { _id: { localDate: '$localDate', doctorId: '$doctorId', specialty: '$specialty', status: '$status' }, n: { $sum: '$sign' } } }],
  conditions: [
    { $match: { status: 'COMPLETED', 'conditions.0': { $exists: true } } },
    { $group: { _id: { localDate: '$localDate', specialty: '$specialty', conditions: '$conditions' }, n: { $sum: '$sign' } } },
  ],
  patients: [{ $group: { _id: { patientId: '$patientId', localDate: '$localDate' }, n: { $sum: '$sign' } } }],
};

type Grouped<K> = { _id: K; n: number };

async function insertIgnoringDuplicates<T>(model: Model<T>, docs: T[]): Promise<void> {
  if (!docs.length) return;
  try {
    await model.insertMany(docs, { ordered: false });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

const factsOf = (o: AppointmentFacts): AppointmentFacts => ({
  localDate: o.localDate,
  doctorId: o.doctorId,
  specialty: o.specialty,
  status: o.status,
  patientId: o.patientId,
  conditions: o.conditions ?? [], // FerretDB's upsert may drop an empty array
});

const WRITES = 4;

/** Adds `n` to the entry `same` finds, creating or dropping it as the count requires. */
function addTo<E extends { n: number }>(list: E[], same: (e: E) => boolean, entry: E): E[] {
  const i = list.findIndex(same);
  if (i < 0) return entry.n ? [...list, entry] : list;
  const n = list[i].n + entry.n;
  return n ? list.map((e, j) => (j === i ? { ...e, n } : e)) : list.filter((_e, j) => j !== i);
}

/**
 * The scheduled job: counts the queued changes, a batch at a time, one run at a time cluster-wide
 * (a claim; it is also an Agenda job). It is the only writer of facts, days and patient_days.
 *
 * A batch, so that a run stopped anywhere repeats exactly (nothing counted twice or lost):
 *  1. stage: move up to `batchSize` changes from the queue into `fold_staged` (a resumed run
 *     finds its batch still there);
 *  2. compute: compare each appointment's newest observation with its counted facts (older and
 *     repeated observations count nothing) and write the deltas, ids fixed by batch and
 *     appointment; then mark the batch `computed`;
 *  3. apply: the facts become the new states; the pipelines group the deltas; each day and patient
 *     document takes the sums unless it already carries this batch's id;
 *  4. clean up the batch.
 */
export class Folder {
  /** @param queue the changes to count: filled by the appointments outbox and by the backfill. */
  constructor(
    private readonly models: AnalyticsModels,
    private readonly queue: Queue<AppointmentChange>,
    private readonly claims: Claims,
    private readonly batchSize = DEFAULT_BATCH,
  ) {}

  /** Queues observations (the backfill's, a test's). Repeats are ignored. */
  async observe(...list: AppointmentObservation[]): Promise<void> {
    await this.queue.push(...list.map(appointmentChange));
  }

  /**
   * Folds what is queued, one batch after the other, until the queue is empty or a third of the
   * claim's lease is used (the rest waits for the next run, so a run never outlives its claim).
   */
  run(): Promise<RunDoc> {
    return this.claims.withClaim(
      'analytics-refresh',
      { leaseMs: RUN_LEASE_MS, waitMs: 60_000, busy: () => conflict('An analytics run is already going on; try again in a minute') },
      () => this.foldAll(),
    );
  }

  private async foldAll(): Promise<RunDoc> {
    const started = Date.now();
    let changes = 0;
    let rows = 0;
    while (Date.now() - started < RUN_LEASE_MS / 3) {
      const staged = await this.stage();
      if (!staged.length) break;
      rows += await this.foldBatch(staged);
      changes += staged.length;
    }
    const run = { computedAt: new Date(), changes, rows, durationMs: Date.now() - started, pendingBatch: null, phase: null };
    await this.models.Run.updateOne({ _id: 'current' }, { $set: run }, { upsert: true });
    return { _id: 'current', ...run };
  }

  /** The batch to work on: the one left by an interrupted run, else the next from the queue. */
  private async stage(): Promise<StagedChangeDoc[]> {
    const { Staged } = this.models;
    let staged = await Staged.find().lean<StagedChangeDoc[]>();
    if (!staged.length) {
      const next = await this.queue.peek(this.batchSize);
      if (!next.length) return [];
      const batch = new Types.ObjectId().toHexString();
      await insertIgnoringDuplicates(Staged, next.map((c) => ({ ...c, batch })));
      staged = await Staged.find().lean<StagedChangeDoc[]>();
    }
    // The staged changes leave the queue, in one command (it scans the queue on FerretDB, which
    // is only as long as the changes not counted yet).
    await this.queue.remove(staged.map((c) => c._id));
    return staged;
  }

  private async foldBatch(staged: StagedChangeDoc[]): Promise<number> {
    const { Run, Delta, Facts, Staged } = this.models;
    const batch = staged[0].batch;
    const run = await Run.findById('current').lean<RunDoc>();
    if (run?.pendingBatch !== batch || run.phase !== 'computed') {
      await Delta.deleteMany({}); // deltas of an interrupted computation are recomputed identically
      await insertIgnoringDuplicates(Delta, await this.compute(batch, staged));
      await Run.updateOne({ _id: 'current' }, { $set: { pendingBatch: batch, phase: 'computed' } }, { upsert: true });
    }
    // The facts become the states entered: new appointments in one insert, the others one by one.
    const deltas = await Delta.find().lean<DeltaDoc[]>();
    const left = new Set(deltas.filter((d) => d.sign === -1).map((d) => d.appointmentId));
    const entered = deltas.filter((d) => d.sign === 1).map((d) => ({ _id: d.appointmentId, version: d.version, ...factsOf(d) }));
    await insertIgnoringDuplicates(Facts, entered.filter((f) => !left.has(f._id)));
    await inParallel(
      entered.filter((f) => left.has(f._id)),
      WRITES,
      (f) => Facts.replaceOne({ _id: f._id }, f, { upsert: true }),
    );
    const rows = await this.apply(batch);
    await Delta.deleteMany({});
    await Staged.deleteMany({});
    await Run.updateOne({ _id: 'current' }, { $set: { pendingBatch: null, phase: null } });
    return rows;
  }

  /** Deltas of the batch: for each appointment, its newest observation against what was counted. */
  private async compute(batch: string, staged: StagedChangeDoc[]): Promise<DeltaDoc[]> {
    const newest = new Map<string, StagedChangeDoc>();
    for (const c of staged) if ((newest.get(c.appointmentId)?.version ?? -1) < c.version) newest.set(c.appointmentId, c);
    const observed = [...newest.values()];
    const countedAll = await inParallel(observed, READS, (o) => this.models.Facts.findById(o.appointmentId).lean<AppointmentFacts & { version: number }>());
    const deltas: DeltaDoc[] = [];
    for (const [i, obs] of observed.entries()) {
      const counted = countedAll[i];
      if (counted && counted.version >= obs.version) continue; // older or repeated
      const delta = (sign: 1 | -1, f: AppointmentFacts, version: number): DeltaDoc => ({
        _id: `${batch}:${obs.appointmentId}:${sign}`,
        batch,
        appointmentId: obs.appointmentId,
        version,
        sign,
        ...factsOf(f),
      });
      if (counted) deltas.push(delta(-1, counted, counted.version));
      deltas.push(delta(1, obs, obs.version));
    }
    return deltas;
  }

  /** Runs the pipelines over the batch's deltas and adds the sums to the day and patient documents. */
  private async apply(batch: string): Promise<number> {
    const { Delta, Day, PatientDays } = this.models;
    const status = await Delta.aggregate<Grouped<{ localDate: string; doctorId: string; specialty: string; status: string }>>(PIPELINES.status);
    const conditions = await Delta.aggregate<Grouped<{ localDate: string; specialty: string; conditions: string[] }>>(PIPELINES.conditions);
    const patients = await Delta.aggregate<Grouped<{ patientId: string; localDate: string }>>(PIPELINES.patients);

    const days = new Map<string, { doctors: DoctorDayCount[]; conditions: ConditionDayCount[] }>();
    const day = (d: string) => days.get(d) ?? days.set(d, { doctors: [], conditions: [] }).get(d)!;
    for (const g of status) if (g.n) day(g._id.localDate).doctors.push({ doctorId: g._id.doctorId, specialty: g._id.specialty, status: g._id.status, n: g.n });
    for (const g of conditions) for (const condition of g._id.conditions) if (g.n) day(g._id.localDate).conditions.push({ specialty: g._id.specialty, condition, n: g.n });

    const dayWrites = await this.mergeInto(Day, [...days.keys()], batch, (id, doc) => {
      const add = days.get(id)!;
      let doctors = doc?.doctors ?? [];
      for (const e of add.doctors) doctors = addTo(doctors, (x) => x.doctorId === e.doctorId && x.specialty === e.specialty && x.status === e.status, e);
      let conds = doc?.conditions ?? [];
      for (const e of add.conditions) conds = addTo(conds, (x) => x.specialty === e.specialty && x.condition === e.condition, e);
      return { _id: id, doctors, conditions: conds, lastBatch: batch };
    });

    const byPatient = new Map<string, { d: string; n: number }[]>();
    for (const g of patients) if (g.n) byPatient.set(g._id.patientId, [...(byPatient.get(g._id.patientId) ?? []), { d: g._id.localDate, n: g.n }]);
    const patientWrites = await this.mergeInto(PatientDays, [...byPatient.keys()], batch, (id, doc) => {
      let visits = doc?.visits ?? [];
      for (const e of byPatient.get(id)!) visits = addTo(visits, (x) => x.d === e.d, e);
      visits.sort((a, b) => a.d.localeCompare(b.d));
      const dates = visits.map((v) => v.d);
      return { _id: id, visits, days: dates, months: [...new Set(dates.map((d) => d.slice(0, 7)))], lastBatch: batch };
    });
    return dayWrites + patientWrites;
  }

  /**
   * Reads the documents `ids` of `model` and writes `next(id, current)` in place of each, except
   * those that already carry `batch` (applied before an interrupted run stopped): new documents in
   * one insert, changed ones one by one. Returns how many it wrote.
   */
  private async mergeInto<D extends { _id: string; lastBatch: string }>(model: Model<D>, ids: string[], batch: string, next: (id: string, current: D | null) => D): Promise<number> {
    const current = await inParallel(ids, READS, (id) => model.findById(id).lean<D>());
    const created: D[] = [];
    const changed: D[] = [];
    ids.forEach((id, i) => {
      const doc = current[i];
      if (doc?.lastBatch === batch) return;
      (doc ? changed : created).push(next(id, doc));
    });
    await insertIgnoringDuplicates(model, created);
    await inParallel(changed, WRITES, (d) => model.replaceOne({ _id: d._id }, d));
    return created.length + changed.length;
  }
}
