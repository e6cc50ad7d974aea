import type { Identity } from '../platform/identity';
import { TOPICS } from '../platform/pubsub';

/**
 * The subscription fields the router serves, and how each maps onto a live event and a query.
 * A subscription `field(args) { …selection }` listens to `topic`; for each event, `entityId` picks
 * the changed entity (or null: not for this subscriber's arguments), and the router re-reads it as
 * `field: <queryField>(id: $id) { …selection }` with a subscriber's own identity, once for all the
 * subscribers of one selection and access scope (liveOperation.ts), so every subgraph authorises
 * the read exactly as for an HTTP query.
 *
 * Topics and event data are published by the subgraphs (platform/pubsub.ts TOPICS).
 */

export interface LiveField {
  topic: string;
  /** Query root field that reads one entity: `<queryField>(id: …)`. */
  queryField: string;
  /** The entity type read, as the subgraphs name it in the audit trail. */
  entityType: string;
  entityId(data: Readonly<Record<string, unknown>>, args: Readonly<Record<string, unknown>>): string | null;
  /**
   * False only when the subgraph's rules are sure to refuse this subscriber the entity (so it is not
   * read for them at all): the same test as the owner's access.ts, on the event's copy of the
   * fields it reads. Never allows anything by itself: what passes is still read with the
   * subscriber's identity and authorised by the subgraphs. Reads only identity fields that are part
   * of the access scope (role, patientId, doctorId; userId only for user-scoped queries).
   */
  mayConcern(data: Readonly<Record<string, unknown>>, identity: Identity): boolean;
}

const idOf = (value: unknown): string | null => (value === undefined || value === null || value === '' ? null : String(value));

export const LIVE_FIELDS: Readonly<Record<string, LiveField>> = {
  /** subgraphs/appointments: data {appointmentId, doctorId, patientId, change}. */
  appointmentChanged: {
    topic: TOPICS.appointmentChanged,
    queryField: 'appointment',
    entityType: 'Appointment',
    entityId: (data, args) => (idOf(data.doctorId) === idOf(args.doctorId) ? idOf(data.appointmentId) : null),
    // subgraphs/appointments/access.ts: a patient sees their own appointments, a doctor theirs.
    mayConcern: (data, identity) => {
      if (identity.role === 'PATIENT') return !!identity.patientId && idOf(data.patientId) === identity.patientId;
      if (identity.role === 'DOCTOR') return !!identity.doctorId && idOf(data.doctorId) === identity.doctorId;
      return true;
    },
  },
  /** subgraphs/notifications: data {notificationId, patientId?, userId?}; the notifications subgraph decides who may read it. */
  notificationAdded: {
    topic: TOPICS.notificationAdded,
    queryField: 'notification',
    entityType: 'Notification',
    entityId: (data) => idOf(data.notificationId),
    // subgraphs/notifications/access.ts: admins see all; others a notification addressed to them.
    mayConcern: (data, identity) =>
      identity.role === 'SUPER_ADMIN' ||
      identity.role === 'ADMIN' ||
      (identity.role === 'PATIENT' && !!identity.patientId && idOf(data.patientId) === identity.patientId) ||
      (!!identity.userId && idOf(data.userId) === identity.userId),
  },
};
