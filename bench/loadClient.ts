/**
 * The clients of `npm run bench:load`: GraphQL over HTTP to the router (127.0.0.1 only), signed
 * in as one user, bookings with an Idempotency-Key and the retry rule README's "Idempotent
 * mutations" gives clients, a pool of concurrent clients, and latency statistics.
 */
import { randomUUID } from 'node:crypto';
import { IDEMPOTENCY_KEY_HEADER } from '../platform/idempotency';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; reason?: string; [k: string]: unknown };
}

export interface GraphQLAnswer<T> {
  status: number;
  data?: T | null;
  errors?: GraphQLErrorShape[];
  replayed: boolean;
  retryAfterMs: number | null;
}

/**
 * A signal that aborts after `ms` or when `parent` aborts. Not AbortSignal.any([…, AbortSignal.timeout(ms)]):
 * on Node 20 the composite loses the timeout once it is garbage-collected and never aborts (checked
 * on 20.20.2; it made a 180 s budget run for 640 s).
 */
export function deadlineSignal(ms: number, parent?: AbortSignal): { signal: AbortSignal; clear: () => void } {
  const ac = new AbortController();
  const abort = () => ac.abort();
  const timer = setTimeout(abort, ms);
  if (parent?.aborted) ac.abort();
  else parent?.addEventListener('abort', abort, { once: true });
  return {
    signal: ac.signal,
    clear: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', abort);
    },
  };
}

/** The request never got an answer it could read (connection refused or reset, timeout, not JSON). */
export class TransportError extends Error {}

const LOGIN = `mutation Login($email: EmailAddress!, $password: String!) { login(email: $email, password: $password) { accessToken } }`;
/** Access tokens live 15 min (ACCESS_TOKEN_TTL_SECONDS); a fresh one is fetched after 10. */
const TOKEN_REFRESH_MS = 10 * 60_000;

export class GraphClient {
  private token: { value: string; at: number } | null = null;
  private loggingIn: Promise<string> | null = null;

  constructor(
    readonly url: string,
    private readonly email: string,
    private readonly password: string,
  ) {}

  /** One HTTP POST; throws TransportError when no readable answer came back. */
  async post<T>(query: string, variables: Record<string, unknown>, opts: { headers?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<GraphQLAnswer<T>> {
    const deadline = deadlineSignal(opts.timeoutMs ?? 60_000, opts.signal);
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...opts.headers },
        body: JSON.stringify({ query, variables }),
        signal: deadline.signal,
      });
      text = await res.text();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new TransportError(cause?.code ?? cause?.message ?? (err as Error).name ?? String(err));
    } finally {
      deadline.clear();
    }
    let body: { data?: T | null; errors?: GraphQLErrorShape[] };
    try {
      body = JSON.parse(text) as { data?: T | null; errors?: GraphQLErrorShape[] };
    } catch {
      throw new TransportError(`HTTP ${res.status}, not JSON: ${text.slice(0, 120)}`);
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    return {
      status: res.status,
      data: body.data,
      errors: body.errors,
      replayed: res.headers.get('idempotent-replayed') === 'true',
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
    };
  }

  /** The user's access token (signs in once, again after TOKEN_REFRESH_MS or when told to). */
  async accessToken(force = false): Promise<string> {
    if (!force && this.token && Date.now() - this.token.at < TOKEN_REFRESH_MS) return this.token.value;
    this.loggingIn ??= (async () => {
      try {
        const res = await this.post<{ login: { accessToken: string } }>(LOGIN, { email: this.email, password: this.password });
        const token = res.data?.login.accessToken;
        if (!token) throw new Error(`login ${this.email} failed: ${JSON.stringify(res.errors)}`);
        this.token = { value: token, at: Date.now() };
        return token;
      } finally {
        this.loggingIn = null;
      }
    })();
    return this.loggingIn;
  }

  /** A signed-in query for setting up (asked again, up to 5 times, after an open outcome); throws when it fails. */
  async call<T>(query: string, variables: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let failure: string;
      try {
        const res = await this.post<T>(query, variables, { headers: { authorization: `Bearer ${await this.accessToken()}` }, timeoutMs });
        if (!res.errors?.length && res.data) return res.data;
        failure = `GraphQL ${res.status}: ${JSON.stringify(res.errors ?? res.data).slice(0, 500)}`;
        if (!isOpenOutcome(res.errors?.[0]?.extensions?.code ?? `HTTP ${res.status}`)) throw new Error(failure);
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        failure = `TRANSPORT ${err.message}`;
      }
      if (attempt >= 5) throw new Error(failure);
      await sleep(1_000 * attempt);
    }
  }

  /** A signed-in call that returns the answer whatever it is (timed queries). */
  async answer<T>(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<GraphQLAnswer<T>> {
    return this.post<T>(query, variables, { headers: { authorization: `Bearer ${await this.accessToken()}`, ...headers }, signal });
  }
}

