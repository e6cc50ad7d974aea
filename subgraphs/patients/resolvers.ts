import type { Resolvers } from './__generated__/resolvers-types';
import { notFound } from '../../platform/errors';
import type { PatientDoc } from './model';

function isAbnormal(value: number, range?: { low?: number | null; high?: number | null } | null): boolean {
  if (!range) return false;
  return (range.low != null && value < range.low) || (range.high != null && value > range.high);
}

/** Thin: arguments → PatientService → result. */
export const resolvers: Resolvers = {
  Query: {
    patient: (_p, { id }, ctx) => ctx.patients.get(id),
    patients: (_p, args, ctx) => ctx.patients.list(args, ctx.identity, ctx.loaders),
    treats: async (_p, { doctorId, patientIds }, ctx) => {
      const treated = await Promise.all(patientIds.map((patientId) => ctx.loaders.treats.load({ doctorId, patientId })));
      return patientIds.filter((_id, i) => treated[i]);
    },
  },
  Mutation: {
    registerPatient: (_p, { input }, ctx) => ctx.patients.register(input),
    updatePatient: (_p, { id, input }, ctx) => ctx.patients.update(id, input),
    addMedicalHistoryEntry: (_p, { patientId, input }, ctx) => ctx.patients.addHistory(patientId, input),
    addLabResult: (_p, { patientId, input }, ctx) => ctx.patients.addLabResult(patientId, input),
    deletePatient: (_p, { id }, ctx) => ctx.patients.erase(id),
    // Appointments sends several at once as aliases of one request (a booking each): one read, one insert.
    recordCareRelation: async (_p, { patientId, doctorId }, ctx) => {
      if (!(await ctx.loaders.patient.load(patientId))) throw notFound('Patient', patientId);
      return ctx.loaders.careRelations.load({ patientId, doctorId });
    },
  },
  Patient: {
    __resolveReference: (ref, ctx) => {
      // A doctor may see the record if they treat the patient (access.ts): read that beside the record, not after it.
      const { role, doctorId } = ctx.identity;
      if (role === 'DOCTOR' && doctorId) ctx.loaders.treats.load({ doctorId, patientId: ref.id }).catch(() => undefined);
      return ctx.loaders.patient.load(ref.id);
    },
    id: (p: PatientDoc) => String(p._id),
    name: (p) => `${p.firstName} ${p.lastName}`,
  },
  MedicalHistoryEntry: {
    id: (e) => String(e._id),
  },
  LabResult: {
    id: (l) => String(l._id),
    abnormal: (l) => isAbnormal(l.value, l.referenceRange),
  },
};
