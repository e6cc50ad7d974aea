import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { ServiceClient } from '../platform/serviceClient';
import type { MedicationModels } from '../subgraphs/medications/model';
import { MedicationServices } from '../subgraphs/medications/service';
import { DEMO_DOCTORS, DEMO_PATIENTS } from './seed-data';

const CATALOGUE = [
  { name: 'Amoxicillin', form: 'CAPSULE', strength: '500 mg', code: 'J01CA04', unit: 'capsule', stockOnHand: 120, reorderLevel: 30 },
  { name: 'Ibuprofen', form: 'TABLET', strength: '400 mg', code: 'M01AE01', unit: 'tablet', stockOnHand: 200, reorderLevel: 50 },
  { name: 'Metformin', form: 'TABLET', strength: '850 mg', code: 'A10BA02', unit: 'tablet', stockOnHand: 90, reorderLevel: 30 },
  { name: 'Ramipril', form: 'TABLET', strength: '5 mg', code: 'C09AA05', unit: 'tablet', stockOnHand: 60, reorderLevel: 20 },
  { name: 'Salbutamol', form: 'INHALER', strength: '100 µg/dose', code: 'R03AC02', unit: 'inhaler', stockOnHand: 8, reorderLevel: 10 },
  { name: 'Insulin glargine', form: 'INJECTION', strength: '100 U/ml', code: 'A10AE04', unit: 'pen', stockOnHand: 12, reorderLevel: 5, lot: 'L-2026-07', expiresOn: '2027-03-31' },
] as const;

/**
 * A small pharmacy: the catalogue above and a few prescriptions by the demo doctors. Only when the
 * catalogue is empty, so restarting never duplicates. Uses the medications service's own code.
 */
export async function seedMedications(models: MedicationModels, cfg: Config, log: Logger): Promise<number> {
  if ((await models.Medication.estimatedDocumentCount()) > 0) return 0;
  const services = new MedicationServices(models, new ServiceClient(cfg, 'medications'), log);
  const ids: Record<string, string> = {};
  for (const m of CATALOGUE) ids[m.code] = String((await services.catalogue.add({ ...m }))._id);
  return CATALOGUE.length + (await prescriptions(services, ids));
}

async function prescriptions(services: MedicationServices, ids: Record<string, string>): Promise<number> {
  const [okafor, , marquez, lindqvist] = DEMO_DOCTORS;
  const [mia, noah, grace, erik] = DEMO_PATIENTS;
  const list = [
    { patientId: mia._id, prescriberId: okafor._id, medicationId: ids.C09AA05, dosage: '1 tablet', frequency: 'once daily', startDate: '2026-01-10', refillsAllowed: 3 },
    { patientId: noah._id, prescriberId: marquez._id, medicationId: ids.R03AC02, dosage: '2 puffs', frequency: 'twice daily', startDate: '2026-02-01', refillsAllowed: 1 },
    { patientId: grace._id, prescriberId: okafor._id, medicationId: ids.A10BA02, dosage: '1 tablet with a meal', frequency: 'twice daily', startDate: '2025-11-01', refillsAllowed: 5 },
    { patientId: erik._id, prescriberId: lindqvist._id, medicationId: ids.J01CA04, dosage: '1 capsule', frequency: 'three times daily', startDate: '2026-11-20', endDate: '2026-11-27', refillsAllowed: 0 },
  ];
  for (const p of list) await services.prescriptions.create({ endDate: null, ...p });
  return list.length;
}
