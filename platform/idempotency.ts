import { createHash } from 'node:crypto';
import type { GraphQLResolveInfo } from 'graphql';
import { Schema, Types, type Connection, type Model } from 'mongoose';
import type { SubgraphContext } from './context';
import { appError, badInput, ErrorCode } from './errors';
import { GroupInsert } from './groupInsert';
import { indexesOnce } from './indexes';

/**
 * Idempotent mutations (README "Idempotent mutations"). A client sends `Idempotency-Key: <key>`
 * with a mutation; a retry with the same key gets the first answer instead of doing it again.
 *
 * Two layers:
 *  - the router (router/idempotency.ts) remembers each keyed mutation's answer per user and
 *    replays it, or makes a retry wait while the first attempt still runs;
 *  - the router forwards the key (signed with the identity) to the subgraphs, and the mutations
 *    that must never run twice (bookAppointment, dispense) are idempotent at the source, with
 *    `IdempotencyKeys` below: a retry the router could not answer (it timed out or lost the
 *    subgraph's answer, which the subgraph had already acted on) finds the first result there.
 */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_KEY_MAX_LENGTH = 128;
/** How long a key is remembered, by the router and by the services. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/** 1–128 printable ASCII characters (space to tilde). */
export function isValidIdempotencyKey(value: string): boolean {
  return value.length >= 1 && value.length <= IDEMPOTENCY_KEY_MAX_LENGTH && /^[\x20-\x7e]+$/.test(value);
}

/** The same value for equal JSON data whatever the order of object keys. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requestHash(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('base64url');
}

export const keyReused = () =>
  badInput('This Idempotency-Key was already used for a different request; use a new key for a new action', 'Idempotency-Key');

/**
 * An earlier attempt with the key is still running: retry shortly. Same code as a service that
 * does not answer (what clients already retry on), with `reason` telling the two apart.
 */
export const keyInProgress = (what: string) =>
  appError(ErrorCode.SUBGRAPH_UNAVAILABLE, `An earlier ${what} with this Idempotency-Key is still running; retry in a moment`, {
    reason: 'IDEMPOTENCY_KEY_IN_PROGRESS',
  });

/**
 * The scope a subgraph mutation keys its result by: the caller, the mutation field's response
 * name (two aliased mutations in one operation share the key but are different requests) and the
 * key. Null when the call carries no key.
 */
export function idempotencyScope(ctx: Pick<SubgraphContext, 'identity' | 'idempotencyKey'>, info: Pick<GraphQLResolveInfo, 'path'>): string | null {
  const key = ctx.idempotencyKey;
  if (!key) return null;
  const who = ctx.identity.userId ?? (ctx.identity.service ? `service-${ctx.identity.service}` : null);
  if (!who) return null;
  return `${who}:${String(info.path.key)}:${key}`;
}

export interface IdempotencyRecordDoc {
  /** A fresh id per record, never the key (see platform/claim.ts on FerretDB's conditional deletes). */
  _id: Types.ObjectId;
  key: string;
  /** What the request asked for (requestHash): a different request with the key is refused. */
  hash: string;
  /** The id the result of this key's request is stored under (an appointment, a dispensation). */
  resultId: Types.ObjectId;
  createdAt: Date;
}

const RecordSchema = new Schema<IdempotencyRecordDoc>(
  {
    key: { type: String, required: true },
    hash: { type: String, required: true },
    resultId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);
RecordSchema.index({ key: 1 }, { unique: true });
RecordSchema.index({ createdAt: 1 });

export function idempotencyModel(conn: Connection, collectionName = 'idempotency_keys'): Model<IdempotencyRecordDoc> {
  const name = `Idempotency:${collectionName}`;
  return (conn.models[name] as Model<IdempotencyRecordDoc> | undefined) ?? conn.model<IdempotencyRecordDoc>(name, RecordSchema, collectionName);
}

export interface Reservation {
  /** The id this key's result is (or will be) stored under. */
  resultId: Types.ObjectId;
  /** The record's own id: `release` drops exactly this reservation. */
  recordId: Types.ObjectId;
  /** Made by this call: no earlier call with the key can have stored anything under `resultId`. */
  fresh: boolean;
}

/**
 * Result ids reserved per idempotency key, in a service's own database. The first call with a key
 * reserves a fresh id for its result; every later call with the key (while the record lives) gets
 * the same id. The service then writes its result under that id with an insert, which the unique
 * `_id` makes happen at most once, however many attempts race or crash half-way; a retry finds
 * the result by id. Built only from what is atomic on FerretDB 1.24 and MongoDB 7: inserts
 * against a unique index, single deletes by `_id`.
 *
 * Records live `ttlMs`; an older one counts as absent (taken over like an expired claim) and
 * `sweep` deletes them (FerretDB has no TTL index).
 */
export class IdempotencyKeys {
  /** The unique index on `key` must exist before the first reservation. */
  private readonly ready: () => Promise<unknown>;
  /** Reservations of concurrent calls go in together; each wins or loses on its own unique `key`. */
  private readonly inserts: GroupInsert<IdempotencyRecordDoc>;

  constructor(
    private readonly model: Model<IdempotencyRecordDoc>,
    private readonly ttlMs = IDEMPOTENCY_TTL_MS,
  ) {
    this.ready = indexesOnce(model);
    this.inserts = new GroupInsert(model);
  }

  /**
   * The result id for `key`, reserved now or by an earlier call with the same request. Throws
   * BAD_USER_INPUT when the key was used for a different request.
   */
  async reserve(key: string, request: unknown): Promise<Reservation> {
    await this.ready();
    const hash = requestHash(request);
    for (;;) {
      const fresh = { _id: new Types.ObjectId(), key, hash, resultId: new Types.ObjectId(), createdAt: new Date() };
      if (await this.inserts.insert(fresh)) return { resultId: fresh.resultId, recordId: fresh._id, fresh: true };
      const current = await this.model.findOne({ key }).lean<IdempotencyRecordDoc>();
      if (!current) continue; // released meanwhile
      if (current.createdAt.getTime() <= Date.now() - this.ttlMs) {
        await this.model.deleteOne({ _id: current._id }); // expired: whoever deletes it or inserts next wins
        continue;
      }
      if (current.hash !== hash) throw keyReused();
      return { resultId: current.resultId, recordId: current._id, fresh: false };
    }
  }

  /**
   * The reservation an earlier call with `key` made for this same request, or null (none, or
   * expired); reads only. Throws BAD_USER_INPUT when the key was used for a different request.
   */
  async find(key: string, request: unknown): Promise<Reservation | null> {
    const current = await this.model.findOne({ key }).lean<IdempotencyRecordDoc>();
    if (!current || current.createdAt.getTime() <= Date.now() - this.ttlMs) return null;
    if (current.hash !== requestHash(request)) throw keyReused();
    return { resultId: current.resultId, recordId: current._id, fresh: false };
  }

  /**
   * Drops a reservation whose result failed for good (e.g. a rolled-back dispensation), so the
   * next call with the key reserves a new id. Only that reservation: one made after it survives.
   */
  async release(reservation: Reservation): Promise<void> {
    await this.model.deleteOne({ _id: reservation.recordId });
  }

  /** Deletes expired records; returns how many. */
  async sweep(): Promise<number> {
    const { deletedCount } = await this.model.deleteMany({ createdAt: { $lte: new Date(Date.now() - this.ttlMs) } });
    return deletedCount;
  }

}
