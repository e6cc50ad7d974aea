import { Coalescer } from './coalesce';

/** A call whose answers the test releases by hand, recording the batches it was given. */
function controlledCall() {
  const batches: string[][] = [];
  const releases: (() => void)[] = [];
  const call = (keys: string[]) => {
    batches.push(keys);
    return new Promise<string[]>((resolve, reject) => {
      releases.push(() => (keys.includes('bad') ? reject(new Error('peer down')) : resolve(keys.map((k) => k.toUpperCase()))));
    });
  };
  return { call, batches, releases };
}

describe('Coalescer', () => {
  it('sends the first key at once and the keys asked meanwhile together in the next call', async () => {
    const { call, batches, releases } = controlledCall();
    const c = new Coalescer(call);
    const a = c.load('a');
    expect(batches).toEqual([['a']]);
    const rest = ['b', 'c', 'd'].map((k) => c.load(k));
    expect(batches).toHaveLength(1); // waiting for the call in flight
    releases[0]();
    expect(await a).toBe('A');
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
    releases[1]();
    expect(await Promise.all(rest)).toEqual(['B', 'C', 'D']);
  });

  it('caps a batch and keeps the order of the keys', async () => {
    const { call, batches, releases } = controlledCall();
    const c = new Coalescer(call, 2);
    const all = ['a', 'b', 'c', 'd', 'e'].map((k) => c.load(k));
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      releases[i]();
    }
    expect(await Promise.all(all)).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(batches).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
  });

  it('a failed call rejects its own keys only, and the next batch still goes out', async () => {
    const { call, releases } = controlledCall();
    const c = new Coalescer(call);
    const first = c.load('x');
    const failing = [c.load('bad'), c.load('y')];
    releases[0]();
    expect(await first).toBe('X');
    const later = c.load('z');
    releases[1]();
    for (const p of failing) await expect(p).rejects.toThrow('peer down');
    await new Promise((r) => setImmediate(r));
    releases[2]();
    expect(await later).toBe('Z');
  });

  it('runs up to maxInFlight calls at once', () => {
    const { call, batches } = controlledCall();
    const c = new Coalescer(call, 10, 2);
    void c.load('a');
    void c.load('b');
    void c.load('c');
    expect(batches).toEqual([['a'], ['b']]);
  });
});
