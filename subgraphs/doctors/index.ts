import path from 'node:path';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { SubgraphDefinition } from '../../platform/subgraph';
import { runSubgraphMain } from '../../platform/subgraph';
import { createDoctorModels } from './model';
import { access } from './access';
import { resolvers } from './resolvers';
import { DoctorService, type Context } from './service';

export const doctorsSubgraph: SubgraphDefinition<Context> = {
  name: 'doctors',
  schemaPath: path.join(__dirname, 'schema.graphql'),
  resolvers: resolvers as GraphQLResolverMap<Context>,
  access,
  async setup(conn) {
    const service = new DoctorService(await createDoctorModels(conn));
    return (base) => ({ ...base, doctors: service, loaders: service.loaders() });
  },
};

if (require.main === module) runSubgraphMain(doctorsSubgraph);
