import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { loadConfig, dbName, ALL_SECRET_NAMES, type Config } from '../platform/config';
import { connectDb } from '../platform/db';
import type { SubgraphContext } from '../platform/context';
import { signIdentity, signingKey, type Identity, type SignOptions } from '../platform/identity';
import { createLogger } from '../platform/logger';
import { startSubgraph, type RunningSubgraph, type SubgraphDefinition } from '../platform/subgraph';
import { SUBGRAPHS, subgraphUrlEnv, type SubgraphName } from '../platform/services';
import { AUDIT_DB } from '../platform/audit';
import { JOBS_DB } from '../platform/jobs';
import { EVENTS_DB } from '../platform/pubsub';
import { QUEUES_DB } from '../platform/queue';
import { ROUTER_DB } from '../router/idempotency';
import { randomSecret } from '../scripts/secrets';
import { startRouter, type RunningRouter } from '../router/server';

/**
 * Where a test finds a subgraph it did not start: nowhere (the discard port refuses). Not the
 * supergraph's default ports, where `npm start` may be serving beside the suite.
 */
const NO_SUBGRAPH_URL = 'http://127.0.0.1:9/graphql';

/**
 * A config whose databases belong to this test file alone (random DB_PREFIX), logging silenced,
 * with the run's random secrets (test/globalSetup.ts; random here too when a file runs without it).
 */
export function testConfig(overrides: Record<string, string> = {}): Config {
  if (!process.env.MONGODB_URI) throw new Error('MONGODB_URI missing: tests run through jest globalSetup');
  for (const name of ALL_SECRET_NAMES) process.env[name] ??= randomSecret(name);
  return loadConfig({
    ...Object.fromEntries(SUBGRAPHS.map((name) => [subgraphUrlEnv(name), NO_SUBGRAPH_URL])),
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DB_PREFIX: `test_${randomBytes(4).toString('hex')}`,
    DB_CONNECT_RETRIES: '2',
    BCRYPT_ROUNDS: '4',
    JOBS_PROCESS_EVERY_MS: '100',
    OUTBOX_SWEEP_SECONDS: '1',
    ...overrides,
  });
}

export const silentLog = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');

/** Opens a service's test database directly, for service-level tests. */
export function openDb(cfg: Config, service: string): Promise<mongoose.Connection> {
  return connectDb(cfg, service, silentLog);
}

/** Drops every database of this test file's prefix. */
export async function dropTestDatabases(cfg: Config, services: readonly string[]): Promise<void> {
  const conn = await mongoose.createConnection(cfg.MONGODB_URI!).asPromise();
  try {
    for (const s of services) await conn.useDb(dbName(cfg, s)).dropDatabase();
  } finally {
    await conn.close();
  }
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export function postGraphQL<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  return postBody<T>(url, JSON.stringify({ query, variables }), headers);
}

/** POSTs these exact body bytes as JSON (a signed call must send the body it was signed over). */
export async function postBody<T = Record<string, unknown>>(url: string, body: string, headers: Record<string, string> = {}): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  let answer: Omit<GraphQLResponse<T>, 'status'>;
  try {
    answer = JSON.parse(text) as Omit<GraphQLResponse<T>, 'status'>;
  } catch {
    throw new Error(`Non-JSON answer (${res.status}): ${text.slice(0, 300)}`);
  }
  return { status: res.status, ...answer };
}

/**
 * Calls a subgraph directly the way the router does: the identity signed for this subgraph and
 * this body (options: e.g. an idempotency key).
 */
export function callSubgraph<T = Record<string, unknown>>(
  sub: RunningSubgraph,
  cfg: Config,
  query: string,
  variables: Record<string, unknown> = {},
  identity: Identity = {},
  opts: Omit<SignOptions, 'audience'> = {},
): Promise<GraphQLResponse<T>> {
  const body = JSON.stringify({ query, variables });
  const signed = signIdentity(identity, signingKey(cfg.INTERNAL_SECRET), body, { audience: sub.name, requestId: 'test', ...opts });
  return postBody<T>(sub.url, body, signed);
}

export interface TestGraph {
  cfg: Config;
  router: RunningRouter;
  subgraphs: Partial<Record<SubgraphName, RunningSubgraph>>;
  /** Anonymous call through the router (headers may carry a token). */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** Call through the router with a bearer token ('' = anonymous). */
  as<T = Record<string, unknown>>(token: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** Signs in through the router; returns the access token (throws on failure). */
  login(email: string, password: string): Promise<string>;
  stop(): Promise<void>;
}

export const LOGIN = `mutation Login($email: EmailAddress!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken user { id role } }
}`;

/** Boots the given subgraphs and the router on free ports against this file's own databases. */
export async function startTestGraph<T extends SubgraphContext[]>(
  defs: [...{ [K in keyof T]: SubgraphDefinition<T[K]> }],
  overrides: Record<string, string> = {},
): Promise<TestGraph> {
  const cfg = testConfig(overrides);
  const subgraphs: TestGraph['subgraphs'] = {};
  for (const def of defs) {
    const sub = await startSubgraph(def, { port: 0, config: cfg, logger: silentLog });
    subgraphs[def.name] = sub;
    // Services started later (and their ServiceClient) find this one here.
    (cfg as Record<string, unknown>)[subgraphUrlEnv(def.name)] = sub.url;
  }
  const router = await startRouter({
    port: 0,
    config: cfg,
    logger: silentLog,
    subgraphUrls: Object.fromEntries(Object.values(subgraphs).map((s) => [s.name, s.url])),
  });
  const gql: TestGraph['gql'] = (query, variables, headers) => postGraphQL(router.url, query, variables, headers);
  return {
    cfg,
    router,
    subgraphs,
    gql,
    as: (token, query, variables) => gql(query, variables, token ? { authorization: `Bearer ${token}` } : {}),
    login: async (email, password) => {
      const res = await gql<{ login: { accessToken: string } }>(LOGIN, { email, password });
      if (!res.data?.login) throw new Error(`login ${email} failed: ${JSON.stringify(res.errors)}`);
      return res.data.login.accessToken;
    },
    stop: async () => {
      await router.stop();
      await Promise.all(Object.values(subgraphs).map((s) => s.stop()));
      await dropTestDatabases(cfg, [...defs.map((d) => d.name), EVENTS_DB, JOBS_DB, QUEUES_DB, AUDIT_DB, ROUTER_DB]);
    },
  };
}

/** Polls `probe` until it returns something truthy (or throws after `ms`). */
export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The port a database started by a test listens on (to start it again on the same one). */
export function portOf(db: { uri: string }): number {
  return Number(new URL(db.uri).port);
}
