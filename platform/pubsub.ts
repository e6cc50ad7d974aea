import { Types, type Connection, type mongo } from 'mongoose';
import type { Logger } from './logger';

/**
 * Live events between processes (e.g. "a notification was added" from the notifications service
 * to every router instance holding subscriptions), through a capped MongoDB collection read with
 * a tailable, awaitData cursor. Chosen over Redis because it needs nothing beyond the database
 * every process already has, and works the same on MongoDB 7 and FerretDB 1.24. Not durable
 * delivery: a subscriber sees what is published while it listens (live updates); durable hand-offs
 * use outboxes and Agenda jobs.
 */
export interface LiveEvent<T = Record<string, unknown>> {
  _id: Types.ObjectId;
  topic: string;
  at: Date;
  data: T;
}

export const EVENTS_DB = 'events';

/** Live-event topics: the contract between the services that publish and the router. */
export const TOPICS = {
  /** appointments: data {appointmentId, doctorId, patientId, change}. */
  appointmentChanged: 'appointment.changed',
  /** notifications: data {notificationId, patientId?, userId?}. */
  notificationAdded: 'notification.added',
} as const;
const COLLECTION = 'live_events';
const CAPPED_BYTES = 16 * 1024 * 1024;
const CAPPED_DOCS = 50_000;

async function eventsCollection(conn: Connection, dbName: string): Promise<mongo.Collection<LiveEvent>> {
  const db = conn.useDb(dbName, { useCache: true }).db!;
  const exists = await db.listCollections({ name: COLLECTION }, { nameOnly: true }).toArray();
  if (exists.length === 0) {
    try {
      await db.createCollection(COLLECTION, { capped: true, size: CAPPED_BYTES, max: CAPPED_DOCS });
    } catch (err) {
      // Another process created it first.
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
  }
  return db.collection<LiveEvent>(COLLECTION);
}

export class Publisher {
  private constructor(private readonly collection: mongo.Collection<LiveEvent>) {}

  static async open(conn: Connection, dbName: string): Promise<Publisher> {
    return new Publisher(await eventsCollection(conn, dbName));
  }

  async publish(topic: string, data: Record<string, unknown>): Promise<void> {
    await this.collection.insertOne({ _id: new Types.ObjectId(), topic, at: new Date(), data });
  }
}

type Handler = (event: LiveEvent) => void;

/**
 * Tails the events collection from "now" and hands every event to the handlers of its topic.
 * Reconnects after errors (with a pause), resuming after the last event seen.
 */
export class Subscriber {
  private readonly handlers = new Map<string, Set<Handler>>();
  private cursor: mongo.FindCursor<LiveEvent> | null = null;
  private stopped = false;
  private lastId: Types.ObjectId | null = null;
  private loop: Promise<void> | null = null;

  private constructor(
    private readonly collection: mongo.Collection<LiveEvent>,
    private readonly log: Logger,
  ) {}

  static async open(conn: Connection, dbName: string, log: Logger): Promise<Subscriber> {
    const s = new Subscriber(await eventsCollection(conn, dbName), log);
    const newest = await s.collection.find({}, { sort: { $natural: -1 }, limit: 1, projection: { _id: 1 } }).toArray();
    s.lastId = newest[0]?._id ?? new Types.ObjectId(Types.ObjectId.createFromTime(0).toHexString());
    s.loop = s.run();
    return s;
  }

  on(topic: string, handler: Handler): () => void {
    const set = this.handlers.get(topic) ?? new Set<Handler>();
    set.add(handler);
    this.handlers.set(topic, set);
    return () => set.delete(handler);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        this.cursor = this.collection.find({ _id: { $gt: this.lastId! } }, { tailable: true, awaitData: true, maxAwaitTimeMS: 500 });
        for await (const event of this.cursor) {
          this.lastId = event._id;
          for (const h of this.handlers.get(event.topic) ?? []) {
            try {
              h(event);
            } catch (err) {
              this.log.error({ err: (err as Error).message, topic: event.topic }, 'live event handler failed');
            }
          }
          if (this.stopped) break;
        }
      } catch (err) {
        if (this.stopped) break;
        this.log.warn({ err: (err as Error).message }, 'live events cursor lost; reopening');
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 200));
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.cursor?.close().catch(() => undefined);
    await this.loop;
  }
}
