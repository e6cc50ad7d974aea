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
 * What is stored: one record per kind of access in one write, listing every entity it concerns
 * (FHIR's AuditEvent also lists the entities and the recipients of one event). Entries that differ
 * only in the entity and the recipient (`userId`, `role`, `requestId`: the router hands one read's
 * answer to many subscribers) become one record: `entityId` lists the entities in order (an entity
 * read twice is listed twice) whenever there are several entries, and a recipient field whose
 * value differs between them is listed the same way, entry by entry. Reading unwinds a record
 * into its entries; a query on `entityId` or `userId` matches either shape (MongoDB matches an
 * array by its elements), so records written before the grouping read the same. A list of 500
 * patients is one insert of one document instead of 500 (on the embedded FerretDB ~2 ms instead
 * of ~35 ms: bench/RESULTS.md).
 */
type Listed<T> = T | T[];
export type AuditRecord = Omit<AuditEntry, 'entityId' | 'userId' | 'role' | 'requestId'> & {
  entityId: Listed<string | null>;
  userId: Listed<string | null>;
  role: Listed<string | null>;
  requestId: Listed<string>;
};
export type AuditRecordDoc = AuditRecord & { _id: Types.ObjectId };

/** One entry as the audit log shows it: `id` is the record's id, with `-<n>` for the n-th entity of a group. */
export type AuditEntryRow = AuditEntry & { id: string };

const AuditSchema = new Schema<AuditRecordDoc>(
  {
    at: { type: Date, required: true },
    // userId, role, requestId and entityId: a value, or one per entry (AuditRecord); written lean
    // (AuditTrail), never cast.
    userId: { type: Schema.Types.Mixed, default: null },
    role: { type: Schema.Types.Mixed, default: null },
    requestId: { type: Schema.Types.Mixed, required: true },
    clientRequestId: { type: String, maxlength: 128 },
    service: { type: String, required: true },
    entityType: { type: String, required: true },
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
  private waiting: { entries: AuditEntry[]; log: Logger; done: () => void }[] = [];
  private writing = false;

  constructor(private readonly model: Model<AuditRecordDoc>) {}

  /** Stores the entries of one request (or one live read's recipients), grouped into records. */
  write(entries: AuditEntry[], log: Logger): Promise<void> {
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
          batch.flatMap((b) => groupAuditEntries(b.entries)),
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
    await this.trail.write(batch, log);
  }
}

const RECIPIENT = ['userId', 'role', 'requestId'] as const;

/**
 * The records of one write's entries: entries that differ only in the entity, the recipient and
 * the instant (the first one's is kept) become one record (AuditRecord).
 */
export function groupAuditEntries(entries: readonly AuditEntry[]): AuditRecord[] {
  const groups = new Map<string, AuditEntry[]>();
  let last: AuditEntry[] | null = null;
  for (const e of entries) {
    // Entries of one kind mostly come in a row (a list read, a live answer's recipients): compared
    // with the entry before, they need no key (one JSON text per entry was most of this function's cost).
    if (last && sameKind(last[0], e)) {
      last.push(e);
      continue;
    }
    const key = JSON.stringify([e.clientRequestId ?? null, e.service, e.entityType, e.operation, e.fields, e.outcome, e.reason ?? null]);
    last = groups.get(key) ?? null;
    if (last) last.push(e);
    else groups.set(key, (last = [e]));
  }
  return [...groups.values()].map((group) => {
    const [first] = group;
    if (group.length === 1) return first;
    const record: AuditRecord = { ...first, entityId: group.map((e) => e.entityId) };
    for (const f of RECIPIENT) {
      if (group.some((e) => e[f] !== first[f])) (record as Record<(typeof RECIPIENT)[number], unknown>)[f] = group.map((e) => e[f]);
    }
    return record;
  });
}

/** Whether two entries belong in one record: all that the grouping key of groupAuditEntries names is equal. */
function sameKind(a: AuditEntry, b: AuditEntry): boolean {
  return (
    (a.clientRequestId ?? null) === (b.clientRequestId ?? null) &&
    a.service === b.service &&
    a.entityType === b.entityType &&
    a.operation === b.operation &&
    a.outcome === b.outcome &&
    (a.reason ?? null) === (b.reason ?? null) &&
    (a.fields === b.fields || (a.fields.length === b.fields.length && a.fields.every((f, i) => f === b.fields[i])))
  );
}

/** The i-th value of a field that is one value or one per entry. */
const nth = <T>(v: Listed<T>, i: number): T => (Array.isArray(v) ? v[i] : v);

/** The entries of a stored record, with their place in it (only those matching `only`). */
function rowsOf(record: AuditRecordDoc, only: { entityId?: string; userId?: string }): { row: AuditEntryRow; index: number }[] {
  const { _id, entityId, userId, role, requestId, ...rest } = record;
  const count = Array.isArray(entityId) ? entityId.length : 1;
  const rows: { row: AuditEntryRow; index: number }[] = [];
  for (let index = 0; index < count; index++) {
    const entry: AuditEntry = { ...rest, entityId: nth(entityId, index), userId: nth(userId, index), role: nth(role, index), requestId: nth(requestId, index) };
    if (only.entityId !== undefined && entry.entityId !== only.entityId) continue;
    if (only.userId !== undefined && entry.userId !== only.userId) continue;
    rows.push({ row: { ...entry, id: count === 1 ? String(_id) : `${String(_id)}-${index}` }, index });
  }
  return rows;
}

/** The entries a stored record stands for (tests and tools that read the collection directly). */
export function auditEntriesOf(record: AuditRecordDoc): AuditEntryRow[] {
  return rowsOf(record, {}).map((r) => r.row);
}

/**
 * One page of the audit log, newest first: the records matching `filter` unwound into entries
 * (platform/pagination.ts cursors, here `id` the record's and `k` the entry's place in it).
 */
export async function auditLogPage(
  model: Model<AuditRecordDoc>,
  filter: QueryFilter<AuditRecordDoc> & { entityId?: string; userId?: string },
  args: { first?: number | null; after?: string | null },
): Promise<Page<AuditEntryRow>> {
  const limit = pageSize(args.first);
  const after = args.after ? decodeCursor(args.after) : null;
  const only = { entityId: filter.entityId, userId: filter.userId };
  const edges: { node: AuditEntryRow; cursor: string }[] = [];
  // Records from the cursor's on, newest first. A record may give fewer entries than it matched
  // (an entity and a user both listed, at different places), so read on until the page is full.
  let before: { $lte: Types.ObjectId } | { $lt: Types.ObjectId } | null = after ? { $lte: new Types.ObjectId(after.id) } : null;
  for (;;) {
    const query: QueryFilter<AuditRecordDoc> = before ? ({ $and: [filter, { _id: before }] } as QueryFilter<AuditRecordDoc>) : filter;
    const records: AuditRecordDoc[] = await model.find(query).sort({ _id: -1 }).limit(limit + 2).lean<AuditRecordDoc[]>();
    for (const r of records) {
      for (const { row, index } of rowsOf(r, only)) {
        if (after && String(r._id) === after.id && !(index > Number(after.k))) continue;
        edges.push({ node: row, cursor: encodeCursor({ k: String(index), id: String(r._id) }) });
      }
    }
    if (edges.length > limit || records.length < limit + 2) break;
    before = { $lt: records[records.length - 1]._id };
  }
  const page = edges.slice(0, limit);
  return { edges: page, pageInfo: { hasNextPage: edges.length > limit, endCursor: page.length ? page[page.length - 1].cursor : null } };
}
