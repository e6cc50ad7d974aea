import type { Resolvers } from './__generated__/resolvers-types';

/** Thin: arguments → NotificationService → result. */
export const resolvers: Resolvers = {
  Query: {
    notification: (_p, { id }, ctx) => ctx.notifications.get(id),
    notifications: (_p, { filter, ...page }, ctx) => ctx.notifications.list(filter, page, ctx.identity),
  },
  Mutation: {
    markNotificationRead: (_p, { id }, ctx) => ctx.notifications.markRead(id),
  },
  Notification: {
    __resolveReference: (ref, ctx) => ctx.loaders.notification.load(ref.id),
    id: (n) => String(n._id),
    patient: (n) => (n.patientId ? { id: n.patientId } : null),
    appointment: (n) => (n.appointmentId ? { id: n.appointmentId } : null),
    prescription: (n) => (n.prescriptionId ? { id: n.prescriptionId } : null),
  },
  Patient: {
    __resolveReference: (ref) => ({ id: ref.id }),
    notifications: (p, { unreadOnly, ...page }, ctx) => ctx.notifications.forPatient(p.id, unreadOnly, page),
  },
};
