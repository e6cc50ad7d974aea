import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from './errors';
import type { BaseContext } from './context';

/** One log line per operation: name, duration, error codes, request id (from the context's logger). */
export function requestLogPlugin<TCtx extends BaseContext>(): ApolloServerPlugin<TCtx> {
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
          contextValue.log.info(
            {
              operationName: operationName ?? null,
              durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
              status: response.http.status ?? 200,
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
