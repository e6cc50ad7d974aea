import { Pool } from 'undici';

/** What a caller reads of an answer: the parts of a fetch Response that the gateway and ServiceClient use. */
export interface PostAnswer {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string | Buffer;
  /**
   * Gives up when the answer's head or its next body chunk takes longer than this (undici's
   * coarse timers: up to about a second later; calls waiting for a connection are not timed).
   */
  timeoutMs: number;
}

/**
 * Keep-alive connection pools for the calls between our own processes (router → subgraph,
 * service → service): one undici Pool per origin, at most `connections` sockets each; a call
 * beyond that waits for a free one. Chosen over the global `fetch` (the same undici underneath),
 * whose WHATWG layer (Request/Response objects, web streams, an AbortSignal timer per call) cost
 * about 250 µs of CPU per call against about 25 µs for a pool request (a local JSON POST, 20
 * at a time, by hand; figures in bench/RESULTS.md, "Load and faults" notes). Never retries: a POST is sent
 * once (undici retries nothing but idempotent requests on a reset socket, and a POST is not one).
 */
export class HttpPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly connections: number) {}

  async post(url: string, opts: PostOptions): Promise<PostAnswer> {
    const target = new URL(url);
    const res = await this.pool(target.origin).request({
      method: 'POST',
      path: `${target.pathname}${target.search}`,
      headers: opts.headers,
      body: opts.body,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    let text: Promise<string> | null = null;
    const read = () => (text ??= res.body.text());
    return {
      ok: res.statusCode >= 200 && res.statusCode < 300,
      status: res.statusCode,
      statusText: '',
      url,
      headers: { get: (name) => headerValue(res.headers[name.toLowerCase()]) },
      text: read,
      json: async () => JSON.parse(await read()) as unknown,
    };
  }

  /** Closes every pool (sockets end once their calls are answered). */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close()));
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: this.connections });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}
