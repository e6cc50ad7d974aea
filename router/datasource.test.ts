import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import type { Identity } from '../platform/identity';
import { IDENTITY_HEADER, SIGNATURE_HEADER } from '../platform/identity';
import { HttpPools } from '../platform/httpPool';
import { randomSecret } from '../scripts/secrets';
import { silentLog, waitFor } from '../test/helpers';
import type { RouterContext } from './context';
import { SignedDataSource } from './datasource';

/**
 * Identical subgraph queries in flight share one call (router/datasource.ts), against a real HTTP
 * server standing in for a subgraph that answers only when the test releases the calls it holds.
 */
interface Held {
  body: string;
  headers: http.IncomingHttpHeaders;
  answer(data: Record<string, unknown>): void;
}
const held: Held[] = [];
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      held.push({
        body: Buffer.concat(chunks).toString('utf8'),
        headers: req.headers,
        answer: (data) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ data }));
        },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  await pools.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  held.length = 0;
});

const NURSE: Identity = { userId: 'aaaaaaaaaaaaaaaaaaaaaaa1', role: 'NURSE' };
const OTHER_NURSE: Identity = { userId: 'aaaaaaaaaaaaaaaaaaaaaaa2', role: 'NURSE' };
const QUERY = 'query Q__doctors__0{specialties}';
const MUTATION = 'mutation M__doctors__0($id:ObjectID!){deactivateDoctor(id:$id){id}}';

let n = 0;
/** What the gateway hands a data source for one fetch of a client's operation. */
function fetchOf(query: string, identity: Identity, variables: Record<string, unknown> = {}): GraphQLDataSourceProcessOptions<RouterContext> {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const context: RouterContext = { identity, requestId: `request-${++n}`, log: silentLog };
  // The gateway's request context: only `operation` is read besides `context`.
  const incomingRequestContext = { operation, context } as unknown as Extract<GraphQLDataSourceProcessOptions<RouterContext>, { incomingRequestContext: unknown }>['incomingRequestContext'];
  return { kind: 'incoming operation' as never, request: { query, variables }, context, incomingRequestContext, document };
}

const pools = new HttpPools(16);
const source = () => new SignedDataSource('doctors', url, randomSecret('INTERNAL_SECRET'), 5_000, pools);

describe('identical subgraph queries in flight', () => {
  it('share one call per caller and body; each caller gets its own copy of the answer', async () => {
    const ds = source();
    const answers = Array.from({ length: 5 }, () => ds.process(fetchOf(QUERY, NURSE)));
    await waitFor(async () => held.length === 1 && ds.dedupStats.joined === 4);
    held[0].answer({ specialties: ['Cardiology'] });
    const got = await Promise.all(answers);
    expect(got.map((r) => r.data)).toEqual(Array.from({ length: 5 }, () => ({ specialties: ['Cardiology'] })));
    (got[0].data!.specialties as string[]).push('changed by the gateway');
    expect(got[1].data).toEqual({ specialties: ['Cardiology'] });
    expect(new Set(got.map((r) => r.data)).size).toBe(5);
    expect(held).toHaveLength(1);
    // The one call carries the identity, signed as ever.
    expect(held[0].headers[IDENTITY_HEADER]).toBeTruthy();
    expect(held[0].headers[SIGNATURE_HEADER]).toBeTruthy();

    // Answered: the next identical query is a new call (nothing is cached).
    const later = ds.process(fetchOf(QUERY, NURSE));
    await waitFor(async () => held.length === 2);
    held[1].answer({ specialties: [] });
    expect((await later).data).toEqual({ specialties: [] });
  });

  it('never shares across users, across bodies or for mutations', async () => {
    const ds = source();
    const id = 'bbbbbbbbbbbbbbbbbbbbbbb1';
    const calls = [
      ds.process(fetchOf(QUERY, NURSE)),
      ds.process(fetchOf(QUERY, OTHER_NURSE)),
      ds.process(fetchOf(QUERY, {})),
      ds.process(fetchOf('query Q__doctors__0{specialties __typename}', NURSE)),
      ds.process(fetchOf(MUTATION, NURSE, { id })),
      ds.process(fetchOf(MUTATION, NURSE, { id })),
    ];
    await waitFor(async () => held.length === 6);
    expect(ds.dedupStats).toEqual({ sent: 6, joined: 0 });
    for (const h of held) h.answer({ ok: true });
    await Promise.all(calls);
  });

  it('does not let a query join a call sent before a mutation started', async () => {
    const ds = source();
    const before = ds.process(fetchOf(QUERY, NURSE));
    await waitFor(async () => held.length === 1);
    const write = ds.process(fetchOf(MUTATION, NURSE, { id: 'bbbbbbbbbbbbbbbbbbbbbbb2' }));
    const after = ds.process(fetchOf(QUERY, NURSE));
    await waitFor(async () => held.length === 3);
    expect(ds.dedupStats.joined).toBe(0);
    for (const h of held) h.answer({ n: held.indexOf(h) });
    await Promise.all([before, write, after]);
  });

  it('gives every caller the failure of the shared call', async () => {
    const ds = source();
    const answers = Array.from({ length: 3 }, () => ds.process(fetchOf(QUERY, NURSE)).then(() => 'answered', (err: Error) => err.message));
    await waitFor(async () => held.length === 1 && ds.dedupStats.joined === 2);
    server.closeAllConnections();
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 3 }, () => expect.stringMatching(/doctors service is unavailable/)));
  });
});
