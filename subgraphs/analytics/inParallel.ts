/**
 * Runs `fn` over `items`, at most `limit` at a time, results in order. Round trips overlap; on
 * FerretDB each single-document read or write is one request, and a fold batch or a two-year
 * report has hundreds.
 */
export async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Reads in flight at once. */
export const READS = 8;