// ---------------------------------------------------------------------------------------------
// Bookings.

export const BOOK = `mutation Book($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`;

export interface BookingInput {
  patientId: string;
  doctorId: string;
  start: string;
  end: string;
  reason: string;
}

/** What one attempt got back, in a word: the error code, `HTTP <status>`, `TRANSPORT <cause>` or `OK`. */
export type AttemptOutcome = string;

export interface Booking {
  input: BookingInput;
  /** The Idempotency-Key of every attempt of this booking (null: sent without one). */
  key: string | null;
  /** The appointment id the client was given (acknowledged), if any. */
  id: string | null;
  /** The final answer's code when the client gave up or was refused (told failed). */
  failure: string | null;
  attempts: AttemptOutcome[];
  startedAt: number;
  ms: number;
  replayed: boolean;
}

export interface RetryPolicy {
  /** Retry an open outcome (transport error, HTTP 502/503/504, SUBGRAPH_UNAVAILABLE, INTERNAL_SERVER_ERROR) with the same key. */
  retry: boolean;
  maxAttempts: number;
  /** Give up when the booking has taken this long in all. */
  maxTotalMs: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
}

export const NO_RETRY: RetryPolicy = { retry: false, maxAttempts: 1, maxTotalMs: 120_000, baseBackoffMs: 0, maxBackoffMs: 0 };
/** Bounded, small backoff: 100 ms doubling to 2 s (or the router's Retry-After, at most 5 s), with jitter; 30 attempts or 120 s. */
export const RETRY_OPEN_OUTCOMES: RetryPolicy = { retry: true, maxAttempts: 30, maxTotalMs: 120_000, baseBackoffMs: 100, maxBackoffMs: 2_000 };

/** README "Idempotent mutations": after these the outcome is open and a retry with the same key is safe. */
const OPEN_CODES = new Set(['SUBGRAPH_UNAVAILABLE', 'INTERNAL_SERVER_ERROR']);
const OPEN_STATUSES = new Set([502, 503, 504]);

/** What a keyed mutation came to: its data, or the final answer's code, after every attempt. */
export interface Mutation<T> {
  key: string | null;
  data: T | null;
  failure: string | null;
  attempts: AttemptOutcome[];
  ms: number;
  replayed: boolean;
}

/** True for an answer after which README says the outcome is open (retry with the same key). */
export function isOpenOutcome(outcome: AttemptOutcome): boolean {
  return OPEN_CODES.has(outcome) || outcome.startsWith('TRANSPORT') || [...OPEN_STATUSES].some((s) => outcome === `HTTP ${s}`);
}

/**
 * Sends a mutation as a client would: one Idempotency-Key for the action (`key`, or a fresh UUID;
 * null: none), reused on every retry; retries (with `policy.retry`) exactly the open outcomes, with
 * a bounded backoff. `ok` picks the result out of the data (null: not a success).
 */
