import type { GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import { outcomeOf } from '../platform/metrics';
import { injectTraceContext } from '../platform/tracing';
import type { RouterContext } from './context';

export interface FetchObserver {
  observe(subgraph: string, seconds: number, outcome: string): void;
}

/**
 * Makes a subgraph data source observable: each fetch is timed for /metrics by subgraph and outcome
 * (ok, or the error code of a failed fetch or of the first error in the answer; platform/metrics.ts),
 * and carries the trace context of @apollo/gateway's fetch span in `traceparent` when tracing is on
 * (platform/tracing.ts). Wraps the data source's own `process` and `willSendRequest`, whichever
 * class it is.
 */
export function observeSubgraph<T extends RemoteGraphQLDataSource<RouterContext>>(source: T, subgraph: string, fetches: FetchObserver): T {
  const own = source.willSendRequest?.bind(source);
  source.willSendRequest = (options: GraphQLDataSourceProcessOptions<RouterContext>) => {
    const done = own?.(options);
    const inject = () => {
      if (options.request.http) injectTraceContext(options.request.http.headers);
    };
    if (done) return done.then(inject);
    inject();
  };
  const process = source.process.bind(source);
  source.process = async (options) => {
    const started = performance.now();
    let outcome = 'error';
    try {
      const response = await process(options);
      outcome = outcomeOf(response.errors);
      return response;
    } catch (err) {
      outcome = outcomeOf([err as { extensions?: { code?: unknown } }]);
      throw err;
    } finally {
      fetches.observe(subgraph, (performance.now() - started) / 1000, outcome);
    }
  };
  return source;
}
