import type { Connection, mongo } from 'mongoose';
import { Bells, Doorbell } from './doorbell';
import { isDuplicateKey } from './errors';
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
  /** The event's place in the stream: 1, 2, 3, … in the order the events were stored (see Publisher). */
  _id: number;
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
  /** doctors: data {id}; a doctor's profile, schedule or status changed (caches drop it: platform/entityCache.ts). */
  doctorChanged: 'doctor.changed',
  /** patients: data {id}; a patient's record changed or was erased. */
  patientChanged: 'patient.changed',
} as const;
/**
 * `live_stream`, not the former `live_events`, whose ObjectId `_id`s did not sort in the order events
 * were stored when several processes published in the same second (the tail skipped some).
 */
const COLLECTION = 'live_stream';
const CAPPED_BYTES = 16 * 1024 * 1024;
const CAPPED_DOCS = 50_000;

/** How the stream is made when a process finds none (tests use a small one to see old events fall out). */
export interface StreamOptions {
  /** At most this many events are kept (the capped collection's `max`); the oldest fall out. */
  maxEvents?: number;
}

async function eventsCollection(conn: Connection, dbName: string, opts: StreamOptions = {}): Promise<mongo.Collection<LiveEvent>> {
  const db = conn.useDb(dbName, { useCache: true }).db!;
  const exists = await db.listCollections({ name: COLLECTION }, { nameOnly: true }).toArray();
  if (exists.length === 0) {
    try {
      await db.createCollection(COLLECTION, { capped: true, size: CAPPED_BYTES, max: opts.maxEvents ?? CAPPED_DOCS });
    } catch (err) {
      // Another process created it first.
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
  }
  return db.collection<LiveEvent>(COLLECTION);
}

/** Which of `ids` are stored: one lookup by `_id` (served by the `_id` index everywhere). */
async function storedOf(collection: mongo.Collection<LiveEvent>, ids: number[]): Promise<Set<number>> {
  const docs = await collection.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray();
  return new Set(docs.map((d) => d._id));
}

/** `_id` of the oldest event kept (0 when there is none): a capped collection returns its documents oldest first. */
async function oldestSeq(collection: mongo.Collection<LiveEvent>): Promise<number> {
  const [oldest] = await collection.find({}, { limit: 1, projection: { _id: 1 } }).toArray();
  return typeof oldest?._id === 'number' ? oldest._id : 0;
}

/**
 * `_id` of the newest event stored (0 when there is none), found with `_id` lookups only: the
 * numbers from the oldest kept to the newest are all stored (no gaps, the oldest fall out first),
 * so the newest is found by galloping up from the oldest, then halving. Any sort or count of
 * the stream decodes all of it on the embedded FerretDB (1.7 s at 50,000 events); this takes a
 * few lookups. Under concurrent publishing it may name a slightly older one: a publisher then
 * meets the taken numbers and moves on.
 */
async function newestSeq(collection: mongo.Collection<LiveEvent>): Promise<number> {
  const oldest = await oldestSeq(collection);
  return oldest === 0 ? 0 : newestFrom(collection, oldest);
}

/** `_id` of the newest event stored, galloping up from `from`, a stored event's (see newestSeq). */
async function newestFrom(collection: mongo.Collection<LiveEvent>, from: number): Promise<number> {
  let low = from;
  let high = Infinity; // the lowest number known not to be stored above `low`
  while (high - low > 1) {
    const ids =
      high === Infinity
        ? Array.from({ length: 32 }, (_v, i) => low + 2 ** i)
        : [...new Set(Array.from({ length: 32 }, (_v, i) => low + Math.ceil(((high - low) * (i + 1)) / 33)))].filter((id) => id < high);
    if (ids.length === 0) break;
    const stored = await storedOf(collection, ids);
    for (const id of ids) {
      if (stored.has(id)) low = Math.max(low, id);
      else if (id > low) high = Math.min(high, id);
    }
  }
  return low;
}

/** How long a publish keeps trying for a free number while other publishers are faster. */
const PUBLISH_WAIT_MS = 10_000;
/**
 * How long the number after this process's last event is tried without checking that the last
 * event is still stored. Only while it cannot have fallen out of the stream: a number that did (the capped collection
 * drops the oldest events) is free again, and storing an event under it would put it behind
 * events the readers have passed, so they would never see it. To fall out within this time,
 * CAPPED_DOCS (50,000) newer events would have to be stored in it, far beyond the pace of one
 * stream whose numbers are claimed one insert at a time.
 */
const REUSE_NEXT_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Events of one process stored with one insert at most (the ones waiting while the last insert ran). */
const PUBLISH_BATCH = 100;

interface Pending {
  topic: string;
  data: Record<string, unknown>;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** How many documents of an ordered insert were stored before it failed (the driver's bulk write error). */
function insertedBefore(err: unknown): number {
  const inserted = (err as { insertedCount?: unknown }).insertedCount;
  return typeof inserted === 'number' ? inserted : 0;
}

/**
 * Publishes into one ordered stream shared by every process. Each event's `_id` is the newest
 * stored `_id` + 1, claimed by the insert itself (the `_id` index is unique: of two publishers
 * that try the same number, one insert wins and the other tries the next one). So event N is
 * stored only once N−1 is stored, the numbers grow in storage order and
 * never go backwards, and a reader that has seen N resumes with `_id > N` without skipping any
 * (works on MongoDB 7 and FerretDB 1.24 alike: an insert against a unique index is atomic on both).
 *
 * The events a process publishes while its last insert runs go together in its next one, an
 * ordered insert of consecutive numbers: whatever was stored before a taken number stays, the
 * rest tries the first free number after the taken ones. One won number then carries every waiting event: a busy
 * publisher beside a faster one no longer waits for a free number per event (one event at a time,
 * notifications' confirmations waited up to 10 s for their live events while appointments
 * published 70 a second, and every delivery job waited with them).
 */
export class Publisher {
  /** The number after this process's last event, and when it was stored (see REUSE_NEXT_MS). */
  private next = 0;
  private nextAt = 0;
  /** Events waiting for the insert in flight to end; this process runs one insert at a time (they would only race each other for numbers). */
  private readonly waiting: Pending[] = [];
  private storing = false;

  private constructor(
    private readonly collection: mongo.Collection<LiveEvent>,
    private readonly clock: () => number,
    /** The doorbells of readers waiting for events (platform/doorbell.ts), rung after each event stored. */
    private readonly bells: Bells,
  ) {}

  static async open(conn: Connection, dbName: string, opts: StreamOptions & { clock?: () => number } = {}): Promise<Publisher> {
    return new Publisher(await eventsCollection(conn, dbName, opts), opts.clock ?? Date.now, Bells.open(conn, dbName));
  }

  /** Settles once the event is stored (its order among this process's events is the order of the calls). */
  publish(topic: string, data: Record<string, unknown>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ topic, data, resolve, reject });
      if (!this.storing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.storing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, PUBLISH_BATCH);
      let stored = 0;
      try {
        await this.store(batch, (n) => {
          for (const e of batch.slice(stored, stored + n)) e.resolve();
          stored += n;
        });
      } catch (err) {
        for (const e of batch.slice(stored)) e.reject(err as Error);
      }
    }
    this.storing = false;
  }

  /** Stores `batch` in order under the next free numbers; `onStored(n)`: the next n of it are stored. */
  private async store(batch: Pending[], onStored: (n: number) => void): Promise<void> {
    const deadline = Date.now() + PUBLISH_WAIT_MS;
    // The number after the one this process stored last, while that one is surely still stored
    // (recent, or found by its `_id`; all after it are then stored too), else after the newest.
    const recent = this.next > 0 && (this.clock() - this.nextAt < REUSE_NEXT_MS || (await storedOf(this.collection, [this.next - 1])).size > 0);
    let seq = recent ? this.next : (await newestSeq(this.collection)) + 1;
    let done = 0;
    for (let attempt = 0; attempt === 0 || Date.now() < deadline; attempt++) {
      const docs = batch.slice(done).map((e, i) => ({ _id: seq + i, topic: e.topic, at: new Date(), data: e.data }));
      let inserted = docs.length;
      let clash = false;
      try {
        await this.collection.insertMany(docs, { ordered: true });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        inserted = insertedBefore(err);
        clash = true;
      }
      if (inserted > 0) {
        done += inserted;
        this.next = seq + inserted;
        this.nextAt = this.clock();
        this.bells.ring();
        onStored(inserted);
      }
      if (!clash) return;
      // `seq + inserted` is stored (the clash proves it), and so is every number up to the newest:
      // try the one after the newest. Trying only the next number lost to a publisher that
      // stores batches: one try per number it took (20 events: 20 round trips).
      seq = (await newestFrom(this.collection, seq + inserted)) + 1;
      this.next = 0;
      // Many publishers at once: spread the tries out so one of them wins each round.
      if (attempt > 2) await sleep(Math.random() * Math.min(attempt, 20));
    }
    throw new Error(`live event not published: other publishers kept taking the next number for ${PUBLISH_WAIT_MS / 1000} s`);
  }
}

