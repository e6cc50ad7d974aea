import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, parse, specifiedRules, validate, type DocumentNode, type OperationDefinitionNode, type ExecutionArgs, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { ConnectionInitMessage, Context, Disposable, SubscribePayload } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { ErrorCode } from '../platform/errors';
import type { Identity } from '../platform/identity';
import type { Logger } from '../platform/logger';
import type { Subscriber } from '../platform/pubsub';
import { bearerExpiry, identityFromAuthorization } from './auth';
import type { RouterContext } from './context';
import { LiveFanout, LiveOperation, type AuditSink, type FanoutStats, type RunQuery } from './liveOperation';
import { userScopedFields } from './liveScope';
import { checkCost, type ListSizes } from './queryCost';
import { planLiveQuery } from './subscriptionQuery';
import { TrustedDocuments } from './trustedDocuments';

/** graphql-ws close code for a refused or expired session (as onConnect's `false`). */
const FORBIDDEN_CLOSE = 4403;
/** Close code for a user's connection beyond WS_MAX_CONNECTIONS_PER_USER (as HTTP's 429). */
export const TOO_MANY_CONNECTIONS_CLOSE = 4429;
export const TOO_MANY_CONNECTIONS_REASON = 'Too many connections';

interface ConnectionState {
  identity: Identity;
  expiry: NodeJS.Timeout;
  /** Set once the connection counts towards its user's connections (released on close). */
  counted: boolean;
}
type ConnectionContext = Context<ConnectionInitMessage['payload'], Extra & Partial<ConnectionState>>;

export interface LiveSubscriptionsOptions {
  jwtSecret: string;
  /** Live events of the whole cluster (platform/pubsub.ts). */
  events: Subscriber;
  /** The PHI audit trail: who received an answer read with another subscriber's identity (liveOperation.ts). */
  audit: AuditSink | null;
  /** The HTTP path's depth/alias rules (graphql-armor). */
  validationRules: readonly ValidationRule[];
  /** The HTTP path's cost limit (queryCost.ts). */
  costLimit: { maxCost: number; listSizes: ListSizes };
  maxTokens: number;
  maxPayloadBytes: number;
  /** TRUSTED_DOCUMENTS: only the documents of these manifests may subscribe (trustedDocuments.ts). */
  trustedDocuments?: TrustedDocuments | null;
  /** Open connections one user may hold on this router instance; the next is closed with 4429. */
  maxConnectionsPerUser: number;
  /** Subscriptions one connection may hold at a time; the next is refused (RATE_LIMITED). */
  maxSubscriptionsPerConnection: number;
  /** Where publishers ring this router while it has subscriptions (LIVE_DOORBELL_HOST); null: polls only. */
  doorbellHost?: string | null;
  production: boolean;
  log: Logger;
}

/**
 * GraphQL subscriptions over graphql-ws on the router's own HTTP server. @apollo/gateway cannot
 * execute subscriptions, so each one is validated against the gateway's API schema, turned into a
 * query that re-reads the changed entity (subscriptionQuery.ts), and run through Apollo Server for
 * every matching live event, once per live query and access scope (liveOperation.ts LiveFanout),
 * with a subscriber's identity: subgraphs authorise each read.
 * Only signed-in users may connect (a Bearer token in `connectionParams.authorization`), each with
 * at most `maxConnectionsPerUser` open connections per router instance (the next is closed with
 * 4429 "Too many connections") and `maxSubscriptionsPerConnection` subscriptions per connection.
 */
export class LiveSubscriptions {
  private schema: GraphQLSchema | null = null;
  /** Fields whose answer may depend on the user id, from the supergraph (liveScope.ts). */
  private userScoped: ReadonlySet<string> | null = null;
  private fanout: LiveFanout | null = null;
  private disposable: Disposable | null = null;
  /** Accepted, still open connections per user id. */
  private readonly connections = new Map<string, number>();
  /** The accepted, still open connections themselves (their subscriptions are counted for /metrics). */
  private readonly accepted = new Set<ConnectionContext>();

