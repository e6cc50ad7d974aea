import { Types, type Connection, type Model, type mongo } from 'mongoose';
import { dbName, type Config } from '../../platform/config';
import type { AppointmentDoc } from '../appointments/model';
import { Claims, claimsModel } from '../../platform/claim';
import { conflict } from '../../platform/errors';
import type { AnalyticsModels, DailyConditionRow, DailyPatientRow, DailyStatusRow, RunDoc } from './model';

const BATCH = 1000;

/**
 * The aggregation pipelines, run against the appointments collection (read-only, as the design
 * allows for analytics). Only stages and accumulators that MongoDB 7 and FerretDB 1.24 both have:
 * $match and $group with $sum. They group on fields stored at booking time (`localDate`,
 * `specialty`), so nothing is computed per document in JavaScript.
 */
export const PIPELINES = {
  dailyStatus: [{ $group: { _id: { localDate: '$localDate', doctorId: '$doctorId', specialty: '$specialty', status: '$status' }, count: { $sum: 1 } } }],
  // Grouped by the whole list of conditions, which is split per condition when materialised:
  // FerretDB 1.24's $unwind drops every other field of the document (localDate, specialty).
  dailyConditions: [
    { $match: { status: 'COMPLETED', 'conditions.0': { $exists: true } } },
    { $group: { _id: { localDate: '$localDate', specialty: '$specialty', conditions: '$conditions' }, count: { $sum: 1 } } },
  ],
  dailyPatients: [{ $group: { _id: { localDate: '$localDate', patientId: '$patientId' }, count: { $sum: 1 } } }],
};

type Grouped<K> = { _id: K; count: number };

export class Refresher {
  private readonly appointments: mongo.Collection<AppointmentDoc>;

  private readonly claims: Claims;

  constructor(
    conn: Connection,
    cfg: Config,
    private readonly models: AnalyticsModels,
  ) {
    this.appointments = conn.useDb(dbName(cfg, 'appointments'), { useCache: true }).db!.collection<AppointmentDoc>('appointments');
    this.claims = new Claims(claimsModel(conn));
  }

  /** Streams one pipeline's groups into a materialised collection, in batches. */
  private async materialise<K, R>(pipeline: object[], target: Model<R>, toRows: (g: Grouped<K>) => R[]): Promise<number> {
    let batch: R[] = [];
    let n = 0;
    for await (const g of this.appointments.aggregate<Grouped<K>>(pipeline, { allowDiskUse: true, batchSize: BATCH })) {
      batch.push(...toRows(g));
      if (batch.length >= BATCH) {
        await target.insertMany(batch, { ordered: false });
        n += batch.length;
        batch = [];
      }
    }
    if (batch.length) await target.insertMany(batch, { ordered: false });
    return n + batch.length;
  }

  /**
   * One full refresh. Runs never overlap, cluster-wide (a claim; the scheduled job is also an
   * Agenda job that runs once), so the newest generation is always the one switched to.
   */
  run(): Promise<RunDoc> {
    return this.claims.withClaim(
      'analytics-refresh',
      { leaseMs: 15 * 60_000, waitMs: 60_000, busy: () => conflict('An analytics refresh is already running; try again in a minute') },
      () => this.refreshNow(),
    );
  }

  /** New generation, switch, delete older generations. Idempotent. */
  private async refreshNow(): Promise<RunDoc> {
    const started = Date.now();
    const gen = new Types.ObjectId().toHexString();
    const { DailyStatus, DailyCondition, DailyPatient, Run } = this.models;
    let rows = 0;
    rows += await this.materialise<{ localDate: string; doctorId: string; specialty: string; status: string }, DailyStatusRow>(PIPELINES.dailyStatus, DailyStatus, (g) => [{ gen, ...g._id, count: g.count }]);
    rows += await this.materialise<{ localDate: string; specialty: string; conditions: string[] }, DailyConditionRow>(PIPELINES.dailyConditions, DailyCondition, (g) =>
      g._id.conditions.map((condition) => ({ gen, localDate: g._id.localDate, specialty: g._id.specialty, condition, count: g.count })),
    );
    rows += await this.materialise<{ localDate: string; patientId: string }, DailyPatientRow>(PIPELINES.dailyPatients, DailyPatient, (g) => [{ gen, ...g._id, count: g.count }]);
    const run: RunDoc = { _id: 'current', gen, computedAt: new Date(), rows, durationMs: Date.now() - started };
    await Run.replaceOne({ _id: 'current' }, run, { upsert: true });
    const older = { gen: { $lt: gen } };
    await Promise.all([DailyStatus.deleteMany(older), DailyCondition.deleteMany(older), DailyPatient.deleteMany(older)]);
    return run;
  }
}
