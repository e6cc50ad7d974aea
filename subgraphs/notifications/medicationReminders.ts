import { DateTime } from 'luxon';
import { Types, type Connection, type mongo } from 'mongoose';
import { dbName, type Config } from '../../platform/config';
import type { MedicationDoc, PrescriptionDoc } from '../medications/model';
import type { Directory } from './directory';
import { RetryLater, type Sender } from './sender';
import { medicationReminder } from './templates';

/** Doses a day read from the prescription's free-text frequency ("twice daily", "every 8 hours", "3x"). */
export function dosesPerDay(frequency: string): number {
  const f = frequency.toLowerCase();
  const every = /every\s+(\d+)\s*h/.exec(f);
  if (every) return Math.max(1, Math.min(6, Math.floor(24 / Number(every[1]))));
  if (/four|4\s*x|qid/.test(f)) return 4;
  if (/three|thrice|3\s*x|tid/.test(f)) return 3;
  if (/twice|two|2\s*x|bid/.test(f)) return 2;
  return 1;
}

/** Local dose times: spread over the waking day, 08:00 to 20:00. */
export function doseTimes(doses: number): string[] {
  if (doses === 1) return ['08:00'];
  const step = (12 * 60) / (doses - 1);
  return Array.from({ length: doses }, (_v, i) => {
    const m = Math.round(8 * 60 + i * step);
    return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  });
}

/**
 * Medication reminders for active prescriptions, per their frequency, in the patient's zone. A
 * sweep sends each dose's reminder that fell due within the last `windowMinutes`; the dedupe key
 * (prescription, local date and time) makes every dose's reminder go out once, however often
 * and on however many workers the sweep runs. Reads the medications service's collections
 * (read-only), as the design allows for reminders.
 */
export class MedicationReminders {
  private readonly prescriptions: mongo.Collection<PrescriptionDoc>;
  private readonly medications: mongo.Collection<MedicationDoc>;

  constructor(
    conn: Connection,
    private readonly cfg: Config,
    private readonly directory: Directory,
    private readonly sender: Sender,
  ) {
    const db = conn.useDb(dbName(cfg, 'medications'), { useCache: true }).db!;
    this.prescriptions = db.collection<PrescriptionDoc>('prescriptions');
    this.medications = db.collection<MedicationDoc>('medications');
  }

  async sweep(now = new Date(), windowMinutes = 60): Promise<number> {
    const active = await this.prescriptions.find({ status: 'ACTIVE', fillsRemaining: { $gte: 0 } }).limit(10_000).toArray();
    if (active.length === 0) return 0;
    const zones = await this.directory.patientZones(active.map((p) => p.patientId), 'medication-reminders');
    const meds = new Map(
      (await this.medications.find({ _id: { $in: [...new Set(active.map((p) => p.medicationId))].map((id) => new Types.ObjectId(id)) } }).toArray()).map((m) => [String(m._id), m]),
    );
    const med = (p: PrescriptionDoc) => meds.get(p.medicationId);
    let sent = 0;
    for (const p of active) {
      const zone = zones.get(p.patientId) ?? this.cfg.CLINIC_TIME_ZONE;
      const local = DateTime.fromJSDate(now, { zone });
      const today = local.toISODate()!;
      if (p.startDate > today || (p.endDate && p.endDate < today)) continue;
      for (const time of doseTimes(dosesPerDay(p.frequency))) {
        const due = DateTime.fromISO(`${today}T${time}`, { zone });
        const late = local.diff(due, 'minutes').minutes;
        if (late < 0 || late > windowMinutes) continue;
        try {
          if (await this.remind(p, med(p), today, time)) sent++;
        } catch (err) {
          // One busy or unreachable record must not stop the sweep; the next sweep retries it.
          if (!(err instanceof RetryLater) && (err as { extensions?: { code?: string } }).extensions?.code !== 'SUBGRAPH_UNAVAILABLE') throw err;
        }
      }
    }
    return sent;
  }

  private async remind(p: PrescriptionDoc, med: MedicationDoc | undefined, today: string, time: string): Promise<boolean> {
    const contact = await this.directory.patient(p.patientId, 'medication-reminders');
    const dedupeKey = `medication:${String(p._id)}:${today}T${time}`;
    if (!contact) {
      await this.sender.fail({ dedupeKey, kind: 'MEDICATION_REMINDER', channel: 'SMS', patientId: p.patientId, message: '(not sent)', prescriptionId: String(p._id) }, 'The patient record no longer exists');
      return false;
    }
    await this.sender.send({
      dedupeKey,
      kind: 'MEDICATION_REMINDER',
      channel: 'SMS',
      patientId: p.patientId,
      to: contact.phone,
      message: medicationReminder({ firstName: contact.firstName, medication: med ? `${med.name} ${med.strength}` : 'medication', dosage: p.dosage, clinic: this.cfg.CLINIC_NAME }),
      prescriptionId: String(p._id),
      medicationId: p.medicationId,
    });
    return true;
  }
}
