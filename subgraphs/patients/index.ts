import path from 'node:path';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { SubgraphDefinition } from '../../platform/subgraph';
import { runSubgraphMain } from '../../platform/subgraph';
import { createPatientModels } from './model';
import { access } from './access';
import { resolvers } from './resolvers';
import { PatientService, type Context } from './service';

export const patientsSubgraph: SubgraphDefinition<Context> = {
  name: 'patients',
  schemaPath: path.join(__dirname, 'schema.graphql'),
  resolvers: resolvers as GraphQLResolverMap<Context>,
  access,
  async setup(conn, _log, cfg) {
    const service = new PatientService(await createPatientModels(conn), cfg.CLINIC_TIME_ZONE);
    return (base) => ({ ...base, patients: service, loaders: service.loaders() });
  },
};

if (require.main === module) runSubgraphMain(patientsSubgraph);
