import { TOPICS } from '../platform/pubsub';

/**
 * The subscription fields the router serves, and how each maps onto a live event and a query.
 * A subscription `field(args) { …selection }` listens to `topic`; for each event, `entityId` picks
 * the changed entity (or null: not for this subscriber's arguments), and the router re-reads it as
 * `field: <queryField>(id: $id) { …selection }` with the subscriber's own identity, so every
 * subgraph authorises the read exactly as for an HTTP query.
 *
 * Topics and event data are published by the subgraphs (platform/pubsub.ts TOPICS).
 */

export interface LiveField {
  topic: string;
  /** Query root field that reads one entity: `<queryField>(id: …)`. */
  queryField: string;
  entityId(data: Readonly<Record<string, unknown>>, args: Readonly<Record<string, unknown>>): string | null;
}

const idOf = (value: unknown): string | null => (value === undefined || value === null || value === '' ? null : String(value));

export const LIVE_FIELDS: Readonly<Record<string, LiveField>> = {
  /** subgraphs/appointments: data {appointmentId, doctorId, patientId, change}. */
  appointmentChanged: {
    topic: TOPICS.appointmentChanged,
    queryField: 'appointment',
    entityId: (data, args) => (idOf(data.doctorId) === idOf(args.doctorId) ? idOf(data.appointmentId) : null),
  },
  /** subgraphs/notifications: data {notificationId, patientId?, userId?}; the notifications subgraph decides who may read it. */
  notificationAdded: {
    topic: TOPICS.notificationAdded,
    queryField: 'notification',
    entityId: (data) => idOf(data.notificationId),
  },
};