  constructor(private readonly opts: LiveSubscriptionsOptions) {}

  /** Keeps the gateway's API schema current and closes every socket when Apollo Server drains. */
  plugin(): ApolloServerPlugin<RouterContext> {
    return {
      serverWillStart: async () => ({
        schemaDidLoadOrUpdate: ({ apiSchema, coreSupergraphSdl }) => {
          this.userScoped = coreSupergraphSdl ? userScopedFields(coreSupergraphSdl) : null;
          this.schema = apiSchema;
        },
        drainServer: () => this.close(),
      }),
    };
  }

  listen(httpServer: HttpServer, path: string, server: ApolloServer<RouterContext>): void {
    const run: RunQuery = async (plan, variables, contextValue) => {
      const res = await server.executeOperation({ query: plan.query, variables, operationName: plan.operationName ?? undefined }, { contextValue });
      if (res.body.kind === 'single') return res.body.singleResult;
      return { errors: [{ message: 'Incremental delivery is not supported in subscriptions', extensions: { code: ErrorCode.BAD_USER_INPUT } }] };
    };
    const fanout = new LiveFanout(this.opts.events, run, this.opts.audit, this.opts.log, { doorbellHost: this.opts.doorbellHost ?? null });
    this.fanout = fanout;
    const wss = new WebSocketServer({ server: httpServer, path, maxPayload: this.opts.maxPayloadBytes });
    this.disposable = useServer<ConnectionInitMessage['payload'], Partial<ConnectionState>>(
      {
        isProd: this.opts.production,
        onConnect: (ctx) => this.connect(ctx),
        onSubscribe: (ctx, _id, payload) => {
          const answer = this.prepare(ctx, payload);
          if (isErrors(answer)) {
            const errors = answer.map((e) => e.extensions.code ?? 'UNKNOWN');
            this.opts.log.info({ operationName: payload.operationName ?? null, userId: ctx.extra.identity?.userId ?? null, errors }, 'subscription refused');
          }
          return answer;
        },
        subscribe: (args) => {
          if (!(args.contextValue instanceof LiveOperation)) throw new Error('A subscription reached execution without its live query');
          return fanout.subscribe(args.contextValue);
        },
        onClose: (ctx) => {
          clearTimeout(ctx.extra.expiry);
          if (ctx.extra.counted && ctx.extra.identity?.userId) this.release(ctx.extra.identity.userId);
          this.accepted.delete(ctx);
        },
      },
      wss,
    );
  }

  /** Reads, deliveries, groups and subscriptions of the fan-out so far (tests, benchmarks). */
  get stats(): FanoutStats | null {
    return this.fanout?.stats ?? null;
  }

  /** Accepted open connections and their active subscriptions on this router instance (platform/metrics.ts). */
  get counts(): { connections: number; subscriptions: number } {
    let subscriptions = 0;
    for (const ctx of this.accepted) subscriptions += Object.keys(ctx.subscriptions).length;
    return { connections: this.accepted.size, subscriptions };
  }

  async close(): Promise<void> {
    const disposable = this.disposable;
    this.disposable = null;
    await disposable?.dispose();
  }

