import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from './errors';
import type { BaseContext } from './context';

/** An operation that takes this long is logged at `info` whatever the plugin's level. */
const SLOW_MS = 1_000;

/**
 * One log line per operation: name, duration, error codes, request id (from the context's logger).
 * The router logs every client operation at `info`; the subgraphs log theirs (the router's fetches
 * and service-to-service calls, several per client operation) at `debug`, and at `info` only when
 * they failed or were slow, so the console shows one line per client request.
 */
export function requestLogPlugin<TCtx extends BaseContext>(level: 'info' | 'debug' = 'info'): ApolloServerPlugin<TCtx> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async didEncounterErrors({ errors }) {
          for (const err of errors) {
            const code = err.extensions?.code;
            if (!code || code === ErrorCode.INTERNAL_SERVER_ERROR) {
              contextValue.log.error({ err: err.originalError ?? err, path: err.path }, 'operation failed');
            }
          }
        },
        async willSendResponse({ operationName, errors, response }) {
          const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
          const status = response.http.status ?? 200;
          const notable = level === 'info' || (errors?.length ?? 0) > 0 || status >= 400 || durationMs >= SLOW_MS;
          if (!notable && !contextValue.log.isLevelEnabled('debug')) return;
          contextValue.log[notable ? 'info' : 'debug'](
            {
              operationName: operationName ?? null,
              durationMs,
              status,
              errors: errors?.map((e) => e.extensions?.code ?? 'UNKNOWN') ?? [],
              userId: contextValue.identity.userId ?? null,
            },
            'operation',
          );
        },
      };
    },
  };
}
