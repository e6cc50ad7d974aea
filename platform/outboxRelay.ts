import type { Model, Types } from 'mongoose';
import type { Agenda } from 'agenda';
import type { Logger } from './logger';
import { markHandled, pendingEvents, type OutboxEvent, type OutboxFields } from './outbox';

/** What to do with one event type; must be idempotent (it may run twice). */
export type EventHandler<T> = (event: OutboxEvent, doc: T) => Promise<void>;

/**
 * Hands a service's outbox events on: right after the change that wrote them (`dispatch`, on the
 * request path, errors only logged) and, as the safety net, from a recurring Agenda job that
 * sweeps documents still flagged `outboxPending` (e.g. after a crash or while a peer was down).
 */
export class OutboxRelay<T extends OutboxFields & { _id: Types.ObjectId }> {
  /**
   * @param serialize runs the sweep's work on one document exclusively with the service's own
   *   writes to it (a claim or write queue): on FerretDB an update rewrites the whole document, so
   *   an unserialised `markHandled` could undo a change made meanwhile.
   */
  constructor(
    private readonly model: Model<T>,
    private readonly handlers: Record<string, EventHandler<T>>,
    private readonly log: Logger,
    private readonly serialize: (docId: string, work: () => Promise<boolean>) => Promise<boolean> = (_id, work) => work(),
    /** Event types whose hand-on does not depend on the events before them: started at once, beside those. */
    private readonly independent: ReadonlySet<string> = new Set(),
  ) {}

  /**
   * Hands on the pending events of one document: each after the one before it has been handed on,
   * except events of `independent` types, which start at once. Events stop at the first failure
   * (those after it in order are not started); the document counts as handled up to the first
   * event that failed, so the sweep hands that one and all after it on again (handlers are idempotent).
   */
  async dispatch(doc: T): Promise<boolean> {
    let chain: Promise<void> = Promise.resolve();
    const outcomes = pendingEvents(doc).map((event) => {
      const handler = this.handlers[event.type];
      let started = false;
      const handOn = async () => {
        started = true;
        if (handler) await handler(event, doc);
      };
      const done = this.independent.has(event.type) ? handOn() : (chain = chain.then(handOn));
      return done.then(
        () => true,
        (err: Error) => {
          // An event not started because one before it failed is not a failure of its own.
          if (started) this.log.warn({ err: err.message, event: event.type, docId: String(doc._id) }, 'outbox event not handed on yet');
          return false;
        },
      );
    });
    const ok = await Promise.all(outcomes);
    const firstFailed = ok.indexOf(false);
    const handledNow = firstFailed === -1 ? ok.length : firstFailed;
    const handled = (doc.outboxHandled ?? 0) + handledNow;
    if (handledNow > 0) await markHandled(this.model, doc._id, handled);
    return handled === doc.outboxSeq;
  }

  /** Best effort, for the request path. */
  dispatchSoon(doc: T): void {
    this.dispatch(doc).catch((err: Error) => this.log.warn({ err: err.message }, 'outbox dispatch failed; the sweep retries'));
  }

  async sweep(limit = 200): Promise<number> {
    const docs = await this.model.find({ outboxPending: true }, { _id: 1 }).limit(limit).lean<{ _id: Types.ObjectId }[]>();
    let done = 0;
    for (const { _id } of docs) {
      const ok = await this.serialize(String(_id), async () => {
        // Re-read inside: the document may have changed since the scan.
        const doc = await this.model.findById(_id).lean<T>();
        return doc ? this.dispatch(doc) : true;
      }).catch((err: Error) => {
        this.log.warn({ err: err.message, docId: String(_id) }, 'outbox sweep skipped a busy document');
        return false;
      });
      if (ok) done++;
    }
    return done;
  }

  /** Defines and schedules `<name>` as a recurring sweep (one runs at a time, cluster-wide). */
  async schedule(agenda: Agenda, name: string, everySeconds: number): Promise<void> {
    agenda.define(name, { lockLifetime: 60_000 }, async () => {
      await this.sweep();
    });
    await agenda.every(`${everySeconds} seconds`, name);
  }
}

/**
 * Several handlers for one event type that do not depend on each other, run at the same time; the
 * event is handed on when all are (each idempotent, so a retry may repeat all).
 */
export function allOf<T>(...handlers: EventHandler<T>[]): EventHandler<T> {
  return async (event, doc) => {
    await Promise.all(handlers.map((handler) => handler(event, doc)));
  };
}

/** The `_id` of the job that hands on one outbox event. */
export function eventJobId(eventId: string): string {
  return `event-${eventId}`;
}

/**
 * A handler that queues an Agenda job for the event, once per event id (idempotent): the job's
 * `_id` is made from the event's, so queueing it again finds the job by `_id` (an index lookup
 * on every server; a query on `data.eventId` read every queued job of the name on the embedded one).
 */
export function enqueueJob<T>(agenda: Agenda, jobName: string, data: (event: OutboxEvent, doc: T) => Record<string, unknown>): EventHandler<T> {
  return async (event, doc) => {
    const job = agenda.create(jobName, { eventId: String(event._id), type: event.type, ...event.data, ...data(event, doc) });
    job.unique({ _id: eventJobId(String(event._id)) }, { insertOnly: true });
    job.schedule(new Date());
    await job.save();
  };
}
