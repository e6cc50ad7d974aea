import { Schema, type Connection, type Model } from 'mongoose';

/**
 * Materialised results. Every refresh writes a new generation (`gen`, an ObjectId string, so
 * generations order by time) and then points `runs/current` at it in one write; reports read only
 * the current generation, so a reader never sees half a refresh. Older generations are deleted
 * after the switch. Rows are per calendar day so any date range can be summed from them.
 */
export interface DailyStatusRow {
  gen: string;
  localDate: string;
  doctorId: string;
  specialty: string;
  status: string;
  count: number;
}
export interface DailyConditionRow {
  gen: string;
  localDate: string;
  specialty: string;
  condition: string;
  count: number;
}
export interface DailyPatientRow {
  gen: string;
  localDate: string;
  patientId: string;
  count: number;
}
export interface RunDoc {
  _id: string;
  gen: string;
  computedAt: Date;
  rows: number;
  durationMs: number;
}

const DailyStatusSchema = new Schema<DailyStatusRow>(
  { gen: String, localDate: String, doctorId: String, specialty: String, status: String, count: Number },
  { collection: 'daily_status', versionKey: false },
);
DailyStatusSchema.index({ gen: 1, localDate: 1 });
DailyStatusSchema.index({ gen: 1, doctorId: 1, localDate: 1 });

const DailyConditionSchema = new Schema<DailyConditionRow>(
  { gen: String, localDate: String, specialty: String, condition: String, count: Number },
  { collection: 'daily_conditions', versionKey: false },
);
DailyConditionSchema.index({ gen: 1, localDate: 1 });

const DailyPatientSchema = new Schema<DailyPatientRow>(
  { gen: String, localDate: String, patientId: String, count: Number },
  { collection: 'daily_patients', versionKey: false },
);
DailyPatientSchema.index({ gen: 1, localDate: 1 });

const RunSchema = new Schema<RunDoc>(
  { _id: String, gen: String, computedAt: Date, rows: Number, durationMs: Number },
  { collection: 'runs', versionKey: false },
);

export interface AnalyticsModels {
  DailyStatus: Model<DailyStatusRow>;
  DailyCondition: Model<DailyConditionRow>;
  DailyPatient: Model<DailyPatientRow>;
  Run: Model<RunDoc>;
}

export async function createAnalyticsModels(conn: Connection): Promise<AnalyticsModels> {
  const models = {
    DailyStatus: conn.model<DailyStatusRow>('DailyStatus', DailyStatusSchema),
    DailyCondition: conn.model<DailyConditionRow>('DailyCondition', DailyConditionSchema),
    DailyPatient: conn.model<DailyPatientRow>('DailyPatient', DailyPatientSchema),
    Run: conn.model<RunDoc>('Run', RunSchema),
  };
  await Promise.all([models.DailyStatus.createIndexes(), models.DailyCondition.createIndexes(), models.DailyPatient.createIndexes()]);
  return models;
}
