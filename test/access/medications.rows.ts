import { ALL, NONE, OWN, listed, type AccessEnv, type AccessRows, type Target } from './env';

/**
 * Prescriptions are PHI. "own"/"foreign" are the suite's own and foreign patient; the shared
 * prescriptions below were written by another doctor, so the DOCTOR user sees the own patient's
 * only because they treat that patient. Rows marked "written by the DOCTOR user" check the other
 * way in: a doctor sees what they prescribed, whoever the patient.
 */
const readRx = { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: ALL, PHARMACIST: ALL, DOCTOR: OWN, PATIENT: OWN };
const nobody = { SUPER_ADMIN: NONE, ADMIN: NONE, NURSE: NONE, PHARMACIST: NONE, DOCTOR: NONE, PATIENT: NONE };

const state = {
  medicationId: '',
  otherDoctor: '',
  /** Written by another doctor, for the own / foreign patient. */
  rx: { own: '', foreign: '' } as Record<Target, string>,
  /** Written by the DOCTOR user, for the own / foreign patient. */
  rxByDoctor: { own: '', foreign: '' } as Record<Target, string>,
};

async function prescribeAsAdmin(env: AccessEnv, patientId: string, doctorId: string, refillsAllowed = 0): Promise<string> {
  const res = await env.graph.as<{ prescribe: { id: string } }>(env.tokens.SUPER_ADMIN, `mutation P($i: PrescribeInput!) { prescribe(input: $i) { id } }`, {
    i: { patientId, doctorId, medicationId: state.medicationId, dosage: '1 tablet', frequency: 'daily', startDate: '2026-01-01', refillsAllowed },
  });
  if (!res.data?.prescribe) throw new Error(`prescribe failed: ${JSON.stringify(res.errors)}`);
  return res.data.prescribe.id;
}

export const medicationRows: AccessRows = {
  notPatientData: ['medications.medication', 'medications.medications', 'medications.addMedication', 'medications.updateMedication', 'medications.receiveStock'],
  setup: async (env) => {
    const { graph, tokens, ids } = env;
    const med = await graph.as<{ addMedication: { id: string } }>(
      tokens.SUPER_ADMIN,
      `mutation { addMedication(input: { name: "Suite", form: TABLET, strength: "10 mg", code: "ACCESS-1", unit: "tablet", stockOnHand: 1000, reorderLevel: 0 }) { id } }`,
    );
    state.medicationId = med.data!.addMedication.id;
    const doc = await graph.as<{ createDoctor: { id: string } }>(
      tokens.SUPER_ADMIN,
      `mutation { createDoctor(input: { firstName: "Otto", lastName: "Other", specialty: "Oncology", timeZone: "Europe/Berlin" }) { id } }`,
    );
    state.otherDoctor = doc.data!.createDoctor.id;
    for (const t of ['own', 'foreign'] as const) {
      state.rx[t] = await prescribeAsAdmin(env, ids[t], state.otherDoctor);
      state.rxByDoctor[t] = await prescribeAsAdmin(env, ids[t], ids.doctor);
    }
  },
  ops: (env: AccessEnv) => {
    const { graph, ids } = env;
    const shared = async (t: Target) => state.rx[t];
    return {
      'prescription(id)': {
        field: 'medications.prescription',
        target: shared,
        run: (tk, id) => graph.as(tk, `{ prescription(id: "${id}") { id dosage status medication { name } } }`),
        expect: readRx,
      },
      'prescription(id) written by the DOCTOR user': {
        field: 'medications.prescription',
        target: async (t) => state.rxByDoctor[t],
        run: (tk, id) => graph.as(tk, `{ prescription(id: "${id}") { id patient { id } prescriber { id } } }`),
        expect: { ...readRx, DOCTOR: ALL },
      },
      'prescriptions list': {
        field: 'medications.prescriptions',
        target: shared,
        run: (tk) => graph.as(tk, `{ prescriptions(first: 100) { edges { node { id } } } }`),
        outcome: listed,
        expect: readRx,
      },
      'prescriptions(patientId) of a patient': {
        field: 'medications.prescriptions',
        run: (tk, id) => graph.as(tk, `{ prescriptions(patientId: "${id}", first: 100) { edges { node { patient { id } } } } }`),
        outcome: listed,
        // The DOCTOR user wrote one for each patient.
        expect: { ...readRx, DOCTOR: ALL },
      },
      'patient(id) prescriptions, across subgraphs': {
        field: 'patients.patient',
        run: (tk, id) => graph.as(tk, `{ patient(id: "${id}") { prescriptions { patient { id } } } }`),
        outcome: listed,
        expect: readRx,
      },
      prescribe: {
        field: 'medications.prescribe',
        run: (tk, id) =>
          graph.as(tk, `mutation { prescribe(input: { patientId: "${id}", doctorId: "${ids.doctor}", medicationId: "${state.medicationId}", dosage: "1 tablet", frequency: "daily", startDate: "2026-02-01" }) { id } }`),
        expect: { ...nobody, SUPER_ADMIN: ALL, ADMIN: ALL, DOCTOR: OWN },
      },
      cancelPrescription: {
        field: 'medications.cancelPrescription',
        // own: a fresh one the DOCTOR user wrote; foreign: a fresh one another doctor wrote.
        target: (t) => prescribeAsAdmin(env, ids[t], t === 'own' ? ids.doctor : state.otherDoctor),
        run: (tk, id) => graph.as(tk, `mutation { cancelPrescription(id: "${id}") { id status } }`),
        expect: { ...nobody, SUPER_ADMIN: ALL, ADMIN: ALL, DOCTOR: OWN },
      },
      dispense: {
        field: 'medications.dispense',
        target: (t) => prescribeAsAdmin(env, ids[t], state.otherDoctor),
        run: (tk, id) => graph.as(tk, `mutation { dispense(prescriptionId: "${id}", quantity: 1) { id medication { stockOnHand } } }`),
        expect: { ...nobody, SUPER_ADMIN: ALL, PHARMACIST: ALL },
      },
      'catalogue: medications list': {
        field: 'medications.medications',
        run: (tk) => graph.as(tk, `{ medications(search: "Suite") { edges { node { id stockOnHand lowStock } } } }`),
        expect: { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: ALL, PHARMACIST: ALL, DOCTOR: ALL, PATIENT: ALL },
      },
      'catalogue: receiveStock': {
        field: 'medications.receiveStock',
        run: (tk) => graph.as(tk, `mutation { receiveStock(medicationId: "${state.medicationId}", input: { quantity: 1 }) { stockOnHand } }`),
        expect: { ...nobody, SUPER_ADMIN: ALL, ADMIN: ALL, PHARMACIST: ALL },
      },
    };
  },
};
