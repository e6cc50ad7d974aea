import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Identity } from './identity';
import type { Logger } from './logger';

export type AuditOperation = 'READ' | 'CREATE' | 'UPDATE' | 'DELETE';
export type AuditOutcome = 'ALLOWED' | 'DENIED' | 'FAILED';

/** One access to protected health information. Append-only: nothing updates or deletes these. */
export interface AuditEntry {
  at: Date;
  userId: string | null;
  role: string | null;
  requestId: string;
  service: string;
  entityType: string;
  entityId: string | null;
  operation: AuditOperation;
  fields: string[];
  outcome: AuditOutcome;
  reason?: string | null;
}

export type AuditEntryDoc = AuditEntry & { _id: Types.ObjectId };

const AuditSchema = new Schema<AuditEntryDoc>(
  {
    at: { type: Date, required: true },
    userId: { type: String, default: null },
    role: { type: String, default: null },
    requestId: { type: String, required: true },
    service: { type: String, required: true },
    entityType: { type: String, required: true },
    entityId: { type: String, default: null },
    operation: { type: String, required: true, enum: ['READ', 'CREATE', 'UPDATE', 'DELETE'] },
    fields: { type: [String], default: [] },
    outcome: { type: String, required: true, enum: ['ALLOWED', 'DENIED', 'FAILED'] },
    reason: { type: String, default: null },
  },
  { collection: 'phi_audit', versionKey: false },
);
AuditSchema.index({ at: -1, _id: -1 });
AuditSchema.index({ entityType: 1, entityId: 1, at: -1 });
AuditSchema.index({ userId: 1, at: -1 });

export const AUDIT_DB = 'audit';

/**
 * The audit trail lives in its own database (`<prefix>_audit`), shared by every service that
 * touches PHI and read by the accounts service's `auditLog`. It is opened on the service's own
 * connection pool (useDb), so it costs no extra connections.
 */
export async function auditModel(conn: Connection, dbName: string): Promise<Model<AuditEntryDoc>> {
  const db = conn.useDb(dbName, { useCache: true });
  const model = (db.models.AuditEntry as Model<AuditEntryDoc> | undefined) ?? db.model<AuditEntryDoc>('AuditEntry', AuditSchema);
  await model.createIndexes();
  return model;
}

/** Collects one request's audit entries and writes them in one insert when the request ends. */
export class AuditBuffer {
  private entries: AuditEntry[] = [];

  constructor(
    private readonly model: Model<AuditEntryDoc> | null,
    private readonly service: string,
    private readonly identity: Identity,
    private readonly requestId: string,
  ) {}

  record(entry: Pick<AuditEntry, 'entityType' | 'entityId' | 'operation' | 'fields' | 'outcome'> & { reason?: string }): void {
    this.entries.push({
      at: new Date(),
      userId: this.identity.userId ?? (this.identity.service ? `service:${this.identity.service}` : null),
      role: this.identity.role ?? null,
      requestId: this.requestId,
      service: this.service,
      reason: null,
      ...entry,
    });
  }

  get pending(): readonly AuditEntry[] {
    return this.entries;
  }

  async flush(log: Logger): Promise<void> {
    if (!this.model || this.entries.length === 0) return;
    const batch = this.entries;
    this.entries = [];
    try {
      await this.model.insertMany(batch, { ordered: false });
    } catch (err) {
      // Never silently: the entries go to the log so the trail can be rebuilt.
      log.error({ err: (err as Error).message, auditEntries: batch }, 'audit write failed');
    }
  }
}