type Handler = (event: LiveEvent) => void;

/** How often a subscriber asks for the next events while none are waiting. */
const POLL_MS = 50;
/** How many numbers one poll asks for; a full batch is followed by the next poll at once. */
const BATCH = 32;
/** The shortest pause between two reads that rings asked for. */
const RING_GAP_MS = 2;
/**
 * How often a reader polls while its doorbell is known to work: the publishers' rings bring the
 * events, the poll only catches one whose ring was lost. "Known to work": a ring found events and
 * no poll found one since that no ring had announced (then it polls at its own pace again for
 * BELL_DOUBT_MS, see Subscriber.run).
 */
const BELL_POLL_MS = 250;
const BELL_DOUBT_MS = 10_000;
/** A poll that found events before their ring came: a ring within this time still announced them. */
const RING_GRACE_MS = 100;
/** How long an empty stream is polled before checking that older events did not fall out of it. */
const GAP_CHECK_MS = 30_000;

/**
 * Reads the stream from "now" and hands every event to the handlers of its topic, in stream
 * order, each once (`pollMs`: 50 by default, for the router's subscriptions; a cache that only
 * drops entries may poll less often). It asks for the next numbers by `_id` (`lastSeq + 1 …`, an `_id` index lookup
 * on every server; the embedded one included, scripts/ferretdb/overlay) every POLL_MS, at once
 * again after a full batch, and at once when its doorbell rings (`listenForBells`, platform/doorbell.ts). Not a tailable cursor: FerretDB answers an awaitData cursor by running
 * its query again every 10 ms, and a range on `_id` decodes the whole capped collection each time
 * (a router alone kept the database at 20 % of a core after 500 bookings).
 * Numbers are stored without gaps (see Publisher), so a missing number before a stored one has
 * fallen out of the capped collection: the reader says so and goes on after the gap. Errors
 * (database away) pause and retry from the same place.
 */