  /**
   * connection_init: a valid Bearer token or the socket is closed with 4403; closes again when it
   * expires. A user's connection beyond `maxConnectionsPerUser` is closed with 4429.
   */
  private async connect(ctx: ConnectionContext): Promise<boolean> {
    const params = ctx.connectionParams ?? {};
    const authorization = params.authorization ?? params.Authorization;
    let identity: Identity = {};
    if (typeof authorization === 'string') {
      identity = await identityFromAuthorization(authorization, this.opts.jwtSecret).catch((): Identity => ({}));
    }
    if (!identity.userId || typeof authorization !== 'string') {
      this.opts.log.info({ reason: typeof authorization === 'string' ? 'invalid token' : 'no token' }, 'subscription connection refused');
      return false;
    }
    // Counted after the token check's await, in one synchronous step: racing connections of one
    // user cannot all slip under the cap.
    const open = this.connections.get(identity.userId) ?? 0;
    if (open >= this.opts.maxConnectionsPerUser) {
      this.opts.log.info({ userId: identity.userId, open }, 'subscription connection refused: too many connections');
      // This close frame goes first; graphql-ws's own close after `false` finds the socket closing.
      ctx.extra.socket.close(TOO_MANY_CONNECTIONS_CLOSE, TOO_MANY_CONNECTIONS_REASON);
      return false;
    }
    this.connections.set(identity.userId, open + 1);
    ctx.extra.counted = true;
    this.accepted.add(ctx);
    ctx.extra.identity = identity;
    const expiresAt = bearerExpiry(authorization);
    if (expiresAt) {
      const close = () => ctx.extra.socket.close(FORBIDDEN_CLOSE, 'Session expired; reconnect with a new access token');
      ctx.extra.expiry = setTimeout(close, Math.max(0, expiresAt.getTime() - Date.now())).unref();
    }
    return true;
  }

  private release(userId: string): void {
    const open = (this.connections.get(userId) ?? 1) - 1;
    if (open > 0) this.connections.set(userId, open);
    else this.connections.delete(userId);
  }

  /** subscribe: parse, validate like HTTP, plan the live query; errors go to the client, the socket stays. */
  private prepare(ctx: ConnectionContext, payload: SubscribePayload): ExecutionArgs | readonly GraphQLError[] {
    const identity = ctx.extra.identity;
    const schema = this.schema;
    const userScoped = this.userScoped;
    if (!identity?.userId) return [clientError('Sign in first', ErrorCode.UNAUTHENTICATED)];
    if (!schema || !userScoped) return [clientError('The graph is not ready yet; try again shortly', ErrorCode.SUBGRAPH_UNAVAILABLE)];
    // graphql-ws has entered this one already.
    if (Object.keys(ctx.subscriptions).length > this.opts.maxSubscriptionsPerConnection) {
      return [clientError(`At most ${this.opts.maxSubscriptionsPerConnection} subscriptions per connection`, ErrorCode.RATE_LIMITED)];
    }
    if (this.opts.trustedDocuments && !this.opts.trustedDocuments.allows(payload.query, undefined)) return [TrustedDocuments.refusal()];
    let document: DocumentNode;
    try {
      document = parse(payload.query, { maxTokens: this.opts.maxTokens });
    } catch (err) {
      return [clientError((err as Error).message, 'GRAPHQL_PARSE_FAILED')];
    }
    const invalid = validate(schema, document, [...specifiedRules, ...this.opts.validationRules]);
    if (invalid.length > 0) {
      return invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED, ...e.extensions } }));
    }
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!payload.operationName || d.name?.value === payload.operationName),
    );
    const tooCostly = operation && checkCost({ schema, document, operation, variables: payload.variables ?? {}, listSizes: this.opts.costLimit.listSizes }, this.opts.costLimit.maxCost);
    if (tooCostly) return [tooCostly];
    const plan = planLiveQuery(schema, document, payload.operationName, payload.variables ?? {}, userScoped);
    if (Array.isArray(plan)) return plan;
    const requestId = randomUUID();
    const context: RouterContext = { identity, requestId, log: this.opts.log.child({ requestId, userId: identity.userId }) };
    return {
      schema,
      document,
      operationName: payload.operationName,
      variableValues: payload.variables,
      contextValue: new LiveOperation(plan, context),
    };
  }
}

const isErrors = (answer: ExecutionArgs | readonly GraphQLError[]): answer is readonly GraphQLError[] => Array.isArray(answer);
const clientError = (message: string, code: string): GraphQLError => new GraphQLError(message, { extensions: { code } });
