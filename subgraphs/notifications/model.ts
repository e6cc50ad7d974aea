import { Schema, type Connection, type Model, type Types } from 'mongoose';

export const CHANNELS = ['SMS', 'EMAIL', 'IN_APP'] as const;
export type Channel = (typeof CHANNELS)[number];
export const KINDS = [
  'APPOINTMENT_CONFIRMED',
  'APPOINTMENT_RESCHEDULED',
  'APPOINTMENT_CANCELLED',
  'APPOINTMENT_REMINDER',
  'MEDICATION_REMINDER',
  'LOW_STOCK_ALERT',
] as const;
export type Kind = (typeof KINDS)[number];
export type Status = 'QUEUED' | 'SENT' | 'FAILED';

export interface NotificationDoc {
  _id: Types.ObjectId;
  /** What makes it unique: `event:<outbox event id>`, `reminder:<appointment>:<start>`, … */
  dedupeKey: string;
  kind: Kind;
  channel: Channel;
  patientId?: string | null;
  userId?: string | null;
  /** Phone or email the message went to (none for IN_APP). */
  to?: string | null;
  message: string;
  status: Status;
  attempts: number;
  /** Deliveries that reached the channel: 1 for a message sent once. */
  deliveries: number;
  /** A worker delivering it holds it until then (crash recovery). */
  claimedUntil: Date;
  /** Which attempt holds it (a random id per attempt); only the holder finishes it. */
  claimHolder?: string | null;
  failureReason?: string | null;
  sentAt?: Date | null;
  readAt?: Date | null;
  appointmentId?: string | null;
  prescriptionId?: string | null;
  medicationId?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const NotificationSchema = new Schema<NotificationDoc>(
  {
    dedupeKey: { type: String, required: true },
    kind: { type: String, required: true, enum: KINDS },
    channel: { type: String, required: true, enum: CHANNELS },
    patientId: { type: String },
    userId: { type: String },
    to: { type: String },
    message: { type: String, required: true },
    status: { type: String, required: true, enum: ['QUEUED', 'SENT', 'FAILED'] },
    attempts: { type: Number, required: true, default: 0 },
    deliveries: { type: Number, required: true, default: 0 },
    claimedUntil: { type: Date, required: true, default: () => new Date(0) },
    claimHolder: { type: String },
    failureReason: { type: String },
    sentAt: { type: Date },
    readAt: { type: Date },
    appointmentId: { type: String },
    prescriptionId: { type: String },
    medicationId: { type: String },
  },
  { timestamps: true, collection: 'notifications' },
);
NotificationSchema.index({ dedupeKey: 1 }, { unique: true });
NotificationSchema.index({ patientId: 1, _id: -1 });
NotificationSchema.index({ userId: 1, _id: -1 });

export interface NotificationModels {
  Notification: Model<NotificationDoc>;
}

export async function createNotificationModels(conn: Connection): Promise<NotificationModels> {
  const Notification = conn.model<NotificationDoc>('Notification', NotificationSchema);
  await Notification.createIndexes();
  return { Notification };
}
