import type { Logger } from './logger';
import type { Identity } from './identity';

/**
 * What every resolver of every subgraph receives. `loaders` is per request, so DataLoader
 * batching and caching never leak between users.
 */
export interface BaseContext {
  identity: Identity;
  requestId: string;
  log: Logger;
}

export interface ServiceContext<L = Record<string, never>> extends BaseContext {
  loaders: L;
}
