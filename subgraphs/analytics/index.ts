import path from 'node:path';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { Claims, claimsModel } from '../../platform/claim';
import { ANALYTICS_APPOINTMENT_CHANGES, type AppointmentChange } from '../../platform/jobNames';
import { startAgenda, stopAgenda, type Job } from '../../platform/jobs';
import { Queue } from '../../platform/queue';
import { ServiceClient } from '../../platform/serviceClient';
import { runSubgraphMain, type SubgraphDefinition } from '../../platform/subgraph';
import { access } from './access';
import { createAnalyticsModels } from './model';
import { Backfill } from './backfill';
import { Folder } from './fold';
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
    const queue = Queue.open<AppointmentChange>(conn, cfg, ANALYTICS_APPOINTMENT_CHANGES);
    const folder = new Folder(models, queue, new Claims(claimsModel(conn)));
    const backfill = new Backfill(conn, cfg, folder, models.Run);
    const agenda = await startAgenda(cfg, 'analytics', log, async (a) => {
      // The fold: a recurring Agenda job, one run at a time cluster-wide.
      a.define(REFRESH_JOB, { lockLifetime: 10 * 60_000 }, async (job: Job) => {
        // Until one has finished (a new installation, or one upgraded from full recomputes), a run
        // counts every appointment there is; later runs count only what changed.
        if (!(await backfill.done())) {
          const all = await backfill.run(async () => {
            await job.touch();
          });
          log.info({ changes: all.changes, rows: all.rows, durationMs: all.durationMs }, 'analytics: every appointment counted');
        }
        const run = await folder.run();
        if (run.changes) log.info({ changes: run.changes, rows: run.rows, durationMs: run.durationMs }, 'analytics updated');
      });
      await a.every(`${cfg.ANALYTICS_REFRESH_SECONDS} seconds`, REFRESH_JOB);
    });
    onStop(() => stopAgenda(agenda));
    const service = new AnalyticsService(new Reports(models, conn, cfg), folder, backfill, new ServiceClient(cfg, 'analytics'));
    return (base) => ({ ...base, analytics: service });
  },
};

if (require.main === module) runSubgraphMain(analyticsSubgraph);
