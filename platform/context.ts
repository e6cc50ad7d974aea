import type { AuditBuffer } from './audit';
import type { ClientInfo } from './client';
import type { Identity } from './identity';
import type { Logger } from './logger';

/** What every request carries, in the router and in every subgraph. */
export interface BaseContext {
  identity: Identity;
  /** The router's id of the request (platform/requestId.ts). */
  requestId: string;
  /** The client's own `x-request-id`, kept beside the router's when acceptable. */
  clientRequestId?: string;
  log: Logger;
}

/** What the shared bootstrap gives every subgraph resolver; services extend it with their own. */
export interface SubgraphContext extends BaseContext {
  audit: AuditBuffer;
  /** The client's Idempotency-Key, forwarded by the router with a mutation (platform/idempotency.ts). */
  idempotencyKey?: string;
  /** Who the client is (address, device), when the router vouched for it (platform/client.ts). */
  client?: ClientInfo;
}
