import { CombinedGraphQLErrors, ServerError, ServerParseError } from '@apollo/client';
import { formatInstantsIn } from './time';

/** What went wrong, written for the person at the screen, with the graph's stable code. */
export interface Problem {
  message: string;
  code: string;
}

const BY_CODE: Record<string, string> = {
  UNAUTHENTICATED: 'Your session has ended. Please sign in again.',
  FORBIDDEN: 'Your role does not allow this. Ask an administrator if you need it.',
  SUBGRAPH_UNAVAILABLE: 'Part of the system is busy or restarting. Please try again in a moment.',
  INTERNAL_SERVER_ERROR: 'Something went wrong on the server. Please try again; if it keeps happening, tell your administrator.',
  TOO_MANY_REQUESTS: 'Too many requests in a short time. Please wait a moment and try again.',
  NETWORK: 'The server cannot be reached. Check the connection and try again.',
};

/** Codes whose server message is written for people and may be shown as it is. */
const SHOW_MESSAGE = new Set(['BAD_USER_INPUT', 'CONFLICT', 'NOT_FOUND', 'RATE_LIMITED']);

/** An error whose message the app wrote for the user (shown as it is). */
export class UserMessage extends Error {}

/**
 * A problem from any error the client can raise. Instants in a server message (ISO UTC) are shown
 * as wall-clock times in `zone` (the clinic's or the doctor's), never as raw UTC.
 */
export function problemOf(error: unknown, zone?: string): Problem {
  if (CombinedGraphQLErrors.is(error)) {
    const first = error.errors[0];
    const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'ERROR';
    const message = first && SHOW_MESSAGE.has(code) ? first.message : (BY_CODE[code] ?? 'The request could not be completed. Please try again.');
    return { code, message: formatInstantsIn(capitalise(message), zone) };
  }
  if (ServerError.is(error)) {
    if (error.statusCode === 429) return { code: 'TOO_MANY_REQUESTS', message: BY_CODE.TOO_MANY_REQUESTS! };
    return { code: 'SERVER', message: `The server answered ${error.statusCode}. Please try again in a moment.` };
  }
  if (error instanceof UserMessage) return { code: 'APP', message: error.message };
  if (ServerParseError.is(error)) return { code: 'SERVER', message: 'The server sent an answer this app cannot read. Please reload the page.' };
  return { code: 'NETWORK', message: BY_CODE.NETWORK! };
}

/** True when the outcome of a mutation is unknown (the same idempotency key may be sent again). */
export function outcomeUnknown(problem: Problem): boolean {
  return problem.code === 'NETWORK' || problem.code === 'SERVER' || problem.code === 'SUBGRAPH_UNAVAILABLE' || problem.code === 'INTERNAL_SERVER_ERROR';
}

function capitalise(text: string): string {
  return text.length > 0 ? text[0]!.toUpperCase() + text.slice(1) : text;
}
