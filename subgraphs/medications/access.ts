import { allow, anyOf, authenticated, internalService, roles, type AccessPolicy, type Rule } from '../../platform/authz';
import type { PrescriptionDoc } from './model';
import type { Context } from './service';

const admins = roles('SUPER_ADMIN', 'ADMIN');
/** Staff who see every prescription. */
const staff = roles('SUPER_ADMIN', 'ADMIN', 'PHARMACIST', 'NURSE');
const signedIn = anyOf<Context>(authenticated, internalService);
const inventory = roles('SUPER_ADMIN', 'ADMIN', 'PHARMACIST');

const isDoctor = (ctx: Context, doctorId: string | undefined) => ctx.identity.role === 'DOCTOR' && !!doctorId && ctx.identity.doctorId === doctorId;
const treats = async (ctx: Context, patientId: string | undefined) => ctx.identity.role === 'DOCTOR' && !!patientId && ctx.loaders.treats.load(patientId);

/** The patient whose prescription it is, its prescriber, or a doctor who treats the patient. */
const involved: Rule<Context> = async ({ ctx, parent }) => {
  const p = parent as PrescriptionDoc;
  if (ctx.identity.role === 'PATIENT') return !!ctx.identity.patientId && ctx.identity.patientId === p.patientId;
  return isDoctor(ctx, p.prescriberId) || (await treats(ctx, p.patientId));
};

/** A doctor prescribing as themselves for a patient they treat. */
const doctorForOwnPatient: Rule<Context> = async ({ ctx, args }) => {
  const input = args.input as { patientId?: string; doctorId?: string | null } | undefined;
  if (ctx.identity.role !== 'DOCTOR' || (input?.doctorId && input.doctorId !== ctx.identity.doctorId)) return false;
  return treats(ctx, input?.patientId);
};

/** The doctor who wrote the prescription named by `id`. */
const prescriberOf: Rule<Context> = async ({ ctx, args }) =>
  ctx.identity.role === 'DOCTOR' && isDoctor(ctx, (await ctx.loaders.prescription.load(String(args.id)))?.prescriberId);

const prescriptionId = (name: string) => (a: Record<string, unknown>) => String(a[name]);
const inputFields = ({ input }: Record<string, unknown>) => Object.keys((input as Record<string, unknown>) ?? {});
const createdId = (_a: Record<string, unknown>, r: unknown) => (r ? String((r as PrescriptionDoc)._id) : null);

/**
 * Who may do what with medications and prescriptions. Default deny: every field of every type is
 * named (Prescription field by field). The catalogue is not PHI; every Prescription that leaves
 * this service, wherever it appears (Patient.prescriptions too), passes the __object guard and is
 * written to the audit trail.
 */
export const access: AccessPolicy<Context> = {
  Query: {
    medication: authenticated,
    medications: authenticated,
    prescription: {
      rule: anyOf<Context>(staff, roles('DOCTOR', 'PATIENT')),
      audit: { entityType: 'Prescription', operation: 'READ', entityId: prescriptionId('id') },
    },
    prescriptions: {
      rule: anyOf<Context>(staff, roles('DOCTOR', 'PATIENT')),
      audit: { entityType: 'Prescription', operation: 'READ', entityId: () => null },
    },
  },
  Mutation: {
    addMedication: inventory,
    updateMedication: inventory,
    receiveStock: inventory,
    prescribe: {
      rule: anyOf<Context>(admins, doctorForOwnPatient),
      audit: { entityType: 'Prescription', operation: 'CREATE', entityId: createdId, fields: inputFields },
    },
    cancelPrescription: {
      rule: anyOf<Context>(admins, prescriberOf),
      audit: { entityType: 'Prescription', operation: 'UPDATE', entityId: prescriptionId('id'), fields: () => ['status'] },
    },
    dispense: {
      rule: roles('PHARMACIST', 'SUPER_ADMIN'),
      audit: { entityType: 'Prescription', operation: 'UPDATE', entityId: prescriptionId('prescriptionId'), fields: () => ['fillsDispensed'] },
    },
  },
  Medication: { __object: signedIn, '*': signedIn },
  Prescription: {
    __object: anyOf<Context>(staff, internalService, involved),
    __audit: { entityType: 'Prescription', id: (p) => String((p as PrescriptionDoc)._id) },
    id: allow,
    patient: allow,
    prescriber: allow,
    medication: allow,
    dosage: allow,
    frequency: allow,
    startDate: allow,
    endDate: allow,
    refillsAllowed: allow,
    refillsRemaining: allow,
    fillsDispensed: allow,
    fillsRemaining: allow,
    status: allow,
    cancelledAt: allow,
    cancelReason: allow,
    createdAt: allow,
    updatedAt: allow,
  },
  Patient: { id: allow, prescriptions: authenticated },
  Doctor: { id: allow },
  Dispensation: { '*': allow },
  MedicationEdge: { '*': allow },
  MedicationConnection: { '*': allow },
  PrescriptionEdge: { '*': allow },
  PrescriptionConnection: { '*': allow },
  PageInfo: { '*': allow },
};
