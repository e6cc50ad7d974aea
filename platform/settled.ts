/**
 * The value of a settled promise, or its error thrown. For checks run at once with
 * `Promise.allSettled` whose failures are judged in a fixed order (the first in that order is
 * reported, whatever answered first).
 */
export function settledValue<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
