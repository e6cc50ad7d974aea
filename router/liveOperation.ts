import { randomUUID } from 'node:crypto';
import { GraphQLError, type FormattedExecutionResult } from 'graphql';
import type { ExecutionResult } from 'graphql-ws';
import type { AuditEntry } from '../platform/audit';
import { ErrorCode } from '../platform/errors';
import type { Identity } from '../platform/identity';
import type { Logger } from '../platform/logger';
import type { LiveEvent, Subscriber } from '../platform/pubsub';
import type { RouterContext } from './context';
import { EventStream } from './eventStream';
import { LIVE_FIELDS, type LiveField } from './liveFields';
import { accessScope } from './liveScope';
import type { LiveQuery } from './subscriptionQuery';

/** Runs the live query through Apollo Server + gateway, as an HTTP query would run. */
export type RunQuery = (plan: LiveQuery, variables: Record<string, unknown>, context: RouterContext) => Promise<FormattedExecutionResult>;

/** Where the router records who received an answer read with another subscriber's identity (platform/audit.ts AuditTrail). */
export interface AuditSink {
  write(entries: AuditEntry[], log: Logger): Promise<void>;
}

/** Events may queue this deep per group while earlier ones are being read (then the oldest is dropped). */
const MAX_PENDING_EVENTS = 100;
/** Answers one subscription may hold that its client has not taken yet (then the oldest is dropped). */
export const MAX_BUFFERED_PER_SUBSCRIPTION = 100;

/**
 * The live stream is polled this often while the router has subscriptions (every 50 ms otherwise,
 * platform/pubsub.ts): an event waits 10 ms on average instead of 25 before it is read. Once the
 * doorbell is seen to work (LIVE_DOORBELL_HOST), the rings bring the events and the stream is
 * polled every 250 ms only, to catch a lost ring (platform/pubsub.ts BELL_POLL_MS).
 */
const LIVE_POLL_MS = 20;

/** Answers that mean "this subscriber may not see this entity": the event is skipped silently. */
const NOT_FOR_THIS_SUBSCRIBER = new Set<string>([ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED, ErrorCode.NOT_FOUND]);

/**
 * One client subscription: its live query and who asked. Carried to graphql-ws's `subscribe` as
 * the operation's context value; LiveFanout serves it.
 */
export class LiveOperation {
  constructor(
    readonly plan: LiveQuery,
    readonly context: RouterContext,
  ) {}
}

interface Member {
  op: LiveOperation;
  stream: EventStream<ExecutionResult>;
  /** `_id` of the last event handed to this subscription: a later one only, each at most once. */
  lastSeq: number;
  counts: { delivered: number; skipped: number; droppedEvents: number };
  /** When it subscribed (ms): events published before are not its own. */
  started: number;
}

interface Job {
  event: LiveEvent;
  entityId: string;
  variables: Record<string, unknown>;
  /** The members subscribed when the event arrived: nobody who joined later gets it. */
  recipients: Member[];
}

/** Subscriptions with the same live query and access scope: one read per event serves them all. */
interface Group {
  key: string;
  plan: LiveQuery;
  field: LiveField;
  members: Set<Member>;
  pending: Job[];
  reading: boolean;
}

export interface FanoutStats {
  /** Reads made for events (one per event and group that the event concerns). */
  reads: number;
  /** Answers handed to subscriptions. */
  delivered: number;
  groups: number;
  subscriptions: number;
}

/**
 * Serves every live subscription of a router instance. Subscriptions are grouped by their live
 * query (subscriptionQuery.ts `key`) and their subscriber's access scope (liveScope.ts): the
 * subgraphs answer equal scopes alike, so each event is read once per group, with the identity of
 * one of its subscribers, and the answer goes to every subscriber of the group that was listening
 * when the event arrived. The rules decide who sees an event, not how many times it is read:
 * another scope is another read, with its own identity; an event the rules are sure to refuse a
 * scope (LiveField.mayConcern) is not read for it; an answer that says "not for you" reaches nobody
 * of that group. The subgraphs audit the read under the reader's identity; the router adds one
 * entry per other recipient (user, role, their subscription's request id, the entity and fields),
 * naming the read's request id, handed to the audit trail (platform/audit.ts AuditTrail: stored in
 * its next insert, logged in full if that fails) as the answer goes out.
 *
 * Each group reads its events one at a time, in stream order; a subscription gets each event at
 * most once (by the stream's `_id`). Memory per subscription is bounded: at most
 * MAX_BUFFERED_PER_SUBSCRIPTION answers a slow client has not taken (graphql-ws takes the next one
 * only when the previous one is written to the socket); answers are shared, not copied, between the
 * subscriptions of a group.
 */
