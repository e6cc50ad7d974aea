import type { Connection, Model, mongo } from 'mongoose';
import type { Config } from '../../platform/config';
import type { AppointmentObservation } from '../../platform/jobNames';
import { appointmentsCollection, observationOf, type AppointmentDoc } from '../appointments/model';
import type { Folder } from './fold';
import type { RunDoc } from './model';

const BATCH = 1000;

/**
 * Counts every appointment as it is now, read from the appointments database (read-only, as the
 * design allows analytics): on a new installation, one upgraded from full recomputes, or after a
 * restore. Safe beside live changes: each observation carries the appointment's version, and the
 * fold counts only states newer than the one it counted.
 *
 * It queues one batch and folds it before reading the next, so the queue never holds more than a
 * batch or two: taking a batch off the queue is one `$in` delete, which FerretDB answers by
 * scanning the queue. Stopped halfway, it starts over on the next run (what it counted already
 * counts nothing twice) until it has reached the end once.
 */
export class Backfill {
  private readonly appointments: mongo.Collection<AppointmentDoc>;

  constructor(
    conn: Connection,
    cfg: Config,
    private readonly folder: Folder,
    private readonly runs: Model<RunDoc>,
    private readonly batchSize = BATCH,
  ) {
    this.appointments = appointmentsCollection(conn, cfg);
  }

  /** True once a backfill has reached the end. */
  async done(): Promise<boolean> {
    return Boolean(await this.runs.exists({ _id: 'current', backfilledAt: { $ne: null } }));
  }

  /**
   * Counts every appointment; `progress` is called after each batch (the scheduled job renews its
   * lock there). Returns the runs' totals.
   */
  async run(progress: () => Promise<void> = async () => undefined): Promise<RunDoc> {
    const started = Date.now();
    const projection = { localDate: 1, doctorId: 1, specialty: 1, status: 1, patientId: 1, conditions: 1, outboxSeq: 1 };
    let changes = 0;
    let rows = 0;
    let batch: AppointmentObservation[] = [];
    const fold = async () => {
      await this.folder.observe(...batch);
      batch = [];
      const run = await this.folder.run();
      changes += run.changes;
      rows += run.rows;
      await progress();
    };
    for await (const a of this.appointments.find({}, { projection, batchSize: this.batchSize })) {
      batch.push(observationOf(a));
      if (batch.length >= this.batchSize) await fold();
    }
    await fold();
    const backfilledAt = new Date();
    await this.runs.updateOne({ _id: 'current' }, { $set: { backfilledAt } });
    const last = (await this.runs.findById('current').lean<RunDoc>())!;
    return { ...last, changes, rows, durationMs: Date.now() - started, backfilledAt };
  }
}
