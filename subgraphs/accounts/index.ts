import path from 'node:path';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { AUDIT_DB, auditModel } from '../../platform/audit';
import { dbName } from '../../platform/config';
import { runSubgraphMain, type SubgraphDefinition } from '../../platform/subgraph';
import { access } from './access';
import { createAccountModels } from './model';
import { resolvers } from './resolvers';
import { AccountService, type Context } from './service';

export const accountsSubgraph: SubgraphDefinition<Context> = {
  name: 'accounts',
  schemaPath: path.join(__dirname, 'schema.graphql'),
  resolvers: resolvers as GraphQLResolverMap<Context>,
  access,
  async setup(conn, log, cfg, onStop) {
    const service = new AccountService(await createAccountModels(conn), await auditModel(conn, dbName(cfg, AUDIT_DB)), cfg);
    if (await service.bootstrapSuperAdmin()) log.info({ email: cfg.SUPERADMIN_EMAIL }, 'created the first super admin');
    for (const email of await service.replacePublishedSuperAdminPasswords()) {
      log.warn({ email }, 'super admin had a published default password: it is SUPERADMIN_PASSWORD now, and their sessions ended');
    }
    // Sign-in counters and known devices past their time, every hour (throttle.ts); the former
    // per-email lock-out documents (login_throttle) are no longer read.
    await conn.dropCollection('login_throttle').catch(() => undefined);
    const sweep = setInterval(() => {
      service.throttle.sweep().catch((err: Error) => log.warn({ err: err.message }, 'sign-in throttle sweep failed'));
    }, 3_600_000);
    sweep.unref();
    onStop(async () => clearInterval(sweep));
    return (base) => ({ ...base, accounts: service, loaders: service.loaders() });
  },
};

if (require.main === module) runSubgraphMain(accountsSubgraph);
