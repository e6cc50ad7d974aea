import type DataLoader from 'dataloader';
import type { SubgraphContext } from '../../platform/context';
import { notFound } from '../../platform/errors';
import type { Identity } from '../../platform/identity';
import { byIdLoader } from '../../platform/loaders';
import { paginate, type Connection } from '../../platform/pagination';
import type { NotificationFilter } from './__generated__/resolvers-types';
import type { NotificationDoc, NotificationModels } from './model';

export interface Context extends SubgraphContext {
  notifications: NotificationService;
  loaders: { notification: DataLoader<string, NotificationDoc | null> };
}

const ADMINS = new Set(['SUPER_ADMIN', 'ADMIN']);

/** Reading notifications and marking them read; sending lives in sender.ts and jobs.ts. */
export class NotificationService {
  constructor(private readonly models: NotificationModels) {}

  loaders(): Context['loaders'] {
    return { notification: byIdLoader(this.models.Notification) };
  }

  async get(id: string): Promise<NotificationDoc> {
    const doc = await this.models.Notification.findById(id).lean<NotificationDoc>();
    if (!doc) throw notFound('Notification', id);
    return doc;
  }

  /** Admins see all; a patient their own; other staff the ones addressed to them. */
  list(filter: NotificationFilter | null | undefined, page: { first?: number | null; after?: string | null }, identity: Identity): Promise<Connection<NotificationDoc>> {
    const q: Record<string, unknown> = {};
    if (filter?.patientId) q.patientId = filter.patientId;
    if (filter?.kind) q.kind = filter.kind;
    if (filter?.status) q.status = filter.status;
    if (filter?.unreadOnly) q.readAt = null;
    if (identity.role === 'PATIENT') q.patientId = identity.patientId ?? '-';
    else if (!identity.service && !ADMINS.has(identity.role ?? '')) q.userId = identity.userId ?? '-';
    return paginate(this.models.Notification, q, '_id', page, -1);
  }

  forPatient(patientId: string, unreadOnly: boolean | null | undefined, page: { first?: number | null; after?: string | null }): Promise<Connection<NotificationDoc>> {
    return paginate(this.models.Notification, { patientId, ...(unreadOnly ? { readAt: null } : {}) }, '_id', page, -1);
  }

  async markRead(id: string): Promise<NotificationDoc> {
    await this.models.Notification.updateOne({ _id: id, readAt: null }, { $set: { readAt: new Date() } });
    return this.get(id);
  }
}
