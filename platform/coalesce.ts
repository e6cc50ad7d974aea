/**
 * Turns calls for one key into few calls for many (group commit, for lookups and writes to another
 * service): the first key goes out at once, and the keys asked for while a call is in flight go
 * out together when it ends, up to `maxBatch` per call. Alone it adds no delay; under load the
 * batches grow by themselves. Unlike DataLoader it keeps no cache and waits for no tick: each
 * answer is fresh, and a key asked for twice is asked twice.
 */
export class Coalescer<K, V> {
  private readonly waiting: { key: K; resolve: (v: V) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;

  /**
   * @param call answers many keys at once, in the order given (same length); if it throws, every
   *   key of that call gets the error.
   * @param maxInFlight calls running at the same time (1 waits for each call before the next).
   */
  constructor(
    private readonly call: (keys: K[]) => Promise<V[]>,
    private readonly maxBatch = 100,
    private readonly maxInFlight = 1,
  ) {}

  load(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.inFlight >= this.maxInFlight || !this.waiting.length) return;
    const batch = this.waiting.splice(0, this.maxBatch);
    this.inFlight++;
    const settle = (answer: (i: number) => void) => {
      this.inFlight--;
      batch.forEach((_w, i) => answer(i));
      this.next();
    };
    this.call(batch.map((w) => w.key)).then(
      (values) => {
        if (values.length !== batch.length) settle((i) => batch[i].reject(new Error(`coalesced call answered ${values.length} of ${batch.length} keys`)));
        else settle((i) => batch[i].resolve(values[i]));
      },
      (err: unknown) => settle((i) => batch[i].reject(err)),
    );
  }
}

/** The request id of a call made for several requests: the first one's, and how many more rode along. */
export function batchRequestId(ids: string[]): string {
  return ids.length === 1 ? ids[0] : `${ids[0]}+${ids.length - 1}`;
}
