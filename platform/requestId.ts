import { randomUUID } from 'node:crypto';

/**
 * Request ids. The router makes its own for every request (a UUID): it names the request in every
 * log line and audit entry and is forwarded, signed, to every subgraph it calls. A client may send
 * its own `x-request-id` for its correlation; it is kept beside the router's (`clientRequestId` in
 * logs and audit entries, forwarded in `x-client-request-id`), never instead of it, and only when it
 * is at most 128 characters of `A-Z a-z 0-9 . _ : -`. Anything else is dropped: an 8 KB header
 * forwarded to every subgraph broke the calls (431), and odd characters have no business in logs.
 */
export const CLIENT_REQUEST_ID_HEADER = 'x-client-request-id';
export const MAX_REQUEST_ID_LENGTH = 128;
const ACCEPTABLE = new RegExp(`^[A-Za-z0-9._:-]{1,${MAX_REQUEST_ID_LENGTH}}$`);

/** The value when it may serve as a request id, else undefined. */
export function acceptableRequestId(value: unknown): string | undefined {
  return typeof value === 'string' && ACCEPTABLE.test(value) ? value : undefined;
}

export interface RequestIds {
  /** The router's own id of this request. */
  requestId: string;
  /** The client's `x-request-id`, when acceptable. */
  clientRequestId?: string;
  /** True when the client sent an `x-request-id` that was not acceptable (and was dropped). */
  refused: boolean;
}

/** The ids of a request arriving at the router with this `x-request-id` header (if any). */
export function routerRequestIds(clientHeader: string | undefined): RequestIds {
  const clientRequestId = acceptableRequestId(clientHeader);
  return { requestId: randomUUID(), ...(clientRequestId ? { clientRequestId } : {}), refused: clientHeader !== undefined && !clientRequestId };
}
