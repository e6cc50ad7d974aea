import { allow, anyOf, authenticated, deny, internalService, roles, type AccessPolicy, type Rule } from '../../platform/authz';
import type { NotificationDoc } from './model';
import type { Context } from './service';

const admins = roles('SUPER_ADMIN', 'ADMIN');
const signedIn = anyOf<Context>(authenticated, internalService);

/** The notification is addressed to the caller (a patient's own, or a staff user's own). */
const addressee = (n: NotificationDoc | null | undefined, ctx: Context) =>
  !!n &&
  ((ctx.identity.role === 'PATIENT' && !!n.patientId && n.patientId === ctx.identity.patientId) ||
    (!!n.userId && n.userId === ctx.identity.userId));

const canSee: Rule<Context> = anyOf<Context>(admins, internalService, ({ ctx, parent }) => addressee(parent as NotificationDoc, ctx));
const ownById: Rule<Context> = async ({ ctx, args }) => addressee(await ctx.loaders.notification.load(String(args.id)), ctx);

/** Who may read notifications (PHI: they name visits and medicines). Default deny. */
export const access: AccessPolicy<Context> = {
  Query: {
    notification: { rule: authenticated, audit: { entityType: 'Notification', operation: 'READ', entityId: (a) => String(a.id) } },
    notifications: authenticated,
  },
  Mutation: {
    markNotificationRead: { rule: anyOf<Context>(admins, ownById), audit: { entityType: 'Notification', operation: 'UPDATE', entityId: (a) => String(a.id), fields: () => ['readAt'] } },
  },
  // Served by the router (router/subscriptions.ts), never by a subgraph.
  Subscription: { notificationAdded: deny },
  Notification: {
    __object: canSee,
    __audit: { entityType: 'Notification', id: (n) => String((n as NotificationDoc)._id) },
    id: allow,
    kind: allow,
    channel: allow,
    message: allow,
    status: allow,
    attempts: allow,
    failureReason: allow,
    sentAt: allow,
    readAt: allow,
    patient: allow,
    userId: allow,
    appointment: allow,
    prescription: allow,
    createdAt: allow,
  },
  Patient: { __object: signedIn, id: allow, notifications: signedIn },
  Appointment: { id: allow },
  Prescription: { id: allow },
  NotificationEdge: { '*': allow },
  NotificationConnection: { '*': allow },
  PageInfo: { '*': allow },
};
