/**
 * bench:gateway's fan-out subscribers: one graphql-ws client per subscriber, listening to the live
 * query (`listen`). Used in the load generator's main thread, or (`--client-threads=N`) in worker
 * threads started on this module, so one thread's parsing does not hold up the timestamps of the
 * others. A worker receives {wsUrl, query, variables, tokens}; posts 'ready' once every
 * subscription listens, then batches of receipts [index, id, at] (and errors) every 20 ms; on
 * 'stop' closes its clients and posts 'stopped'.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface ClientsInput {
  wsUrl: string;
  query: string;
  variables: Record<string, unknown>;
  tokens: string[];
}
export type FromClients = { type: 'ready' } | { type: 'got'; items: [number, string, number][]; errors: [number, string][] } | { type: 'stopped' };

/** One subscriber's client; resolves once its subscription listens. */
export async function listen(input: Omit<ClientsInput, 'tokens'>, token: string, got: (id: string, at: number) => void, failed: (error: string) => void): Promise<Client> {
  const client = createClient({ url: input.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: false, retryAttempts: 0 });
  client.subscribe<{ appointmentChanged: { id: string } }>(
    { query: input.query, variables: input.variables },
    { next: (r) => (r.data ? got(r.data.appointmentChanged.id, Date.now()) : failed(JSON.stringify(r.errors))), error: (e) => failed(String(e)), complete: () => undefined },
  );
  // Handled in order: the refusal of a query on the same socket means the subscription listens.
  await new Promise<void>((resolve) => client.subscribe({ query: '{ __typename }' }, { next: () => resolve(), error: () => resolve(), complete: () => resolve() }));
  return client;
}

async function inWorker(input: ClientsInput): Promise<void> {
  const port = parentPort!;
  let items: [number, string, number][] = [];
  let errors: [number, string][] = [];
  const clients = await Promise.all(
    input.tokens.map((token, index) =>
      listen(input, token, (id, at) => items.push([index, id, at]), (e) => errors.push([index, e])),
    ),
  );
  port.postMessage({ type: 'ready' } satisfies FromClients);
  const flush = () => {
    if (items.length === 0 && errors.length === 0) return;
    port.postMessage({ type: 'got', items, errors } satisfies FromClients);
    items = [];
    errors = [];
  };
  const timer = setInterval(flush, 20);
  port.on('message', (m: string) => {
    if (m !== 'stop') return;
    clearInterval(timer);
    flush();
    void Promise.all(clients.map((c) => c.dispose())).then(() => port.postMessage({ type: 'stopped' } satisfies FromClients));
  });
}

if (!isMainThread && parentPort) void inWorker(workerData as ClientsInput);
