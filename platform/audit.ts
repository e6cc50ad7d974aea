import { Schema, Types, type Connection, type Model, type QueryFilter } from 'mongoose';
import type { Identity } from './identity';
import type { Logger } from './logger';
import { decodeCursor, encodeCursor, pageSize, type Connection as Page } from './pagination';

export type AuditOperation = 'READ' | 'CREATE' | 'UPDATE' | 'DELETE';
export type AuditOutcome = 'ALLOWED' | 'DENIED' | 'FAILED';

/** One access to protected health information. Append-only: nothing updates or deletes these. */
export interface AuditEntry {
  at: Date;
  userId: string | null;
  role: string | null;
  /** The router's id of the request (never one a client chose). */
  requestId: string;
  /** The client's own `x-request-id`, when it sent an acceptable one (platform/requestId.ts). */
  clientRequestId?: string;
  service: string;
  entityType: string;
  entityId: string | null;
  operation: AuditOperation;
  fields: string[];
  outcome: AuditOutcome;
  reason?: string | null;
}

/**
 * What is stored: one access by one request to one or more entities of a type, with the same
 * operation, fields and outcome (FHIR's AuditEvent also lists the entities of one event).
 * `entityId` holds one id, or the ids of every entity in the event, in the order read (an entity
 * read twice is listed twice). Reading unwinds a record into one AuditEntry per id; a query on
 * `entityId` matches both shapes (MongoDB matches an array by its elements), so records written
 * before the grouping read the same. A list of 500 patients is one insert of one document
 * instead of 500 (on the embedded FerretDB ~2 ms instead of ~45 ms: bench/RESULTS.md).
 */
export type AuditRecord = Omit<AuditEntry, 'entityId'> & { entityId: string | null | (string | null)[] };
export type AuditRecordDoc = AuditRecord & { _id: Types.ObjectId };

/** One entry as the audit log shows it: `id` is the record's id, with `-<n>` for the n-th entity of a group. */
export type AuditEntryRow = AuditEntry & { id: string };