export class Subscriber {
  private readonly handlers = new Map<string, Set<Handler>>();
  private stopped = false;
  private lastSeq = 0;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private emptySince = Date.now();
  private readonly gapHandlers = new Set<() => void>();
  private readonly lagHandlers = new Set<(seconds: number) => void>();
  /** Whether the last read of the stream succeeded (readiness: the stream is being tailed). */
  private lastReadOk = false;
  /** Rung while a poll ran: poll again at once (the event may have been stored after it read). */
  private rung = false;
  private doorbell: Promise<Doorbell | null> | null = null;
  /** The doorbell is open; a read that a ring caused found events; until when the doorbell is doubted (see judgeBells). */
  private bellOpen = false;
  private bellsWork = false;
  private doubtUntil = 0;
  /** When the last ring came, and when a poll found events that no ring had announced yet (0: none). */
  private lastRingAt = 0;
  private unannouncedAt = 0;

  private constructor(
    private readonly collection: mongo.Collection<LiveEvent>,
    private readonly log: Logger,
    private pollMs: number,
    private readonly conn: Connection,
    private readonly gapCheckMs: number,
  ) {}

  static async open(conn: Connection, dbName: string, log: Logger, opts: { pollMs?: number; gapCheckMs?: number } = {}): Promise<Subscriber> {
    const s = new Subscriber(await eventsCollection(conn, dbName), log, opts.pollMs ?? POLL_MS, conn, opts.gapCheckMs ?? GAP_CHECK_MS);
    s.lastSeq = await newestSeq(s.collection);
    s.lastReadOk = true;
    s.loop = s.run();
    const opened = openedOn.get(conn) ?? new Set<Subscriber>();
    opened.add(s);
    openedOn.set(conn, opened);
    return s;
  }

  /** The readers a service opened on its connection and has not closed (its metrics and readiness watch them). */
  static openedOn(conn: Connection): Subscriber[] {
    return [...(openedOn.get(conn) ?? [])];
  }

  /** True while the reader runs and its last read of the stream succeeded. */
  get tailing(): boolean {
    return !this.stopped && this.lastReadOk;
  }

