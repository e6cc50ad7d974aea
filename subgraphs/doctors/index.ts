import path from 'node:path';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { dbName } from '../../platform/config';
import { EVENTS_DB, Publisher, TOPICS } from '../../platform/pubsub';
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
  async setup(conn, log, cfg) {
    const live = await Publisher.open(conn, dbName(cfg, EVENTS_DB));
    const service = new DoctorService(await createDoctorModels(conn), (id) =>
      live.publish(TOPICS.doctorChanged, { id }).catch((err: Error) => log.warn({ err: err.message, doctorId: id }, 'doctor change not announced; caches keep it until their TTL')),
    );
    return (base) => ({ ...base, doctors: service, loaders: service.loaders() });
  },
};

if (require.main === module) runSubgraphMain(doctorsSubgraph);
