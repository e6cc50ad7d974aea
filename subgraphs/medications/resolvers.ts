import { notFound } from '../../platform/errors';
import { idempotencyScope } from '../../platform/idempotency';
import type { Resolvers } from './__generated__/resolvers-types';
import { prescriptionStatus } from './prescriptions';

/** Thin: arguments → catalogue / prescriptions / dispensing → result. */
export const resolvers: Resolvers = {
  Query: {
    medication: (_p, { id }, ctx) => ctx.catalogue.get(id),
    medications: (_p, args, ctx) => ctx.catalogue.list(args),
    prescription: (_p, { id }, ctx) => ctx.prescriptions.get(id),
    prescriptions: (_p, args, ctx) => ctx.prescriptions.list(args, ctx.identity, ctx.loaders),
  },
  Mutation: {
    addMedication: (_p, { input }, ctx) => ctx.catalogue.add(input),
    updateMedication: (_p, { id, input }, ctx) => ctx.catalogue.update(id, input),
    receiveStock: (_p, { medicationId, input }, ctx) => ctx.catalogue.receive(medicationId, input),
    prescribe: (_p, { input }, ctx) => ctx.prescriptions.prescribe(input, ctx.identity, ctx.requestId),
    cancelPrescription: (_p, { id, reason }, ctx) => ctx.prescriptions.cancel(id, reason),
    dispense: (_p, { prescriptionId, quantity }, ctx, info) =>
      ctx.dispensing.dispense(prescriptionId, quantity, ctx.identity, idempotencyScope(ctx, info)),
  },
  Medication: {
    __resolveReference: (ref, ctx) => ctx.loaders.medication.load(ref.id),
    id: (m) => String(m._id),
    lowStock: (m) => m.stockOnHand < m.reorderLevel,
  },
  Patient: {
    prescriptions: async (p, { status }, ctx) => {
      const all = await ctx.loaders.prescriptionsOfPatient.load(p.id);
      return status ? all.filter((x) => prescriptionStatus(x) === status) : all;
    },
  },
  Prescription: {
    __resolveReference: (ref, ctx) => ctx.loaders.prescription.load(ref.id),
    id: (p) => String(p._id),
    patient: (p) => ({ id: p.patientId }),
    prescriber: (p) => ({ id: p.prescriberId }),
    medication: async (p, _a, ctx) => (await ctx.loaders.medication.load(p.medicationId)) ?? Promise.reject(notFound('Medication', p.medicationId)),
    refillsRemaining: (p) => Math.max(0, Math.min(p.refillsAllowed, p.fillsRemaining)),
    status: (p) => prescriptionStatus(p),
  },
  Dispensation: {
    id: (r) => String(r.dispensation._id),
    quantity: (r) => r.dispensation.quantity,
    dispensedAt: (r) => r.dispensation.updatedAt,
    prescription: (r) => r.prescription,
    medication: (r) => r.medication,
  },
};