  /** Called with each event's lag (seconds from publish to hand-on) as it is handed on. */
  onLag(handler: (seconds: number) => void): () => void {
    this.lagHandlers.add(handler);
    return () => this.lagHandlers.delete(handler);
  }

  on(topic: string, handler: Handler): () => void {
    const set = this.handlers.get(topic) ?? new Set<Handler>();
    set.add(handler);
    this.handlers.set(topic, set);
    return () => set.delete(handler);
  }

  /** How often the stream is asked for new events while none are waiting (ms). */
  get pollInterval(): number {
    return this.pollMs;
  }

  /** The pause between two polls now: longer than `pollInterval` while the doorbell brings the events. */
  get currentPollMs(): number {
    const now = Date.now();
    // Events a poll found that stayed unannounced past RING_GRACE_MS count as doubt already (run() then sets doubtUntil).
    const doubted = now < this.doubtUntil || (this.unannouncedAt !== 0 && now - this.unannouncedAt > RING_GRACE_MS);
    return this.bellOpen && this.bellsWork && !doubted ? Math.max(this.pollMs, BELL_POLL_MS) : this.pollMs;
  }

  /** Polls every `ms` from now on (the router polls more often while it serves live subscriptions). */
  setPollInterval(ms: number): void {
    const sooner = ms < this.pollMs;
    this.pollMs = ms;
    if (sooner) this.wake?.();
  }

  /**
   * With a host (LIVE_DOORBELL_HOST): opens a doorbell (platform/doorbell.ts) that publishers ring
   * after each event, so events are read as they are stored, not at the next poll; without: closes
   * it. For a reader that serves people waiting (a router with subscriptions); each ring costs a read.
   * Once rings are seen to bring the events, the reader polls every BELL_POLL_MS only (see
   * `currentPollMs`), and at its own pace again for a while after a poll found an event no ring announced.
   */
  listenForBells(host: string | null): Promise<void> {
    const previous = this.doorbell;
    if (host === null || this.stopped) {
      this.doorbell = null;
      this.bellOpen = this.bellsWork = false;
      return previous ? previous.then((d) => d?.close()) : Promise.resolve();
    }
    if (previous) return previous.then(() => undefined);
    const opening = Doorbell.open(this.conn, this.collection.dbName, host, this.log, () => this.ringed()).then(
      (bell) => {
        if (this.doorbell === opening) this.bellOpen = true;
        return bell;
      },
      (err: Error) => {
        this.log.warn({ err: err.message, host }, 'live doorbell not opened; events arrive at the next poll');
        return null;
      },
    );
    this.doorbell = opening;
    return opening.then(() => undefined);
  }

  /**
   * Events found by a read that a ring caused show that the doorbell works; events found by a
   * plain poll mean a ring was lost (or a publisher does not ring): poll at the reader's own pace
   * again for a while.
   */
  private judgeBells(byBell: boolean): void {
    const now = Date.now();
    if (byBell) this.bellsWork = true;
    // A plain poll may read an event in the moment between its storing and its ring: a ring just
    // before, during or soon after the poll announced it.
    else if (!this.rung && now - this.lastRingAt > RING_GRACE_MS && this.unannouncedAt === 0) this.unannouncedAt = now;
  }

  /** Events a poll found stayed unannounced (no ring within RING_GRACE_MS): doubt the doorbell for a while. */
  private checkUnannounced(): void {
    if (this.unannouncedAt === 0 || Date.now() - this.unannouncedAt <= RING_GRACE_MS) return;
    this.doubtUntil = Date.now() + BELL_DOUBT_MS;
    this.unannouncedAt = 0;
  }

  private ringed(): void {
    this.lastRingAt = Date.now();
    if (this.lastRingAt - this.unannouncedAt <= RING_GRACE_MS) this.unannouncedAt = 0;
    this.rung = true;
    this.wake?.();
  }

  /** Called when events fell out of the stream before this reader saw them. */
  onGap(handler: () => void): () => void {
    this.gapHandlers.add(handler);
    return () => this.gapHandlers.delete(handler);
  }

  /** Polls run one at a time (the loop's and catch-ups): two at once would hand events on twice. */
  private chain: Promise<unknown> = Promise.resolve();
  /** A catch-up queued behind the poll under way, not started yet: later callers share it. */
  private queued: Promise<void> | null = null;

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** When (`performance.now()`) the latest read began that reached the stream's end (see catchUp). */
  private caughtUpFrom = -Infinity;

