import { HeaderMap, type ApolloServerPlugin, type GraphQLResponse } from '@apollo/server';
import { GraphQLError, type FormattedExecutionResult } from 'graphql';
import { Schema, Types, type Connection, type Model } from 'mongoose';
import { GroupInsert } from '../platform/groupInsert';
import { appError, ErrorCode } from '../platform/errors';
import { indexesOnce } from '../platform/indexes';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENCY_KEY_MAX_LENGTH,
  IDEMPOTENCY_TTL_MS,
  isValidIdempotencyKey,
  keyInProgress,
  keyReused,
  requestHash,
} from '../platform/idempotency';
import type { Logger } from '../platform/logger';
import type { RouterContext } from './context';

/** The router's own database (`<prefix>_router`): idempotency records. */
export const ROUTER_DB = 'router';
/** Response header on an answer replayed from an earlier request with the same key. */
export const REPLAYED_HEADER = 'idempotent-replayed';

/**
 * Answers that are the request's outcome and are replayed to a retry with the same key. Anything
 * else (a service unavailable or timed out, an internal error) says nothing about what happened,
 * so the record is dropped and a retry runs again; the services make the mutations that must not
 * run twice idempotent themselves (platform/idempotency.ts), so the rerun finds the first result.
 */
const DEFINITIVE_CODES = new Set<string>([ErrorCode.BAD_USER_INPUT, ErrorCode.NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.FORBIDDEN]);

interface StoredAnswer {
  status?: number;
  body: FormattedExecutionResult;
}

interface RecordDoc {
  /** A fresh id per record, never the key (see platform/claim.ts on FerretDB's conditional deletes). */
  _id: Types.ObjectId;
  /** `<userId>:<Idempotency-Key>` */
  key: string;
  hash: string;
  /** Always IN_PROGRESS now (the answer is an AnswerDoc); DONE with `answer` on records of earlier versions. */
  state: 'IN_PROGRESS' | 'DONE';
  /** Until answered: after this instant the router running it is presumed gone and a retry takes over. */
  leaseUntil: Date;
  /** The record counts as absent after this instant, and the sweep deletes it (no TTL index on FerretDB). */
  expiresAt: Date;
  /** Earlier versions: the answer as JSON, stored into the record. */
  answer?: string;
}

/**
 * The answer of the request that held a record, under the record's own `_id`: stored with an
 * insert, so the answers of concurrent requests go in together (GroupInsert) where an update each
 * cost a database write each (a batch of updates hangs on FerretDB 1.24), and at most once per
 * record (unique `_id`). An answer whose record is gone (its lease ended and a retry took over) is
 * never read, and the sweep deletes it.
 */
interface AnswerDoc {
  _id: Types.ObjectId;
  /** The answer as JSON (kept as a string: FerretDB stores no arrays inside arrays). */
  answer: string;
  expiresAt: Date;
}

const AnswerSchema = new Schema<AnswerDoc>(
  {
    answer: { type: String, required: true },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'idempotency_answers' },
);
AnswerSchema.index({ expiresAt: 1 });

const RecordSchema = new Schema<RecordDoc>(
  {
    key: { type: String, required: true },
    hash: { type: String, required: true },
    state: { type: String, required: true, enum: ['IN_PROGRESS', 'DONE'] },
    leaseUntil: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    answer: { type: String },
  },
  { versionKey: false, collection: 'idempotency' },
);
RecordSchema.index({ key: 1 }, { unique: true });
RecordSchema.index({ expiresAt: 1 });

export interface IdempotencyStoreOptions {
  /** How long a request may run before a retry presumes its router gone and runs it again. */
  leaseMs: number;
  /** How long a retry waits for the first request with its key to finish. */
  waitMs: number;
  ttlMs?: number;
}

export type Begin = { run: true; recordId: Types.ObjectId } | { run: false; answer: StoredAnswer };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/**
 * One record per user and key. Made only from operations that are atomic on FerretDB 1.24 and
 * MongoDB 7 (platform/claim.ts): the first request inserts its record (unique `key`), and of any
 * number of concurrent requests with the key exactly one insert wins; the others wait for its
 * answer. A record whose lease or lifetime is over is deleted by `_id` and the next insert wins.
 */
