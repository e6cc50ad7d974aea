/**
 * `npm run bench:calls`: what one call between our processes costs the caller, with the global
 * `fetch` (how the router and the services called subgraphs before 2026-12-03) against the
 * keep-alive pools they use now (platform/httpPool.ts). One local HTTP server answers a
 * subgraph-sized JSON answer to a subgraph-sized POST; each round makes CALLS calls, AT_ONCE at a
 * time, with each client in turn (alternating, so the machine's drift hits both alike). CPU is
 * this process's (client and server together: the server's share is the same for both).
 * Prints a Markdown table (paste it into bench/RESULTS.md with the time it ran).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPools } from '../platform/httpPool';

const CALLS = 4_000;
const AT_ONCE = 20;
const ROUNDS = 3;
const TIMEOUT_MS = 10_000;

const body = JSON.stringify({
  query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id name } } }',
  variables: { r: [{ __typename: 'Patient', id: '6b11f3460be33adea5397464' }] },
});
const answer = JSON.stringify({ data: { _entities: [{ id: '6b11f3460be33adea5397464', name: 'Jane Example' }] } });
const headers = { 'content-type': 'application/json', 'x-healthsync-identity': 'e'.repeat(300), 'x-healthsync-signature': 's'.repeat(64) };

type Call = (url: string) => Promise<unknown>;

async function round(call: Call, url: string): Promise<{ perSecond: number; cpuMicros: number }> {
  let sent = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      while (sent++ < CALLS) await call(url);
    }),
  );
  const used = process.cpuUsage(cpu);
  return { perSecond: (CALLS / (performance.now() - started)) * 1000, cpuMicros: (used.user + used.system) / CALLS };
}

async function main(): Promise<void> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const pools = new HttpPools(128);
  const clients: [string, Call][] = [
    ['global fetch (AbortSignal.timeout)', (u) => fetch(u, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) }).then((r) => r.json())],
    ['keep-alive pool (platform/httpPool.ts)', (u) => pools.post(u, { headers, body, timeoutMs: TIMEOUT_MS }).then((r) => r.json())],
  ];
  for (const [, call] of clients) await round(call, url); // warm-up
  const rows: string[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, call] of clients) {
      const m = await round(call, url);
      rows.push(`| ${r} | ${name} | ${Math.round(m.perSecond).toLocaleString('en-US')} | ${Math.round(m.cpuMicros)} |`);
    }
  }
  await pools.close();
  server.closeAllConnections();
  server.close();
  console.log(`Run ${new Date().toISOString()}, Node ${process.version}; ${CALLS.toLocaleString('en-US')} calls per round, ${AT_ONCE} at a time\n`);
  console.log('| round | client | calls/s | CPU µs per call (client + server) |\n|---:|---|---:|---:|');
  console.log(rows.join('\n'));
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
