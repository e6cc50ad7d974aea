import type { Connection, mongo } from 'mongoose';
import type { Config } from '../../platform/config';
import type { AppointmentObservation } from '../../platform/jobNames';
import { appointmentsCollection, type AppointmentDoc } from '../appointments/model';
import type { Folder } from './fold';

const BATCH = 1000;

/**
 * Queues an observation of every appointment as it is now (read-only from the appointments
 * database, as the design allows analytics): for appointments written before analytics listened,
 * or after a restore. Safe beside live changes: each observation carries the appointment's
 * version, and the fold counts only states newer than the one it counted.
 */
export class Backfill {
  private readonly appointments: mongo.Collection<AppointmentDoc>;

  constructor(
    conn: Connection,
    cfg: Config,
    private readonly folder: Folder,
  ) {
    this.appointments = appointmentsCollection(conn, cfg);
  }

  /** Returns how many appointments were queued. */
  async queueAll(): Promise<number> {
    const projection = { localDate: 1, doctorId: 1, specialty: 1, status: 1, patientId: 1, conditions: 1, outboxSeq: 1 };
    let n = 0;
    let batch: AppointmentObservation[] = [];
    for await (const a of this.appointments.find({}, { projection, batchSize: BATCH })) {
      batch.push({
        appointmentId: String(a._id),
        version: a.outboxSeq ?? 0,
        localDate: a.localDate,
        doctorId: a.doctorId,
        specialty: a.specialty,
        status: a.status,
        patientId: a.patientId,
        conditions: a.conditions ?? [],
      });
      n++;
      if (batch.length >= BATCH) {
        await this.folder.observe(...batch);
        batch = [];
      }
    }
    await this.folder.observe(...batch);
    return n;
  }
}
