import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind } from 'graphql';
import type { BaseContext } from '../platform/context';
import { ErrorCode, ErrorReason } from '../platform/errors';

const requestError = (message: string, reason: ErrorReason): GraphQLError =>
  new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, reason, http: { status: 400 } } });

/**
 * Requests whose operation the router cannot run as sent are the client's mistake: HTTP 400,
 * `BAD_USER_INPUT` with a stable `extensions.reason` (platform/errors.ts), before anything is
 * planned or fetched. Without this check the gateway threw on them and the client got HTTP 500 and
 * the log an error with a stack: several operations and no `operationName`, an `operationName` the
 * document lacks, and a subscription over HTTP (served over graphql-ws, router/subscriptions.ts).
 */
export function operationCheckPlugin<TCtx extends BaseContext>(): ApolloServerPlugin<TCtx> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          if (!operation) {
            const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
            if (request.operationName) {
              throw requestError(`The document has no operation named "${request.operationName.slice(0, 100)}"`, ErrorReason.UNKNOWN_OPERATION_NAME);
            }
            if (operations > 1) {
              throw requestError('The document has several operations: name the one to run in operationName', ErrorReason.OPERATION_NAME_REQUIRED);
            }
            throw requestError('The document has no operation to run', ErrorReason.NO_OPERATION);
          }
          if (operation.operation === 'subscription') {
            throw requestError('Subscriptions are served over WebSocket (graphql-ws) at this URL, not over HTTP', ErrorReason.SUBSCRIPTION_OVER_HTTP);
          }
        },
      };
    },
  };
}
