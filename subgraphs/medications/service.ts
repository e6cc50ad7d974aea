import DataLoader from 'dataloader';
import type { SubgraphContext } from '../../platform/context';
import { IdempotencyKeys, idempotencyModel } from '../../platform/idempotency';
import { byIdLoader } from '../../platform/loaders';
import type { Logger } from '../../platform/logger';
import type { ServiceClient } from '../../platform/serviceClient';
import { Catalogue } from './catalogue';
import { ClinicDirectory } from './directory';
import { Dispensing } from './dispense';
import type { MedicationDoc, MedicationModels, PrescriptionDoc } from './model';
import { Prescriptions } from './prescriptions';
import { WriteQueue } from './serial';
import { Stock } from './stock';

export interface Loaders {
  medication: DataLoader<string, MedicationDoc | null>;
  prescription: DataLoader<string, PrescriptionDoc | null>;
  /** patientId → that patient's prescriptions: one `$in` query for every patient of a request. */
  prescriptionsOfPatient: DataLoader<string, PrescriptionDoc[]>;
  /** patientId → whether the calling doctor treats them (asked of patients once per request). */
  treats: DataLoader<string, boolean>;
}

export interface Context extends SubgraphContext {
  catalogue: Catalogue;
  prescriptions: Prescriptions;
  dispensing: Dispensing;
  loaders: Loaders;
}

/** The medications service: catalogue and stock, prescriptions, dispensing. */
export class MedicationServices {
  readonly catalogue: Catalogue;
  readonly prescriptions: Prescriptions;
  readonly dispensing: Dispensing;
  private readonly directory: ClinicDirectory;
  /** The per-document write queue every write of this service goes through (serial.ts). */
  readonly queue: WriteQueue;
  /** Dispensation ids reserved per idempotency key (dispense sent with an Idempotency-Key). */
  readonly keys: IdempotencyKeys;

  constructor(
    private readonly models: MedicationModels,
    client: ServiceClient,
    log: Logger,
  ) {
    const queue = (this.queue = new WriteQueue());
    const stock = new Stock(models.Medication, queue);
    this.directory = new ClinicDirectory(client);
    this.catalogue = new Catalogue(models, stock);
    this.prescriptions = new Prescriptions(models, this.directory, queue);
    this.keys = new IdempotencyKeys(idempotencyModel(models.Dispensation.db));
    this.dispensing = new Dispensing(models, stock, queue, log, this.keys);
  }

  loaders(base: Pick<SubgraphContext, 'identity' | 'requestId'>): Loaders {
    return {
      medication: byIdLoader(this.models.Medication),
      prescription: byIdLoader(this.models.Prescription),
      prescriptionsOfPatient: new DataLoader((ids) => this.prescriptions.ofPatients(ids)),
      treats: this.directory.treatsLoader(base.identity, base.requestId),
    };
  }

  context(base: SubgraphContext): Context {
    return { ...base, catalogue: this.catalogue, prescriptions: this.prescriptions, dispensing: this.dispensing, loaders: this.loaders(base) };
  }
}