export class IdempotencyStore {
  private readonly ttlMs: number;
  private readonly ready: () => Promise<unknown>;
  /** Records of concurrent requests go in together; each wins or loses on its own unique `key`. */
  private readonly inserts: GroupInsert<RecordDoc>;
  /** So do their answers. */
  private readonly answerInserts: GroupInsert<AnswerDoc>;

  constructor(
    private readonly model: Model<RecordDoc>,
    private readonly answers: Model<AnswerDoc>,
    private readonly opts: IdempotencyStoreOptions,
  ) {
    this.ttlMs = opts.ttlMs ?? IDEMPOTENCY_TTL_MS;
    const records = indexesOnce(model);
    const answerIndexes = indexesOnce(answers);
    this.ready = () => Promise.all([records(), answerIndexes()]);
    this.inserts = new GroupInsert(model);
    this.answerInserts = new GroupInsert(answers);
  }

  static open(conn: Connection, opts: IdempotencyStoreOptions): IdempotencyStore {
    const model = (conn.models.IdempotencyRecord as Model<RecordDoc> | undefined) ?? conn.model<RecordDoc>('IdempotencyRecord', RecordSchema);
    const answers = (conn.models.IdempotencyAnswer as Model<AnswerDoc> | undefined) ?? conn.model<AnswerDoc>('IdempotencyAnswer', AnswerSchema);
    return new IdempotencyStore(model, answers, opts);
  }

  /** The stored answer of a record, if any (also the inline one of records of earlier versions). */
  private async answerOf(record: RecordDoc): Promise<StoredAnswer | null> {
    if (record.state === 'DONE' && record.answer) return JSON.parse(record.answer) as StoredAnswer;
    const stored = await this.answers.findById(record._id).lean<AnswerDoc>();
    return stored ? (JSON.parse(stored.answer) as StoredAnswer) : null;
  }

  /**
   * Either this request runs (its record is inserted) or the first answer for the key is
   * replayed. Waits while another request with the key runs, for at most `waitMs`, then throws
   * the retryable SUBGRAPH_UNAVAILABLE. BAD_USER_INPUT when the key came with another request.
   */
  async begin(key: string, hash: string): Promise<Begin> {
    await this.ready();
    const deadline = Date.now() + this.opts.waitMs;
    for (let attempt = 0; ; attempt++) {
      const now = Date.now();
      const record = {
        key,
        hash,
        state: 'IN_PROGRESS' as const,
        leaseUntil: new Date(now + this.opts.leaseMs),
        expiresAt: new Date(now + this.ttlMs),
      };
      const recordId = new Types.ObjectId();
      if (await this.inserts.insert({ _id: recordId, ...record })) return { run: true, recordId };
      const current = await this.model.findOne({ key }).lean<RecordDoc>();
      if (!current) continue; // dropped meanwhile: insert again
      if (current.expiresAt.getTime() <= Date.now()) {
        await this.model.deleteOne({ _id: current._id });
        continue;
      }
      const answer = await this.answerOf(current);
      if (!answer && current.leaseUntil.getTime() <= Date.now()) {
        // Unanswered and its router presumed gone: whoever deletes it or inserts next runs.
        await this.model.deleteOne({ _id: current._id });
        continue;
      }
      if (current.hash !== hash) throw keyReused();
      if (answer) return { run: false, answer };
      if (Date.now() >= deadline) throw keyInProgress('request');
      await sleep(Math.min(25 * 2 ** attempt, 250));
    }
  }

  /**
   * Stores the answer of the request that held `recordId`. Read only while that record lives: if
   * its lease ended and a retry took the key over meanwhile, the retry's record has no answer yet.
   */
  async finish(recordId: Types.ObjectId, answer: StoredAnswer): Promise<void> {
    await this.answerInserts.insert({ _id: recordId, answer: JSON.stringify(answer), expiresAt: new Date(Date.now() + this.ttlMs) });
  }

  /** Drops the record: the outcome is unknown, so a retry with the key runs again. */
  async abandon(recordId: Types.ObjectId): Promise<void> {
    await this.model.deleteOne({ _id: recordId });
  }

