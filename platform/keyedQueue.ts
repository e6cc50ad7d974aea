/**
 * Runs work one piece after another per key, inside this process (different keys run side by
 * side). A failure does not stop the queue. Used where the database cannot make a read-and-write
 * atomic for us (subgraphs/medications/serial.ts) and for Agenda's lock attempts per job name
 * (platform/jobPoll.ts).
 *
 * `settleBetween`: the next piece of a key starts only after a macrotask, so every continuation
 * its caller chained on the previous result (in microtasks) has run first.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: { settleBetween?: boolean } = {}) {}

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work, work);
    const settled = () => (this.opts.settleBetween ? new Promise<void>((r) => setImmediate(r)) : undefined);
    const tail = result.then(settled, settled);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
