import type { ClientInfo } from '../platform/client';
import type { BaseContext } from '../platform/context';

/** Per-request context of the router: who is asking and the request id sent to every subgraph. */
export interface RouterContext extends BaseContext {
  /** A mutation's Idempotency-Key (router/idempotency.ts), forwarded to the subgraphs it calls. */
  idempotencyKey?: string;
  /** The client's address and device (platform/client.ts), sent to subgraphs in a signed header. */
  client?: ClientInfo;
}
