import path from 'node:path';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { ServiceClient } from '../../platform/serviceClient';
import type { SubgraphDefinition } from '../../platform/subgraph';
import { runSubgraphMain } from '../../platform/subgraph';
import { access } from './access';
import { STALE_AFTER_MS } from './dispense';
import { startAgenda, stopAgenda } from '../../platform/jobs';
import { NOTIFY_LOW_STOCK } from '../../platform/jobNames';
import { enqueueJob, OutboxRelay } from '../../platform/outboxRelay';
import { createMedicationModels, type MedicationDoc, type PrescriptionDoc } from './model';
import { resolvers } from './resolvers';
import { MedicationServices, type Context } from './service';

export const medicationsSubgraph: SubgraphDefinition<Context> = {
  name: 'medications',
  schemaPath: path.join(__dirname, 'schema.graphql'),
  resolvers: resolvers as GraphQLResolverMap<Context>,
  access,
  async setup(conn, log, cfg, onStop) {
    const models = await createMedicationModels(conn);
    const services = new MedicationServices(models, new ServiceClient(cfg, 'medications'), log);
    // Dispensations a stopped process left half-done: rolled back now, and swept every minute for
    // those another instance leaves behind while this one runs.
    const recover = () =>
      services.dispensing.recover().then(
        (n) => n && log.warn({ recovered: n }, 'rolled back dispensations a stopped process left unfinished'),
        (err: Error) => log.error({ err: err.message }, 'dispensation recovery failed'),
      );
    await recover();
    const sweep = setInterval(() => void recover(), STALE_AFTER_MS);
    sweep.unref();
    onStop(async () => clearInterval(sweep));
    // Idempotency keys older than a day are ignored when read and deleted here (no TTL index on FerretDB).
    const sweepKeys = setInterval(() => void services.keys.sweep().catch((err: Error) => log.warn({ err: err.message }, 'idempotency key sweep failed')), 3_600_000);
    sweepKeys.unref();
    onStop(async () => clearInterval(sweepKeys));

    // Outbox relays: LOW_STOCK becomes an alert job for notifications; PRESCRIPTION_CREATED has
    // no consumer yet (medication reminders read active prescriptions) and is only marked handled.
    const agenda = await startAgenda(cfg, 'medications', log, () => undefined);
    onStop(() => stopAgenda(agenda));
    const lowStock = new OutboxRelay<MedicationDoc>(
      models.Medication,
      { LOW_STOCK: enqueueJob<MedicationDoc>(agenda, NOTIFY_LOW_STOCK, (_e, m) => ({ medicationId: String(m._id), medicationName: `${m.name} ${m.strength}` })) },
      log,
      (id, work) => services.queue.run(`medication:${id}`, work),
    );
    await lowStock.schedule(agenda, 'medications.relay-medication-outbox', cfg.OUTBOX_SWEEP_SECONDS);
    const prescriptions = new OutboxRelay<PrescriptionDoc>(models.Prescription, {}, log, (id, work) => services.queue.run(`prescription:${id}`, work));
    await prescriptions.schedule(agenda, 'medications.relay-prescription-outbox', cfg.OUTBOX_SWEEP_SECONDS);
    return (base) => services.context(base);
  },
};

if (require.main === module) runSubgraphMain(medicationsSubgraph);