export async function mutate<T, R>(
  client: GraphClient,
  query: string,
  variables: Record<string, unknown>,
  ok: (data: T) => R | null | undefined,
  policy: RetryPolicy,
  opts: { key?: string | null; signal?: AbortSignal } = {},
): Promise<Mutation<R>> {
  const key = opts.key === undefined ? randomUUID() : opts.key;
  const m: Mutation<R> = { key, data: null, failure: null, attempts: [], ms: 0, replayed: false };
  const t0 = performance.now();
  let reauthenticated = false;
  for (;;) {
    let outcome: AttemptOutcome;
    let open = false;
    let retryAfterMs: number | null = null;
    try {
      const token = await client.accessToken();
      const res = await client.post<T>(query, variables, {
        headers: { authorization: `Bearer ${token}`, ...(key ? { [IDEMPOTENCY_KEY_HEADER]: key } : {}) },
        signal: opts.signal,
      });
      retryAfterMs = res.retryAfterMs;
      const result = res.data && !res.errors?.length ? ok(res.data) : null;
      if (result !== null && result !== undefined) {
        m.attempts.push('OK');
        m.data = result;
        m.replayed = res.replayed;
        break;
      }
      const code = res.errors?.[0]?.extensions?.code;
      outcome = code ?? `HTTP ${res.status}`;
      open = isOpenOutcome(outcome) || OPEN_STATUSES.has(res.status);
      if ((code === 'UNAUTHENTICATED' || res.status === 401) && !reauthenticated) {
        // The token ran out: sign in again once and ask again with the same key.
        reauthenticated = true;
        await client.accessToken(true);
        open = true;
      }
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      outcome = `TRANSPORT ${err.message}`;
      open = true;
    }
    m.attempts.push(outcome);
    const elapsed = performance.now() - t0;
    if (!policy.retry || !open || m.attempts.length >= policy.maxAttempts || elapsed >= policy.maxTotalMs || opts.signal?.aborted) {
      m.failure = outcome;
      break;
    }
    const backoff = Math.min(policy.maxBackoffMs, policy.baseBackoffMs * 2 ** (m.attempts.length - 1));
    const wait = retryAfterMs !== null ? Math.min(retryAfterMs, 5_000) : backoff * (0.5 + Math.random() / 2);
    await sleep(Math.min(wait, Math.max(0, policy.maxTotalMs - elapsed)));
  }
  m.ms = performance.now() - t0;
  return m;
}

/** Books one slot as a client would (see `mutate`); `key` reuses an earlier booking's key. */
export async function book(client: GraphClient, input: BookingInput, policy: RetryPolicy, opts: { key?: string | null; signal?: AbortSignal } = {}): Promise<Booking> {
  const startedAt = Date.now();
  const m = await mutate<{ bookAppointment: { id: string } }, string>(client, BOOK, { i: input }, (d) => d.bookAppointment?.id, policy, opts);
  return { input, key: m.key, id: m.data, failure: m.failure, attempts: m.attempts, startedAt, ms: m.ms, replayed: m.replayed };
}

/**
 * A setup mutation (creating doctors, patients, prescriptions): keyed and retried like a client
 * would, so that a busy moment of the stack does not end the benchmark; throws when it fails.
 */
export async function setupMutation<T>(client: GraphClient, query: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
  const m = await mutate<T, T>(client, query, variables, (d) => d, RETRY_OPEN_OUTCOMES, { signal });
  if (m.data === null) throw new Error(`setup mutation failed after ${m.attempts.length} attempt(s): ${m.attempts.join(', ')}`);
  return m.data;
}

// ---------------------------------------------------------------------------------------------
// Concurrency and statistics.

/**
 * Runs `work` over `items` with `concurrency` workers (each takes the next item when done), until
 * all are done or `signal` aborts (items not started by then are skipped). `after` sees each result.
 */
export async function pool<I, R>(items: readonly I[], concurrency: number, work: (item: I, index: number) => Promise<R>, opts: { signal?: AbortSignal; after?: (r: R, done: number) => void } = {}): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length && !opts.signal?.aborted) {
      const i = next++;
      const r = await work(items[i], i);
      results[i] = r;
      done++;
      opts.after?.(r, done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results.filter((r) => r !== undefined);
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Counts of each distinct value, most frequent first, as "A 3, B 1". */
export function tally(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} ${n}`).join(', ') || 'none';
}
