import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import mongoose from 'mongoose';

/** The one list of error codes clients can rely on (`extensions.code`). */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  FORBIDDEN: 'FORBIDDEN',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  RATE_LIMITED: 'RATE_LIMITED',
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Finer reasons some errors carry in `extensions.reason` beside their code, as stable as the codes.
 * Requests the router cannot run as sent (HTTP 400, `BAD_USER_INPUT`): a document with several
 * operations and no `operationName`; an `operationName` the document does not have; a subscription
 * sent over HTTP (subscriptions use graphql-ws on the same URL); `@defer`/`@stream`, which the
 * router cannot deliver incrementally (router/incremental.ts). `FORBIDDEN`: a document a router in
 * TRUSTED_DOCUMENTS mode does not list (router/trustedDocuments.ts, HTTP 403); a CORS preflight
 * from an origin not in CORS_ORIGINS (router/cors.ts, HTTP 403).
 */
export const ErrorReason = {
  OPERATION_NAME_REQUIRED: 'OPERATION_NAME_REQUIRED',
  UNKNOWN_OPERATION_NAME: 'UNKNOWN_OPERATION_NAME',
  NO_OPERATION: 'NO_OPERATION',
  SUBSCRIPTION_OVER_HTTP: 'SUBSCRIPTION_OVER_HTTP',
  INCREMENTAL_DELIVERY_NOT_SUPPORTED: 'INCREMENTAL_DELIVERY_NOT_SUPPORTED',
  OPERATION_NOT_TRUSTED: 'OPERATION_NOT_TRUSTED',
  CORS_ORIGIN_NOT_ALLOWED: 'CORS_ORIGIN_NOT_ALLOWED',
} as const;
export type ErrorReason = (typeof ErrorReason)[keyof typeof ErrorReason];

const PUBLIC_CODES = new Set<string>(Object.values(ErrorCode));
// Codes Apollo Server itself produces for bad requests; they are user errors too.
const APOLLO_USER_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE']);

export function appError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extra, code } });
}

export const badInput = (message: string, field?: string): GraphQLError =>
  appError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
export const notFound = (entity: string, id: string): GraphQLError =>
  appError(ErrorCode.NOT_FOUND, `${entity} ${id} was not found`, { entity, id });
export const conflict = (message: string): GraphQLError => appError(ErrorCode.CONFLICT, message);
export const forbidden = (message = 'You are not allowed to do this'): GraphQLError =>
  appError(ErrorCode.FORBIDDEN, message);
export const unauthenticated = (message = 'Sign in first'): GraphQLError =>
  appError(ErrorCode.UNAUTHENTICATED, message);

/**
 * True for a duplicate-key error (unique index violated). MongoDB says code 11000 everywhere;
 * FerretDB 1.24 (SQLite) does too for inserts, but an update through findAndModify that hits a
 * unique index fails with a generic error whose message carries SQLite's "UNIQUE constraint failed".
 */
export function isDuplicateKey(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message, writeErrors } = err as { code?: unknown; message?: unknown; writeErrors?: unknown };
  // A bulk write (insertMany): only when every document it refused was a duplicate.
  if (Array.isArray(writeErrors) && writeErrors.length) return writeErrors.every((w: unknown) => isDuplicateKey(w));
  return code === 11000 || (typeof message === 'string' && message.includes('UNIQUE constraint failed'));
}

/**
 * Socket errors of a connection the other end closed. The MongoDB driver (7.8) passes some on as
 * they are instead of as a MongoNetworkError: a command written to a pooled connection whose server
 * was just killed fails with Node's `EPIPE` ("This socket has been ended by the other party") when
 * the write waits for the socket to drain (found by killing the database in a test).
 */
const BROKEN_CONNECTION_CODES = new Set(['EPIPE', 'ECONNRESET']);
function isBrokenConnection(err: unknown): boolean {
  // Not `instanceof Error`: Node's own errors come from its realm (another one under jest).
  return typeof err === 'object' && err !== null && BROKEN_CONNECTION_CODES.has(String((err as { code?: unknown }).code));
}

/**
 * True when the database could not be reached (down, restarting, connection lost, or mongoose
 * gave up waiting for it): the outcome is open and asking again later is right, unlike a bug.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const { mongo } = mongoose;
  return (
    err instanceof mongo.MongoNetworkError ||
    isBrokenConnection(err) ||
    err instanceof mongo.MongoServerSelectionError ||
    err instanceof mongo.MongoNotConnectedError ||
    err instanceof mongo.MongoTopologyClosedError ||
    err instanceof mongoose.Error.MongooseServerSelectionError ||
    (err instanceof mongoose.Error && /buffering timed out/.test(err.message))
  );
}

/**
 * Turns anything thrown into what a client may see: our own coded errors and GraphQL validation
 * errors pass; mongoose validation becomes BAD_USER_INPUT; an unreachable database becomes
 * SUBGRAPH_UNAVAILABLE (retry; with an Idempotency-Key a retry is safe); everything else is
 * masked as INTERNAL_SERVER_ERROR with no message detail and no stack trace (it is logged by the caller).
 */
export function toClientError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const code = formatted.extensions?.code;
  const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
  if (original instanceof mongoose.Error.ValidationError || original instanceof mongoose.Error.CastError) {
    return { ...base, message: original.message, extensions: { code: ErrorCode.BAD_USER_INPUT } };
  }
  if (isDatabaseUnavailable(original)) {
    return { ...base, message: 'The database is unavailable right now; please try again shortly', extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE } };
  }
  if (typeof code === 'string' && (PUBLIC_CODES.has(code) || APOLLO_USER_CODES.has(code)) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
    const { stacktrace: _drop, exception: _drop2, ...extensions } = formatted.extensions ?? {};
    return { ...base, extensions: { ...extensions, code } };
  }
  return { ...base, message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}
