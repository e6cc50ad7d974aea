import path from 'node:path';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { dbName } from '../../platform/config';
import { EVENTS_DB, Publisher, TOPICS } from '../../platform/pubsub';
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
  async setup(conn, log, cfg) {
    const live = await Publisher.open(conn, dbName(cfg, EVENTS_DB));
    const service = new PatientService(await createPatientModels(conn), cfg.CLINIC_TIME_ZONE, (id) =>
      live.publish(TOPICS.patientChanged, { id }).catch((err: Error) => log.warn({ err: err.message, patientId: id }, 'erasure not announced; caches keep the patient until their TTL')),
    );
    return (base) => ({ ...base, patients: service, loaders: service.loaders() });
  },
};

if (require.main === module) runSubgraphMain(patientsSubgraph);
