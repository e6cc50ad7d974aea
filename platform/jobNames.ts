/**
 * Agenda jobs that one service queues and another runs: the contract between them. Data of each
 * job is listed beside it; every job carries `eventId` (the outbox event) for idempotency.
 */
/** appointments → notifications: {eventId, type: APPOINTMENT_BOOKED|_RESCHEDULED|_CANCELLED, appointmentId}. */
export const NOTIFY_APPOINTMENT_EVENT = 'notifications.appointment-event';
/** medications → notifications: {eventId, type: LOW_STOCK, medicationId, stockOnHand, reorderLevel}. */
export const NOTIFY_LOW_STOCK = 'notifications.low-stock';
