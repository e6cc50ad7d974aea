import type { Connection } from 'mongoose';
import type { Config } from './config';
import { dropTestDatabases, openDb, testConfig } from '../test/helpers';
import { Claims, claimsModel } from './claim';

const SERVICE = 'claimtest';
let cfg: Config;
let conn: Connection;
let claims: Claims;
beforeAll(async () => {
  cfg = testConfig();
  conn = await openDb(cfg, SERVICE);
  claims = new Claims(claimsModel(conn, 'claims'));
});
afterAll(async () => {
  await conn.close();
  await dropTestDatabases(cfg, [SERVICE]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const winners = (results: boolean[]) => results.filter(Boolean).length;
const parallel = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_v, i) => f(i)));

describe('exclusive claims with a lease', () => {
  it('gives a free key to exactly one of 50 parallel claimers', async () => {
    expect(winners(await parallel(50, (i) => claims.tryClaim('k-free', `h${i}`, 10_000)))).toBe(1);
    expect(await claims.tryClaim('k-free', 'late', 10_000)).toBe(false);
  });

  it('lets exactly one of 20 parallel claimers take over an expired claim, round after round', async () => {
    // Leases of a minute outlast any round, also on a busy machine, so a second winner would be a
    // real double claim; between rounds the holder's lease is made to have run out (a fixture).
    const expireHolder = () => claimsModel(conn, 'claims').updateMany({ key: 'k-expire' }, { $set: { until: new Date(Date.now() - 1) } });
    expect(await claims.tryClaim('k-expire', 'first', 60_000)).toBe(true);
    for (let round = 0; round < 5; round++) {
      expect(await claims.tryClaim('k-expire', `r${round}-early`, 60_000)).toBe(false);
      await expireHolder();
      expect(winners(await parallel(20, (i) => claims.tryClaim('k-expire', `r${round}-h${i}`, 60_000)))).toBe(1);
    }
  });

  it('releases only the holder’s own claim', async () => {
    expect(await claims.tryClaim('k-release', 'owner', 10_000)).toBe(true);
    await claims.release('k-release', 'someone-else');
    expect(await claims.holds('k-release', 'owner')).toBe(true);
    expect(await claims.tryClaim('k-release', 'other', 10_000)).toBe(false);
    await claims.release('k-release', 'owner');
    expect(await claims.tryClaim('k-release', 'other', 10_000)).toBe(true);
  });

  it('a late release by a holder whose lease ran out does not free the new holder’s claim', async () => {
    expect(await claims.tryClaim('k-late', 'slow', 50)).toBe(true);
    await sleep(80);
    expect(await claims.holds('k-late', 'slow')).toBe(false);
    expect(await claims.tryClaim('k-late', 'next', 10_000)).toBe(true);
    await claims.release('k-late', 'slow');
    expect(await claims.holds('k-late', 'next')).toBe(true);
  });

  it('claims once, permanently', async () => {
    expect(await claims.claimOnce('once-a')).toBe(true);
    expect(await claims.claimOnce('once-a')).toBe(false);
    expect(await claims.tryClaim('once-a', 'anyone', 10)).toBe(false);
    expect(winners(await parallel(30, () => claims.claimOnce('once-b')))).toBe(1);
  });

  it('withClaim runs one caller at a time and reports a key that stays busy', async () => {
    let inside = 0;
    let most = 0;
    const busy = () => new Error('busy');
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        claims.withClaim('k-with', { leaseMs: 5_000, waitMs: 5_000, busy }, async () => {
          most = Math.max(most, ++inside);
          await sleep(10);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);

    expect(await claims.tryClaim('k-busy', 'holder', 10_000)).toBe(true);
    await expect(claims.withClaim('k-busy', { leaseMs: 1_000, waitMs: 100, busy }, async () => 'ran')).rejects.toThrow('busy');
  });

  it('withClaim with releaseInBackground answers before its release is done, and the release still frees the key', async () => {
    const original = claims.release.bind(claims);
    let letGo: () => void = () => undefined;
    const held = new Promise<void>((r) => (letGo = r));
    let releasing: Promise<void> | null = null;
    // The release waits until the test lets it go.
    const spy = jest.spyOn(claims, 'release').mockImplementation((key, holder) => {
      releasing = held.then(() => original(key, holder));
      return releasing;
    });
    try {
      const answer = await claims.withClaim('k-bg', { leaseMs: 10_000, waitMs: 100, busy: () => new Error('busy'), releaseInBackground: true }, async () => 'booked');
      expect(answer).toBe('booked');
      expect(releasing).not.toBeNull();
      // Answered while the key is still held: a newcomer finds it taken.
      expect(await claims.tryClaim('k-bg', 'newcomer', 10_000)).toBe(false);
      letGo();
      await releasing;
    } finally {
      spy.mockRestore();
    }
    expect(await claims.tryClaim('k-bg', 'newcomer', 10_000)).toBe(true);
  });
});
