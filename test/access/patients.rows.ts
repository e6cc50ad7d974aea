import type { Role } from '../../platform/identity';
import { ALL, NONE, OWN, listed, type AccessEnv, type AccessRows, type Target } from './env';

const readRecord = { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: ALL, PHARMACIST: ALL, DOCTOR: OWN, PATIENT: OWN };
const readClinical = { ...readRecord, PHARMACIST: NONE };
const writeClinical = { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: NONE, PHARMACIST: NONE, DOCTOR: OWN, PATIENT: NONE };
const adminsOnly = { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: NONE, PHARMACIST: NONE, DOCTOR: NONE, PATIENT: NONE };

export const patientRows: AccessRows = {
  internal: [
    { field: 'patients.treats', query: '{ treats(doctorId: "65d000000000000000000001", patientIds: []) }' },
    { field: 'patients.recordCareRelation', query: 'mutation { recordCareRelation(patientId: "65e000000000000000000001", doctorId: "65d000000000000000000001") }' },
  ],
  ops: (env: AccessEnv) => {
    const { graph, ids } = env;
    const freshTarget = async (t: Target, role: Role): Promise<string> => {
      if (t === 'own' && role === 'PATIENT') return ids.own; // a patient trying to erase their own record
      const id = await env.register(`Erase-${role}-${t}`);
      if (t === 'own' && role === 'DOCTOR') await env.treat(id);
      return id;
    };
    return {
      'patient(id) demographics': {
        field: 'patients.patient',
        run: (tk, id) => graph.as(tk, `{ patient(id: "${id}") { id name dateOfBirth allergies } }`),
        expect: readRecord,
      },
      'patient(id) medicalHistory': {
        field: 'patients.patient',
        run: (tk, id) => graph.as(tk, `{ patient(id: "${id}") { medicalHistory { condition } } }`),
        expect: readClinical,
      },
      'patient(id) labResults': {
        field: 'patients.patient',
        run: (tk, id) => graph.as(tk, `{ patient(id: "${id}") { labResults { test value } } }`),
        expect: readClinical,
      },
      'patients list': {
        field: 'patients.patients',
        run: (tk) => graph.as(tk, `{ patients(first: 100) { edges { node { id } } } }`),
        outcome: listed,
        expect: { ...readRecord, PATIENT: NONE },
      },
      'patients search by name': {
        field: 'patients.patients',
        run: (tk) => graph.as(tk, `{ patients(search: "Foreign") { edges { node { id name } } } }`),
        outcome: (res) => listed(res, ids.foreign),
        expect: { ...readRecord, DOCTOR: NONE, PATIENT: NONE },
      },
      updatePatient: {
        field: 'patients.updatePatient',
        run: (tk, id) => graph.as(tk, `mutation { updatePatient(id: "${id}", input: { phone: "+4930111222" }) { id } }`),
        expect: { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: NONE, PHARMACIST: NONE, DOCTOR: NONE, PATIENT: OWN },
      },
      addMedicalHistoryEntry: {
        field: 'patients.addMedicalHistoryEntry',
        run: (tk, id) => graph.as(tk, `mutation { addMedicalHistoryEntry(patientId: "${id}", input: { condition: "Checked" }) { id } }`),
        expect: writeClinical,
      },
      addLabResult: {
        field: 'patients.addLabResult',
        run: (tk, id) => graph.as(tk, `mutation { addLabResult(patientId: "${id}", input: { test: "CRP", value: 3, unit: "mg/L", takenAt: "2026-01-01T00:00:00Z" }) { id } }`),
        expect: writeClinical,
      },
      deletePatient: {
        field: 'patients.deletePatient',
        target: freshTarget,
        run: (tk, id) => graph.as(tk, `mutation { deletePatient(id: "${id}") }`),
        expect: adminsOnly,
      },
      registerPatient: {
        field: 'patients.registerPatient',
        run: (tk) => graph.as(tk, `mutation { registerPatient(input: { firstName: "New", lastName: "Born", dateOfBirth: "2026-01-01", sex: UNKNOWN }) { id } }`),
        expect: adminsOnly,
      },
    };
  },
};

/** Accounts and doctors hold no patient data. */
export const staffRows: AccessRows = {
  notPatientData: [
    'accounts.clinic', 'accounts.me', 'accounts.user', 'accounts.users', 'accounts.auditLog', 'accounts.login', 'accounts.refreshSession',
    'accounts.logout', 'accounts.changePassword', 'accounts.createUser', 'accounts.setUserRole', 'accounts.deactivateUser',
    'accounts.reactivateUser', 'accounts.resetPassword', 'accounts.linkUserToPatient', 'accounts.linkUserToDoctor',
    'doctors.doctor', 'doctors.doctors', 'doctors.specialties', 'doctors.createDoctor',
    'doctors.updateDoctor', 'doctors.setWeeklySchedule', 'doctors.deactivateDoctor', 'doctors.activateDoctor',
  ],
  ops: () => ({}),
};