  /** Deletes expired records (and their answers); returns how many records. */
  async sweep(): Promise<number> {
    await this.ready();
    const now = new Date();
    const { deletedCount } = await this.model.deleteMany({ expiresAt: { $lte: now } });
    await this.answers.deleteMany({ expiresAt: { $lte: now } });
    return deletedCount;
  }

}

/** The HTTP status an error thrown before execution answers with (Apollo's default there is 500). */
function withStatus(err: GraphQLError, status: number): GraphQLError {
  const headers = status === 503 ? new HeaderMap([['retry-after', '1']]) : new HeaderMap();
  return new GraphQLError(err.message, { extensions: { ...err.extensions, http: { status, headers } } });
}

function badKey(): GraphQLError {
  return appError(
    ErrorCode.BAD_USER_INPUT,
    `The ${IDEMPOTENCY_KEY_HEADER} header must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters`,
    { field: 'Idempotency-Key', http: { status: 400 } },
  );
}

function isDefinitive(result: FormattedExecutionResult): boolean {
  return (result.errors ?? []).every((e) => DEFINITIVE_CODES.has(String(e.extensions?.code)));
}

/**
 * The router's half of idempotent mutations: a mutation sent by a signed-in user with an
 * `Idempotency-Key` header runs once per user and key; a retry gets the first answer (header
 * `Idempotent-Replayed: true`) or waits for it. The key also travels to the subgraphs (signed,
 * router/datasource.ts). Queries ignore the header.
 */
export function idempotencyPlugin(store: IdempotencyStore, log: Logger): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart({ request, contextValue }) {
      const key = request.http?.headers.get(IDEMPOTENCY_KEY_HEADER);
      if (key === undefined) return;
      let recordId: Types.ObjectId | null = null;
      let replay: StoredAnswer | null = null;
      let executed = false;
      return {
        async didResolveOperation({ operation, queryHash }) {
          if (operation?.operation !== 'mutation') return;
          if (!isValidIdempotencyKey(key)) throw badKey();
          const userId = contextValue.identity.userId;
          if (!userId) return; // anonymous callers may only sign in: nothing to protect
          const hash = requestHash({ queryHash, operationName: request.operationName ?? null, variables: request.variables ?? {} });
          let begun: Begin;
          try {
            begun = await store.begin(`${userId}:${key}`, hash);
          } catch (err) {
            if (err instanceof GraphQLError) throw withStatus(err, err.extensions.code === ErrorCode.BAD_USER_INPUT ? 400 : 503); // reused, or still running
            contextValue.log.warn({ err: (err as Error).message }, 'idempotency store unavailable');
            throw withStatus(
              appError(ErrorCode.SUBGRAPH_UNAVAILABLE, 'The request cannot be recorded right now; retry shortly with the same Idempotency-Key'),
              503,
            );
          }
          if (begun.run) {
            recordId = begun.recordId;
            contextValue.idempotencyKey = key;
          } else {
            replay = begun.answer;
          }
        },
        async responseForOperation(): Promise<GraphQLResponse | null> {
          if (!replay) return null;
          return {
            http: { status: replay.status, headers: new HeaderMap([[REPLAYED_HEADER, 'true']]) },
            body: { kind: 'single', singleResult: replay.body },
          };
        },
        async executionDidStart() {
          executed = true;
        },
        async willSendResponse({ response }) {
          if (!recordId) return;
          const id = recordId;
          recordId = null;
          const body = response.body.kind === 'single' ? response.body.singleResult : null;
          // Stored while the answer goes out, not before: a retry that comes meanwhile finds the
          // record running and waits for its answer (begin). Had the router died before sending,
          // the client would have retried against a record without an answer all the same.
          const recorded = executed && body && isDefinitive(body) ? store.finish(id, { status: response.http.status, body }) : store.abandon(id);
          recorded.catch((err: Error) => {
            // The record stays IN_PROGRESS until its lease ends; then a retry runs again.
            log.warn({ err: err.message, requestId: contextValue.requestId }, 'idempotency record not updated');
          });
        },
      };
    },
  };
}