export class LiveFanout {
  private readonly groups = new Map<string, Group>();
  private readonly byTopic = new Map<string, Set<Group>>();
  private readonly topicListeners = new Map<string, () => void>();
  readonly stats: FanoutStats = { reads: 0, delivered: 0, groups: 0, subscriptions: 0 };

  /** The stream's poll interval without subscriptions (the Subscriber's own). */
  private readonly idlePollMs: number;
  /** How often the live stream is polled while this router has subscriptions (ms). */
  private readonly livePollMs: number;
  /** While there are subscriptions, publishers ring this router's doorbell at this address (null: polls only). */
  private readonly doorbellHost: string | null;

  constructor(
    private readonly events: Subscriber,
    private readonly run: RunQuery,
    private readonly audit: AuditSink | null,
    private readonly log: Logger,
    opts: { livePollMs?: number; doorbellHost?: string | null } = {},
  ) {
    this.idlePollMs = events.pollInterval;
    this.livePollMs = opts.livePollMs ?? LIVE_POLL_MS;
    this.doorbellHost = opts.doorbellHost ?? null;
  }

  subscribe(op: LiveOperation): EventStream<ExecutionResult> {
    const field = LIVE_FIELDS[op.plan.field];
    if (!field) throw new Error(`No live field ${op.plan.field}`);
    const key = JSON.stringify([op.plan.key, accessScope(op.context.identity, op.plan.userScoped)]);
    let group = this.groups.get(key);
    if (!group) {
      group = { key, plan: op.plan, field, members: new Set(), pending: [], reading: false };
      this.groups.set(key, group);
      this.topicGroups(op.plan.topic).add(group);
      this.stats.groups = this.groups.size;
    }
    const joined = group;
    const member: Member = {
      op,
      lastSeq: this.events.position,
      counts: { delivered: 0, skipped: 0, droppedEvents: 0 },
      started: Date.now(),
      stream: new EventStream<ExecutionResult>(() => this.leave(joined, member), MAX_BUFFERED_PER_SUBSCRIPTION),
    };
    group.members.add(member);
    if (this.stats.subscriptions++ === 0) {
      this.events.setPollInterval(Math.min(this.livePollMs, this.idlePollMs));
      if (this.doorbellHost) void this.events.listenForBells(this.doorbellHost);
    }
    op.context.log.info({ operationName: op.plan.operationName, field: op.plan.field, subscribers: group.members.size }, 'subscription started');
    return member.stream;
  }

  private topicGroups(topic: string): Set<Group> {
    let set = this.byTopic.get(topic);
    if (!set) {
      const groups = new Set<Group>();
      set = groups;
      this.byTopic.set(topic, groups);
      this.topicListeners.set(
        topic,
        this.events.on(topic, (event) => {
          for (const g of bySize(groups)) this.offer(g, event);
        }),
      );
    }
    return set;
  }

  private leave(group: Group, member: Member): void {
    group.members.delete(member);
    if (--this.stats.subscriptions === 0) {
      this.events.setPollInterval(this.idlePollMs);
      void this.events.listenForBells(null);
    }
    const { op } = member;
    op.context.log.info(
      { operationName: op.plan.operationName, field: op.plan.field, ...member.counts, droppedResults: member.stream.dropped, durationMs: Date.now() - member.started },
      'subscription ended',
    );
    if (group.members.size > 0) return;
    this.groups.delete(group.key);
    this.stats.groups = this.groups.size;
    group.pending.length = 0;
    const topic = group.plan.topic;
    const set = this.byTopic.get(topic);
    set?.delete(group);
    if (set && set.size === 0) {
      this.byTopic.delete(topic);
      this.topicListeners.get(topic)?.();
      this.topicListeners.delete(topic);
    }
  }

