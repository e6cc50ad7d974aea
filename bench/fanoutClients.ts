/**
 * bench:gateway's subscribers in a worker thread (`--client-threads=N`): the fan-out's 1,000
 * graphql-ws clients spread over N threads, so one thread's parsing does not hold up the
 * timestamps of the others. Receives {wsUrl, query, variables, subscribers: {who, token}[]};
 * posts 'ready' once every subscription listens, then batches of receipts [index, id, at]
 * (and errors) every 20 ms; on 'stop' closes its clients and posts 'stopped'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

interface Input {
  wsUrl: string;
  query: string;
  variables: Record<string, unknown>;
  subscribers: { token: string }[];
}
export type FromClients = { type: 'ready' } | { type: 'got'; items: [number, string, number][]; errors: [number, string][] } | { type: 'stopped' };

const input = workerData as Input;
const port = parentPort!;
const clients: Client[] = [];
let items: [number, string, number][] = [];
let errors: [number, string][] = [];

async function main(): Promise<void> {
  await Promise.all(
    input.subscribers.map(async ({ token }, index) => {
      const client = createClient({ url: input.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: false, retryAttempts: 0 });
      clients.push(client);
      client.subscribe<{ appointmentChanged: { id: string } }>(
        { query: input.query, variables: input.variables },
        {
          next: (r) => (r.data ? items.push([index, r.data.appointmentChanged.id, Date.now()]) : errors.push([index, JSON.stringify(r.errors)])),
          error: (e) => errors.push([index, String(e)]),
          complete: () => undefined,
        },
      );
      // Handled in order: the refusal of a query on the same socket means the subscription listens.
      await new Promise<void>((resolve) => client.subscribe({ query: '{ __typename }' }, { next: () => resolve(), error: () => resolve(), complete: () => resolve() }));
    }),
  );
  port.postMessage({ type: 'ready' } satisfies FromClients);
  const flush = setInterval(() => {
    if (items.length === 0 && errors.length === 0) return;
    port.postMessage({ type: 'got', items, errors } satisfies FromClients);
    items = [];
    errors = [];
  }, 20);
  port.on('message', (m: string) => {
    if (m !== 'stop') return;
    clearInterval(flush);
    if (items.length || errors.length) port.postMessage({ type: 'got', items, errors } satisfies FromClients);
    void Promise.all(clients.map((c) => c.dispose())).then(() => port.postMessage({ type: 'stopped' } satisfies FromClients));
  });
}

void main();
