import { allow, anyOf, internalService, roles, type AccessPolicy, type Rule } from '../../platform/authz';
import type { Context } from './service';

type IdOf = (input: { args: Record<string, unknown>; parent: unknown }) => string | undefined;
const fromArg = (name: string): IdOf => ({ args }) => (args[name] === undefined ? undefined : String(args[name]));
const fromParent: IdOf = ({ parent }) => String((parent as { _id?: unknown })._id);

/** Staff who see every patient's record (row level); field rules below narrow it per role. */
const staff = roles('SUPER_ADMIN', 'ADMIN', 'NURSE', 'PHARMACIST');
const admins = roles('SUPER_ADMIN', 'ADMIN');
const clinical = roles('SUPER_ADMIN', 'ADMIN', 'NURSE', 'DOCTOR', 'PATIENT');

/** The caller is the patient whose record this is. */
const ownRecord = (idOf: IdOf): Rule<Context> => (input) =>
  input.ctx.identity.role === 'PATIENT' && !!input.ctx.identity.patientId && input.ctx.identity.patientId === idOf(input);

/** The caller is a doctor who treats this patient. */
const treatingDoctor = (idOf: IdOf): Rule<Context> => (input) => {
  const { role, doctorId } = input.ctx.identity;
  const patientId = idOf(input);
  if (role !== 'DOCTOR' || !doctorId || !patientId) return false;
  return input.ctx.loaders.treats.load({ doctorId, patientId });
};

const canSee = (idOf: IdOf) => anyOf<Context>(staff, internalService, ownRecord(idOf), treatingDoctor(idOf));
const inputFields = ({ input }: Record<string, unknown>) => Object.keys((input as Record<string, unknown>) ?? {});

/**
 * Who may do what with patient records. Default deny: every field of every type is named
 * (Patient field by field, so a new field cannot ship without a decision). Every Patient that
 * leaves this service passes the __object guard and is written to the audit trail.
 */
export const access: AccessPolicy<Context> = {
  Query: {
    patient: { rule: canSee(fromArg('id')), audit: { entityType: 'Patient', operation: 'READ', entityId: (a) => String(a.id) } },
    patients: { rule: anyOf<Context>(staff, roles('DOCTOR')), audit: { entityType: 'Patient', operation: 'READ', entityId: () => null } },
    treats: internalService,
  },
  Mutation: {
    registerPatient: {
      rule: admins,
      audit: { entityType: 'Patient', operation: 'CREATE', entityId: (_a, r) => (r ? String((r as { _id: unknown })._id) : null), fields: inputFields },
    },
    updatePatient: {
      rule: anyOf<Context>(admins, ownRecord(fromArg('id'))),
      audit: { entityType: 'Patient', operation: 'UPDATE', entityId: (a) => String(a.id), fields: inputFields },
    },
    addMedicalHistoryEntry: {
      rule: anyOf<Context>(admins, treatingDoctor(fromArg('patientId'))),
      audit: { entityType: 'Patient', operation: 'UPDATE', entityId: (a) => String(a.patientId), fields: () => ['medicalHistory'] },
    },
    addLabResult: {
      rule: anyOf<Context>(admins, treatingDoctor(fromArg('patientId'))),
      audit: { entityType: 'Patient', operation: 'UPDATE', entityId: (a) => String(a.patientId), fields: () => ['labResults'] },
    },
    deletePatient: {
      rule: admins,
      audit: { entityType: 'Patient', operation: 'DELETE', entityId: (a) => String(a.id), fields: () => [] },
    },
    recordCareRelation: {
      rule: internalService,
      audit: { entityType: 'Patient', operation: 'UPDATE', entityId: (a) => String(a.patientId), fields: () => ['careRelations'] },
    },
  },
  Patient: {
    __object: canSee(fromParent),
    __audit: { entityType: 'Patient', id: (p) => String((p as { _id: unknown })._id) },
    id: allow,
    firstName: allow,
    lastName: allow,
    name: allow,
    dateOfBirth: allow,
    sex: allow,
    email: allow,
    phone: allow,
    address: allow,
    emergencyContact: allow,
    timeZone: allow,
    allergies: allow,
    medicalHistory: clinical,
    labResults: clinical,
    createdAt: allow,
    updatedAt: allow,
  },
  Address: { '*': allow },
  EmergencyContact: { '*': allow },
  MedicalHistoryEntry: { '*': allow },
  LabResult: { '*': allow },
  ReferenceRange: { '*': allow },
  PatientEdge: { '*': allow },
  PatientConnection: { '*': allow },
  PageInfo: { '*': allow },
};