  /** A new event on the group's topic: queued for one read if it is for this group at all. */
  private offer(group: Group, event: LiveEvent): void {
    const entityId = group.plan.entityIdFor(event.data);
    const variables = entityId === null ? null : group.plan.variablesFor(event.data);
    if (entityId === null || !variables) return;
    // Only events published since the subscription started: the stream's position when it joined
    // may be up to a poll behind (once a second while the router had no subscription).
    const recipients = [...group.members].filter((m) => event._id > m.lastSeq && event.at.getTime() >= m.started && !m.stream.isEnded);
    const first = recipients[0];
    if (!first) return;
    if (!group.field.mayConcern(event.data, first.op.context.identity)) {
      for (const m of recipients) m.counts.skipped++;
      return;
    }
    group.pending.push({ event, entityId, variables, recipients });
    if (group.pending.length > MAX_PENDING_EVENTS) {
      for (const m of group.pending.shift()!.recipients) m.counts.droppedEvents++;
    }
    if (!group.reading) void this.drain(group);
  }

  private async drain(group: Group): Promise<void> {
    group.reading = true;
    try {
      for (let job = group.pending.shift(); job; job = group.pending.shift()) await this.serve(group, job);
    } finally {
      group.reading = false;
    }
  }

  /** Reads one event for a group, with one listening subscriber's identity, and hands the answer to all. */
  private async serve(group: Group, job: Job): Promise<void> {
    const reader = job.recipients.find((m) => !m.stream.isEnded);
    if (!reader) return;
    const identity: Identity = reader.op.context.identity;
    const requestId = randomUUID();
    const log = this.log.child({ requestId, userId: identity.userId ?? null });
    this.stats.reads++;
    const began = performance.now();
    let message: ExecutionResult | null;
    try {
      message = visibleResult(await this.run(group.plan, job.variables, { identity, requestId, log }));
    } catch (err) {
      log.error({ err: (err as Error).message, field: group.plan.field }, 'live query failed');
      return;
    }
    const recipients = job.recipients.filter((m) => !m.stream.isEnded && job.event._id > m.lastSeq);
    if (!message) {
      for (const m of recipients) m.counts.skipped++;
      return;
    }
    // Handed to the audit trail before anyone gets the answer; stored in the trail's next insert
    // (or, if that fails, logged in full), while the answer goes out: waiting for a 1,000-entry
    // insert would delay every event by it.
    const others = recipients.filter((m) => m !== reader);
    if (this.audit && others.length > 0) void this.audit.write(others.map((m) => this.auditEntry(group, job, m, requestId)), log);
    log.info(
      { field: group.plan.field, event: job.event._id, recipients: recipients.length, sinceEventMs: Date.now() - new Date(job.event.at).getTime(), readMs: Math.round(performance.now() - began) },
      'live event fanned out',
    );
    for (const m of recipients) {
      if (m.stream.isEnded || job.event._id <= m.lastSeq) continue;
      m.lastSeq = job.event._id;
      m.counts.delivered++;
      this.stats.delivered++;
      m.stream.push(message);
    }
  }

  private auditEntry(group: Group, job: Job, member: Member, readRequestId: string): AuditEntry {
    const { identity, requestId } = member.op.context;
    return {
      at: new Date(),
      userId: identity.userId ?? null,
      role: identity.role ?? null,
      requestId,
      service: 'router',
      entityType: group.field.entityType,
      entityId: job.entityId,
      operation: 'READ',
      fields: group.plan.fields,
      outcome: 'ALLOWED',
      reason: `live event ${job.event._id} (${group.plan.field}): the answer read by request ${readRequestId}, whose entries list every record it read`,
    };
  }
}

/** The next message for the subscriber, or null when the answer says they may not see it. */
export function visibleResult(result: FormattedExecutionResult): ExecutionResult | null {
  const errors = result.errors ?? [];
  if (errors.some((e) => NOT_FOR_THIS_SUBSCRIBER.has(String(e.extensions?.code)))) return null;
  if (errors.length === 0) return { data: result.data };
  return {
    data: result.data,
    errors: errors.map((e) => new GraphQLError(e.message, { path: e.path, extensions: e.extensions })),
  };
}

/**
 * The groups of a topic, fewest subscribers first: their reads are sent first, so their answers
 * tend to come back first, and a doctor's or a patient's few sockets are written before the
 * hundreds of a staff group, not after them (the writes hold the event loop).
 */
function bySize(groups: Set<Group>): Group[] {
  return [...groups].sort((a, b) => a.members.size - b.members.size);
}
