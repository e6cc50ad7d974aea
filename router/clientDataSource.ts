import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { CLIENT_HEADER, signClient } from '../platform/client';
import { IDENTITY_HEADER } from '../platform/identity';
import type { RouterContext } from './context';
import { SignedDataSource } from './datasource';

/**
 * A subgraph call that also says who the client is (platform/client.ts): the caller's address and
 * device, in a header signed with INTERNAL_SECRET and bound to the call's identity header, for the
 * accounts service's sign-in throttling.
 */
export class ClientDataSource extends SignedDataSource {
  constructor(
    private readonly clientSecret: string,
    ...args: ConstructorParameters<typeof SignedDataSource>
  ) {
    super(...args);
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<RouterContext>): void {
    super.willSendRequest(options);
    const headers = options.request.http?.headers;
    if (!headers) return;
    headers.delete(CLIENT_HEADER);
    const identity = headers.get(IDENTITY_HEADER);
    const client = 'client' in options.context ? options.context.client : undefined;
    if (client && identity) headers.set(CLIENT_HEADER, signClient(client, this.clientSecret, identity));
  }
}
