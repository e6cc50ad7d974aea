import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InMemoryCache } from '@apollo/client';
import { print } from '@apollo/client/utilities';
import { buildSchema, parse, validate, type DocumentNode } from 'graphql';
import * as appDocuments from '../web/src/gql/graphql';
import { API_SCHEMA_FILE, composeApiSchema } from '../scripts/compose';
import { WEB_OPERATIONS_FILE, webOperationsManifestJson } from '../scripts/webOperations';
import { sha256Hex, TrustedDocuments, type PersistedQueryManifest } from '../router/trustedDocuments';

/** The files `npm run compose` writes for clients: the API schema and the web app's manifest. */
describe('schema/api.graphql', () => {
  const sdl = readFileSync(API_SCHEMA_FILE, 'utf8');

  it('is what the subgraph schemas compose to (run `npm run compose` when this fails)', () => {
    expect(sdl).toBe(composeApiSchema());
  });

  it('has no federation internals: no join__/link__, no _entities/_service, no @inaccessible fields', () => {
    expect(sdl).not.toMatch(/join__|link__|_entities|_service|_Any|@inaccessible|@key|@external/);
    expect(sdl).not.toMatch(/recordCareRelation|treats\(/); // @inaccessible in the patients subgraph
    const schema = buildSchema(sdl);
    expect(schema.getQueryType()?.getFields().patients).toBeDefined();
    expect(schema.getSubscriptionType()?.getFields().appointmentChanged).toBeDefined();
  });
});

describe('schema/web-operations.json', () => {
  const json = readFileSync(WEB_OPERATIONS_FILE, 'utf8');
  const manifest = JSON.parse(json) as PersistedQueryManifest;

  it('lists the operations of the web app (run `npm run compose` when this fails)', async () => {
    expect(json).toBe(await webOperationsManifestJson());
    expect(manifest.operations.map((o) => o.name)).toEqual(expect.arrayContaining(['Login', 'RefreshSession', 'Logout', 'NotificationAdded', 'BookAppointment']));
    for (const op of manifest.operations) expect(op.id).toBe(sha256Hex(op.body));
    expect(TrustedDocuments.load([WEB_OPERATIONS_FILE]).size).toBe(manifest.operations.length);
  });

  it('holds every document the app can send, byte for byte as Apollo Client prints it', () => {
    // The typed documents graphql-codegen made from web/src (npm test runs codegen first), through
    // the same transform (adding __typename) and printer Apollo Client uses before sending: a
    // document the manifest lists differently (e.g. fragments in another order) would be refused.
    const cache = new InMemoryCache();
    const bodies = new Set(manifest.operations.map((o) => o.body));
    const sent = Object.entries(appDocuments).filter((entry): entry is [string, DocumentNode] => entry[0].endsWith('Document') && typeof entry[1] === 'object');
    expect(sent.length).toBe(manifest.operations.length);
    for (const [name, document] of sent) expect([name, bodies.has(print(cache.transformDocument(document)))]).toEqual([name, true]);
  });

  it('holds only operations valid against schema/api.graphql', () => {
    const schema = buildSchema(readFileSync(API_SCHEMA_FILE, 'utf8'));
    for (const op of manifest.operations) expect([op.name, validate(schema, parse(op.body)).map((e) => e.message)]).toEqual([op.name, []]);
  });

  it('covers the web app: it reaches the graph only through Apollo Client with typed graphql() documents', () => {
    const dir = path.join(__dirname, '..', 'web', 'src');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f) && !f.startsWith(`gql${path.sep}`));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const source = readFileSync(path.join(dir, file), 'utf8');
      // No hand-sent request, no untyped gql tag: every document is a graphql(`...`) call.
      expect([file, source.match(/\bfetch\(|XMLHttpRequest|new WebSocket\(|\bgql`|graphql-tag/g)]).toEqual([file, null]);
    }
  });
});
