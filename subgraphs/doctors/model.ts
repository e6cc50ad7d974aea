import { Schema, type Connection, type Model, type Types } from 'mongoose';

import { WEEKDAYS, type ScheduleWindowDoc } from '../../platform/schedule';

export type { ScheduleWindowDoc };

export interface DoctorDoc {
  _id: Types.ObjectId;
  firstName: string;
  lastName: string;
  sortKey: string;
  specialty: string;
  email?: string | null;
  phone?: string | null;
  timeZone: string;
  weeklySchedule: ScheduleWindowDoc[];
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export function doctorSortKey(firstName: string, lastName: string): string {
  return `${lastName} ${firstName}`.toLowerCase();
}

const ScheduleWindowSchema = new Schema<ScheduleWindowDoc>(
  {
    weekday: { type: String, required: true, enum: WEEKDAYS },
    start: { type: String, required: true, match: /^\d\d:\d\d$/ },
    end: { type: String, required: true, match: /^\d\d:\d\d$/ },
    slotMinutes: { type: Number, required: true, min: 5, max: 480 },
  },
  { _id: false },
);

const DoctorSchema = new Schema<DoctorDoc>(
  {
    firstName: { type: String, required: true, trim: true },
    lastName: { type: String, required: true, trim: true },
    sortKey: { type: String, required: true },
    specialty: { type: String, required: true, trim: true },
    email: { type: String, lowercase: true, trim: true },
    phone: { type: String },
    timeZone: { type: String, required: true },
    weeklySchedule: { type: [ScheduleWindowSchema], default: [] },
    active: { type: Boolean, required: true, default: true },
  },
  { timestamps: true, collection: 'doctors' },
);
DoctorSchema.index({ sortKey: 1, _id: 1 });
DoctorSchema.index({ specialty: 1, active: 1 });

export interface DoctorModels {
  Doctor: Model<DoctorDoc>;
}

export async function createDoctorModels(conn: Connection): Promise<DoctorModels> {
  const Doctor = conn.model<DoctorDoc>('Doctor', DoctorSchema);
  await Doctor.createIndexes();
  return { Doctor };
}
