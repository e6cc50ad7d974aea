/**
 * Agenda jobs and queues that one service fills and another drains: the contract between them.
 * Data of each job is listed beside it; every job carries `eventId` (the outbox event) for idempotency.
 */
/**
 * appointments → notifications, a queue (platform/queue.ts): one `AppointmentNotice` per
 * confirmation, reschedule or cancellation, drained in batches (subgraphs/notifications/notices.ts).
 */
export const NOTIFY_APPOINTMENT_EVENTS = 'notifications_appointment_events';
/** A message of that queue: `_id` = the outbox event's id, so handing it on twice stores it once. */
export interface AppointmentNotice {
  _id: string;
  type: 'APPOINTMENT_BOOKED' | 'APPOINTMENT_RESCHEDULED' | 'APPOINTMENT_CANCELLED';
  appointmentId: string;
  /** For booked and rescheduled: the doctor as the change saw them. */
  doctorName?: string;
  specialty?: string;
  queuedAt: Date;
  attempts?: number;
  retryAt?: Date;
}
/**
 * The same hand-off as an Agenda job per event ({eventId, type, appointmentId, doctorName?,
 * specialty?}), as releases before the queue made them: still run, so none left waiting is lost.
 */
export const NOTIFY_APPOINTMENT_EVENT = 'notifications.appointment-event';
/** medications → notifications: {eventId, type: LOW_STOCK, medicationId, stockOnHand, reorderLevel}. */
export const NOTIFY_LOW_STOCK = 'notifications.low-stock';

/**
 * appointments → analytics, a queue (platform/queue.ts), not a job: every change of an appointment,
 * as the appointment is after it, with its version (the appointment's outbox sequence, which every
 * change increases), so analytics can tell a newer state from an older or repeated one.
 */
export const ANALYTICS_APPOINTMENT_CHANGES = 'analytics_appointment_changes';

/** What analytics counts of one appointment. */
export interface AppointmentFacts {
  localDate: string;
  doctorId: string;
  specialty: string;
  status: string;
  patientId: string;
  conditions: string[];
}
export interface AppointmentObservation extends AppointmentFacts {
  appointmentId: string;
  version: number;
}
/** A message of that queue: `_id` = `<appointmentId>:<version>`, so a repeat is stored once. */
export interface AppointmentChange extends AppointmentObservation {
  _id: string;
}
export function appointmentChange(o: AppointmentObservation): AppointmentChange {
  return { _id: `${o.appointmentId}:${o.version}`, ...o };
}