const AuditSchema = new Schema<AuditRecordDoc>(
  {
    at: { type: Date, required: true },
    userId: { type: String, default: null },
    role: { type: String, default: null },
    requestId: { type: String, required: true },
    clientRequestId: { type: String, maxlength: 128 },
    service: { type: String, required: true },
    entityType: { type: String, required: true },
    // A string, null, or an array of them (AuditRecord); written lean (AuditTrail), never cast.
    entityId: { type: Schema.Types.Mixed, default: null },
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
export async function auditModel(conn: Connection, dbName: string): Promise<Model<AuditRecordDoc>> {
  const db = conn.useDb(dbName, { useCache: true });
  const model = (db.models.AuditEntry as Model<AuditRecordDoc> | undefined) ?? db.model<AuditRecordDoc>('AuditEntry', AuditSchema);
  await model.createIndexes();
  return model;
}

/**
 * Writes the audit entries of a process's requests, in as few inserts as the database's pace
 * allows (group commit): while one insert runs, the entries of requests ending meanwhile gather
 * and go in the next. A request's `write` resolves once its entries are stored (or, if the insert
 * failed, logged in full so the trail can be rebuilt), so no answer leaves before its trail. With
 * one request at a time that is one insert per request, as before; under load, one per round trip.
 */
export class AuditTrail {
  private waiting: { entries: AuditRecord[]; log: Logger; done: () => void }[] = [];
  private writing = false;

  constructor(private readonly model: Model<AuditRecordDoc>) {}

  write(entries: AuditRecord[], log: Logger): Promise<void> {
    return new Promise<void>((done) => {
      this.waiting.push({ entries, log, done });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        await this.model.insertMany(
          batch.flatMap((b) => b.entries),
          // Entries are built here, not by users: skip mongoose's per-document casting (500 entries 105 → 70 ms).
          { ordered: false, lean: true },
        );
      } catch (err) {
        // Never silently: each request's entries go to its log so the trail can be rebuilt.
        for (const b of batch) b.log.error({ err: (err as Error).message, auditEntries: b.entries }, 'audit write failed');
      }
      for (const b of batch) b.done();
    }
    this.writing = false;
  }
}

/** Collects one request's audit entries and hands them to the process's AuditTrail when the request ends. */
export class AuditBuffer {
  private entries: AuditEntry[] = [];

  constructor(
    private readonly trail: AuditTrail | null,
    private readonly service: string,
    private readonly identity: Identity,
    private readonly requestId: string,
    private readonly clientRequestId?: string,
  ) {}

  record(entry: Pick<AuditEntry, 'entityType' | 'entityId' | 'operation' | 'fields' | 'outcome'> & { reason?: string }): void {
    this.entries.push({
      at: new Date(),
      userId: this.identity.userId ?? (this.identity.service ? `service:${this.identity.service}` : null),
      role: this.identity.role ?? null,
      requestId: this.requestId,
      ...(this.clientRequestId ? { clientRequestId: this.clientRequestId } : {}),
      service: this.service,
      reason: null,
      ...entry,
    });
  }

  get pending(): readonly AuditEntry[] {
    return this.entries;
  }

  async flush(log: Logger): Promise<void> {
    if (!this.trail || this.entries.length === 0) return;
    const batch = this.entries;
    this.entries = [];
    await this.trail.write(groupAuditEntries(batch), log);
  }
}

/**
 * The records of one request's entries: entries that differ only in the entity (and the instant,
 * the first one's is kept) become one record listing the entities in order.
 */
export function groupAuditEntries(entries: readonly AuditEntry[]): AuditRecord[] {
  const groups = new Map<string, { first: AuditEntry; ids: (string | null)[] }>();
  for (const e of entries) {
    const key = JSON.stringify([e.userId, e.role, e.requestId, e.clientRequestId ?? null, e.service, e.entityType, e.operation, e.fields, e.outcome, e.reason ?? null]);
    const group = groups.get(key);
    if (group) group.ids.push(e.entityId);
    else groups.set(key, { first: e, ids: [e.entityId] });
  }
  return [...groups.values()].map(({ first, ids }) => ({ ...first, entityId: ids.length === 1 ? ids[0] : ids }));
}

/** The entries of a stored record, one per entity (only those of `entityId` when given). */
function rowsOf(record: AuditRecordDoc, entityId: string | undefined): { row: AuditEntryRow; index: number }[] {
  const { _id, entityId: ids, ...rest } = record;
  if (!Array.isArray(ids)) return entityId !== undefined && ids !== entityId ? [] : [{ row: { ...rest, entityId: ids, id: String(_id) }, index: 0 }];
  return ids.flatMap((id, index) => (entityId !== undefined && id !== entityId ? [] : [{ row: { ...rest, entityId: id, id: `${String(_id)}-${index}` }, index }]));
}

/**
 * One page of the audit log, newest first: the records matching `filter` unwound into entries
 * (platform/pagination.ts cursors, here `id` the record's and `k` the entry's place in it).
 */
export async function auditLogPage(
  model: Model<AuditRecordDoc>,
  filter: QueryFilter<AuditRecordDoc> & { entityId?: string },
  args: { first?: number | null; after?: string | null },
): Promise<Page<AuditEntryRow>> {
  const limit = pageSize(args.first);
  const after = args.after ? decodeCursor(args.after) : null;
  const afterIndex = after ? Number(after.k) : -1;
  const query = after ? { $and: [filter, { _id: { $lte: new Types.ObjectId(after.id) } }] } : filter;
  // Each record gives at least one entry, except the one the cursor is in: limit + 2 give limit + 1.
  const records = await model.find(query as QueryFilter<AuditRecordDoc>).sort({ _id: -1 }).limit(limit + 2).lean<AuditRecordDoc[]>();
  const edges = records
    .flatMap((r) => rowsOf(r, filter.entityId).map(({ row, index }) => ({ r, row, index })))
    .filter(({ r, index }) => !after || String(r._id) !== after.id || index > afterIndex)
    .map(({ r, row, index }) => ({ node: row, cursor: encodeCursor({ k: String(index), id: String(r._id) }) }));
  const page = edges.slice(0, limit);
  return { edges: page, pageInfo: { hasNextPage: edges.length > limit, endCursor: page.length ? page[page.length - 1].cursor : null } };
}
