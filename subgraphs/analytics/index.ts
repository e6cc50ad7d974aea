import path from 'node:path';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { startAgenda, stopAgenda } from '../../platform/jobs';
import { ServiceClient } from '../../platform/serviceClient';
import { runSubgraphMain, type SubgraphDefinition } from '../../platform/subgraph';
import { access } from './access';
import { createAnalyticsModels } from './model';
import { Refresher } from './pipelines';
import { Reports } from './reports';
import { resolvers } from './resolvers';
import { AnalyticsService, type Context } from './service';

export const REFRESH_JOB = 'analytics.refresh';

export const analyticsSubgraph: SubgraphDefinition<Context> = {
  name: 'analytics',
  schemaPath: path.join(__dirname, 'schema.graphql'),
  resolvers: resolvers as GraphQLResolverMap<Context>,
  access,
  async setup(conn, log, cfg, onStop) {
    const models = await createAnalyticsModels(conn);
    const refresher = new Refresher(conn, cfg, models);
    // A recurring Agenda job: one run at a time, cluster-wide.
    const agenda = await startAgenda(cfg, 'analytics', log, async (a) => {
      a.define(REFRESH_JOB, { lockLifetime: 10 * 60_000 }, async () => {
        const run = await refresher.run();
        log.info({ rows: run.rows, durationMs: run.durationMs }, 'analytics refreshed');
      });
      await a.every(`${cfg.ANALYTICS_REFRESH_SECONDS} seconds`, REFRESH_JOB);
    });
    onStop(() => stopAgenda(agenda));
    const service = new AnalyticsService(new Reports(models, conn, cfg), refresher, new ServiceClient(cfg, 'analytics'));
    return (base) => ({ ...base, analytics: service });
  },
};

if (require.main === module) runSubgraphMain(analyticsSubgraph);
