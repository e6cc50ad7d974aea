import { Types } from 'mongoose';
import type { NotificationDoc } from '../../subgraphs/notifications/model';
import { ALL, NONE, OWN, listed, type AccessEnv, type AccessRows, type Target } from './env';

const fixtures = { own: '', foreign: '' };

async function insertNotice(env: AccessEnv, patientId: string): Promise<string> {
  const model = env.graph.subgraphs.notifications!.conn.model<NotificationDoc>('Notification');
  const _id = new Types.ObjectId();
  await model.create({
    _id,
    dedupeKey: `suite:${String(_id)}`,
    kind: 'APPOINTMENT_CONFIRMED',
    channel: 'EMAIL',
    patientId,
    to: 'suite@mail.example',
    message: 'Your appointment is confirmed',
    status: 'SENT',
    attempts: 1,
    deliveries: 1,
  });
  return String(_id);
}

/** Patients read their own notifications; admins all; other staff only what is addressed to them. */
const ownOnly = { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: NONE, PHARMACIST: NONE, DOCTOR: NONE, PATIENT: OWN };

export const notificationRows: AccessRows = {
  async setup(env) {
    fixtures.own = await insertNotice(env, env.ids.own);
    fixtures.foreign = await insertNotice(env, env.ids.foreign);
  },
  ops: (env) => {
    const { graph } = env;
    const existing = async (t: Target) => fixtures[t];
    return {
      'notification(id)': {
        field: 'notifications.notification',
        target: existing,
        run: (tk, id) => graph.as(tk, `{ notification(id: "${id}") { id message } }`),
        expect: ownOnly,
      },
      'notifications list': {
        field: 'notifications.notifications',
        target: existing,
        run: (tk) => graph.as(tk, `{ notifications(first: 100) { edges { node { id } } } }`),
        outcome: listed,
        expect: ownOnly,
      },
      'patient(id) → notifications (nested)': {
        field: 'notifications.notifications',
        target: existing,
        run: (tk, id) => graph.as(tk, `{ patient(id: "${id === fixtures.own ? env.ids.own : env.ids.foreign}") { notifications(first: 100) { edges { node { id } } } } }`),
        outcome: (res, id) => (res.errors?.[0]?.extensions?.code === 'FORBIDDEN' ? 'denied' : listed(res, id)),
        expect: ownOnly,
      },
      markNotificationRead: {
        field: 'notifications.markNotificationRead',
        target: existing,
        run: (tk, id) => graph.as(tk, `mutation { markNotificationRead(id: "${id}") { id } }`),
        expect: ownOnly,
      },
    };
  },
};
