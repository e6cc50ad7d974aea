import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { manifestOf, MANIFEST_FORMAT, sha256Hex, TrustedDocuments } from './trustedDocuments';

const dir = mkdtempSync(path.join(tmpdir(), 'trusted-'));
const write = (name: string, content: unknown): string => {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};

describe('TrustedDocuments', () => {
  const docs = ['query A { specialties }', 'mutation B($t: String!) { logout(refreshToken: $t) }'];

  it('allows the documents of its manifests, by body or by hash, and nothing else', () => {
    const trusted = TrustedDocuments.load([write('ok.json', manifestOf(docs)), write('other.json', manifestOf(['subscription C { notificationAdded { id } }']))]);
    expect(trusted.size).toBe(3);
    expect(trusted.allows(docs[0], undefined)).toBe(true);
    expect(trusted.allows(undefined, sha256Hex(docs[1]))).toBe(true);
    expect(trusted.allows('subscription C { notificationAdded { id } }', undefined)).toBe(true);
    expect(trusted.allows(`${docs[0]} `, undefined)).toBe(false);
    expect(trusted.allows(undefined, sha256Hex('{ specialties }'))).toBe(false);
    // A document sent with another document's hash is judged by the document.
    expect(trusted.allows('{ specialties }', sha256Hex(docs[0]))).toBe(false);
    expect(trusted.allows(undefined, undefined)).toBe(false);
  });

  it('serves its documents as the APQ cache and stores nothing else', async () => {
    const cache = TrustedDocuments.load([write('apq.json', manifestOf(docs))]).apqCache();
    expect(await cache.get(`apq:${sha256Hex(docs[0])}`)).toBe(docs[0]);
    await cache.set(`apq:${sha256Hex('{ specialties }')}`, '{ specialties }');
    expect(await cache.get(`apq:${sha256Hex('{ specialties }')}`)).toBeUndefined();
  });

  it('refuses to load a manifest it could misread', () => {
    expect(() => TrustedDocuments.load([path.join(dir, 'missing.json')])).toThrow(/TRUSTED_DOCUMENTS: cannot read/);
    expect(() => TrustedDocuments.load([write('bad.json', '{ not json')])).toThrow(/cannot read/);
    expect(() => TrustedDocuments.load([write('map.json', { [sha256Hex(docs[0])]: docs[0] })])).toThrow(/is not an apollo-persisted-query-manifest/);
    const wrongId = { format: MANIFEST_FORMAT, version: 1, operations: [{ id: sha256Hex('other'), name: 'A', type: 'query', body: docs[0] }] };
    expect(() => TrustedDocuments.load([write('wrong.json', wrongId)])).toThrow(/the id of A is not the SHA-256 of its body/);
  });

  it('makes manifests of named single operations only, one per name', () => {
    expect(manifestOf(docs).operations.map((o) => [o.name, o.type])).toEqual([['A', 'query'], ['B', 'mutation']]);
    expect(() => manifestOf(['{ specialties }'])).toThrow(/exactly one named operation/);
    expect(() => manifestOf(['query A { specialties }', 'query A { doctors { edges { node { id } } } }'])).toThrow(/Two trusted documents name their operation A/);
  });
});
