import type { Connection, mongo } from 'mongoose';
import { Coalescer } from './coalesce';
import { dbName, type Config } from './config';
import { isDuplicateKey } from './errors';

/**
 * The shared database of queues, `<prefix>_queues`: infrastructure like Agenda's jobs database,
 * written by the service that fills a queue and by the one that drains it, no other.
 */
export const QUEUES_DB = 'queues';

/** A message whose `_id` says what it is, so that handing it on twice stores it once. */
export interface QueuedMessage {
  _id: string;
  /** Failed attempts so far and when the next may start, for a consumer that retries (platform/queueDrain.ts). */
  attempts?: number;
  retryAt?: Date;
}

/**
 * A durable queue of many small messages from one service to another: one plain collection, filled
 * by inserts and drained in batches by its one consumer. For hand-offs that come with every change
 * (e.g. each appointment change to analytics), where an Agenda job per message would cost a job
 * document, a lock and a finish write each in the jobs database that every worker polls (on
 * FerretDB that more than doubled the jobs database's writes and made the whole graph wait on it).
 *
 * Delivery is at least once: the producer pushes from its outbox (possibly again after a crash),
 * the consumer removes a batch only once it has taken it into its own database; messages with the
 * same `_id` are stored once while they wait, so a consumer must still ignore repeats it has seen.
 */
export class Queue<T extends QueuedMessage> {
  /** Single messages pushed by concurrent requests go in one insert (group commit). */
  private readonly grouped = new Coalescer<T, void>(async (messages) => {
    await this.insertAll(messages);
    return messages.map(() => undefined);
  });

  private constructor(
    readonly name: string,
    private readonly collection: mongo.Collection<T>,
  ) {}

  static open<T extends QueuedMessage>(conn: Connection, cfg: Pick<Config, 'DB_PREFIX'>, name: string): Queue<T> {
    const queue = new Queue<T>(name, conn.useDb(dbName(cfg, QUEUES_DB), { useCache: true }).db!.collection<T>(name));
    const opened = openedOn.get(conn) ?? new Map<string, Queue<QueuedMessage>>();
    opened.set(name, queue as unknown as Queue<QueuedMessage>);
    openedOn.set(conn, opened);
    return queue;
  }

  /** The queues a service opened on its connection (its metrics report their backlog). */
  static openedOn(conn: Connection): Queue<QueuedMessage>[] {
    return [...(openedOn.get(conn)?.values() ?? [])];
  }

  /** Stores the messages; ones already waiting (same `_id`) are left as they are. */
  async push(...messages: T[]): Promise<void> {
    if (messages.length === 1) await this.grouped.load(messages[0]);
    else await this.insertAll(messages);
  }

  private async insertAll(messages: T[]): Promise<void> {
    if (!messages.length) return;
    try {
      await this.collection.insertMany(messages as mongo.OptionalUnlessRequiredId<T>[], { ordered: false });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** Up to `limit` waiting messages, without taking them off the queue. */
  peek(limit: number): Promise<T[]> {
    return this.collection.find({}, { limit }).toArray() as Promise<T[]>;
  }

  /** Up to `limit` messages whose retry time (if any) has come, oldest first. */
  ready(limit: number, now = new Date()): Promise<T[]> {
    const filter = { $or: [{ retryAt: null }, { retryAt: { $lte: now } }] } as mongo.Filter<T>;
    return this.collection.find(filter, { limit }).toArray() as Promise<T[]>;
  }

  /** Leaves a message for a later attempt: counts the failure and sets when to try again. */
  async postpone(id: string, attempts: number, retryAt: Date): Promise<void> {
    await this.collection.updateOne({ _id: id } as mongo.Filter<T>, { $set: { attempts, retryAt } } as mongo.UpdateFilter<T>);
  }

  /** Takes the messages off the queue (once the consumer has them safe). */
  async remove(ids: string[]): Promise<void> {
    if (ids.length) await this.collection.deleteMany({ _id: { $in: ids } } as mongo.Filter<T>);
  }

  count(): Promise<number> {
    return this.collection.countDocuments();
  }

  /** About how many messages wait, from the collection's metadata where the server keeps it (a scrape's figure). */
  estimatedCount(): Promise<number> {
    return this.collection.estimatedDocumentCount();
  }
}

const openedOn = new WeakMap<Connection, Map<string, Queue<QueuedMessage>>>();