  /**
   * Resolves once every event stored before the call, or before `since` (a `performance.now()`
   * of this process, e.g. when the request began), has been handed on: read-your-writes for a
   * cache, a change announced before a request is seen by it. At once when a read that began after
   * `since` has reached the stream's end (numbers have no gaps, so it saw every event stored
   * before it began); else one `_id` lookup when nothing is new, shared by the callers that arrive
   * before it starts.
   */
  catchUp(since?: number): Promise<void> {
    if (since !== undefined && this.caughtUpFrom > since) return Promise.resolve();
    if (this.queued) return this.queued;
    const run = this.exclusive(async () => {
      this.queued = null;
      while (!this.stopped && (await this.poll()) === BATCH);
    });
    this.queued = run;
    return run;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const byBell = this.rung;
      this.rung = false;
      let pause = this.pollMs;
      try {
        const found = await this.exclusive(() => this.poll());
        if (found > 0 && this.bellOpen) this.judgeBells(byBell);
        this.checkUnannounced();
        pause = this.currentPollMs;
        if (found === BATCH) pause = 0;
        // Rung meanwhile: once more at once, but at most every RING_GAP_MS (stray datagrams are only hints).
        else if (this.rung) pause = RING_GAP_MS;
        this.lastReadOk = true;
      } catch (err) {
        if (this.stopped) break;
        this.lastReadOk = false;
        this.log.warn({ err: (err as Error).message }, 'live events not read; trying again');
        pause = 500;
      }
      if (pause > 0 && !this.stopped) await new Promise<void>((r) => {
        const t = setTimeout(r, pause);
        this.wake = () => (clearTimeout(t), r());
      });
      this.wake = null;
    }
  }

  /** Hands on the events after `lastSeq` that are stored; returns how many were found. */
  private async poll(): Promise<number> {
    const began = performance.now();
    const found = await this.read();
    if (found < BATCH) this.caughtUpFrom = began;
    return found;
  }

  private async read(): Promise<number> {
    const ids = Array.from({ length: BATCH }, (_, i) => this.lastSeq + 1 + i);
    const events = (await this.collection.find({ _id: { $in: ids } }).toArray()).sort((x, y) => x._id - y._id);
    if (events.length === 0) {
      if (Date.now() - this.emptySince >= this.gapCheckMs) await this.skipGap();
      return 0;
    }
    this.emptySince = Date.now();
    for (const event of events) {
      if (this.stopped) break;
      if (event._id !== this.lastSeq + 1) this.gap(event._id);
      this.lastSeq = event._id;
      this.deliver(event);
    }
    return events.length;
  }

  /**
   * Nothing after `lastSeq` for a while: if the next events fell out of the stream (then so did
   * `lastSeq`, the oldest go first), go on from the oldest kept. Two `_id` lookups.
   */
  private async skipGap(): Promise<void> {
    this.emptySince = Date.now();
    if (this.lastSeq > 0 && (await storedOf(this.collection, [this.lastSeq])).size > 0) return;
    const oldest = await oldestSeq(this.collection);
    if (oldest > this.lastSeq + 1) {
      this.gap(oldest);
      this.lastSeq = oldest - 1;
    }
  }

  private gap(next: number): void {
    this.log.warn({ from: this.lastSeq + 1, to: next - 1 }, 'live events fell out of the stream before they were read (reader too slow)');
    for (const h of this.gapHandlers) h();
  }

  private deliver(event: LiveEvent): void {
    if (this.lagHandlers.size > 0) {
      const lag = Math.max(0, (Date.now() - new Date(event.at).getTime()) / 1000);
      for (const h of this.lagHandlers) h(lag);
    }
    for (const h of this.handlers.get(event.topic) ?? []) {
      try {
        h(event);
      } catch (err) {
        this.log.error({ err: (err as Error).message, topic: event.topic }, 'live event handler failed');
      }
    }
  }

  /** `_id` of the last event handed on (resumes after it). */
  get position(): number {
    return this.lastSeq;
  }

  async close(): Promise<void> {
    this.stopped = true;
    openedOn.get(this.conn)?.delete(this);
    this.wake?.();
    await this.loop;
    await this.listenForBells(null);
  }
}

const openedOn = new WeakMap<Connection, Set<Subscriber>>();
