import { GraphQLError, type FormattedExecutionResult } from 'graphql';
import type { ExecutionResult } from 'graphql-ws';
import { ErrorCode } from '../platform/errors';
import type { LiveEvent, Subscriber } from '../platform/pubsub';
import type { RouterContext } from './context';
import { EventStream } from './eventStream';
import type { LiveQuery } from './subscriptionQuery';

/** Runs the live query through Apollo Server + gateway, as an HTTP query would run. */
export type RunQuery = (plan: LiveQuery, variables: Record<string, unknown>, context: RouterContext) => Promise<FormattedExecutionResult>;

/** Events may queue this deep per subscription while earlier ones are being read. */
const MAX_PENDING_EVENTS = 100;

/** Answers that mean "this subscriber may not see this entity": the event is skipped silently. */
const NOT_FOR_THIS_SUBSCRIBER = new Set<string>([ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED, ErrorCode.NOT_FOUND]);

/**
 * One client subscription: listens to its topic, re-reads each matching event's entity with the
 * subscriber's identity (one at a time, in event order) and streams what the subscriber may see.
 * Carried to graphql-ws's `subscribe` as the operation's context value.
 */
export class LiveOperation {
  constructor(
    readonly plan: LiveQuery,
    readonly context: RouterContext,
  ) {}

  start(events: Subscriber, run: RunQuery): EventStream<ExecutionResult> {
    const started = Date.now();
    const counts = { delivered: 0, skipped: 0, droppedEvents: 0 };
    const pending: Record<string, unknown>[] = [];
    let reading = false;

    const stream = new EventStream<ExecutionResult>(() => {
      unsubscribe();
      this.context.log.info(
        { operationName: this.plan.operationName, field: this.plan.field, ...counts, droppedResults: stream.dropped, durationMs: Date.now() - started },
        'subscription ended',
      );
    });

    const readPending = async (): Promise<void> => {
      reading = true;
      for (let variables = pending.shift(); variables && !stream.isEnded; variables = pending.shift()) {
        try {
          const message = visibleResult(await run(this.plan, variables, this.context));
          if (!message) counts.skipped++;
          else if (!stream.isEnded) {
            counts.delivered++;
            stream.push(message);
          }
        } catch (err) {
          if (!stream.isEnded) this.context.log.error({ err: (err as Error).message, field: this.plan.field }, 'live query failed');
        }
      }
      reading = false;
    };

    const unsubscribe = events.on(this.plan.topic, (event: LiveEvent) => {
      const variables = this.plan.variablesFor(event.data);
      if (!variables || stream.isEnded) return;
      pending.push(variables);
      if (pending.length > MAX_PENDING_EVENTS) {
        pending.shift();
        counts.droppedEvents++;
      }
      if (!reading) void readPending();
    });

    this.context.log.info({ operationName: this.plan.operationName, field: this.plan.field }, 'subscription started');
    return stream;
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
