import { idempotencyScope } from '../../platform/idempotency';
import type { Resolvers } from './__generated__/resolvers-types';
import { appointmentsOfDoctor } from './doctorDays';

/** Thin: arguments → AppointmentService → result. The access policy (access.ts) runs before each. */
export const resolvers: Resolvers = {
  Query: {
    appointment: (_p, { id }, ctx) => ctx.appointments.get(id),
    appointments: (_p, { filter, ...page }, ctx) => ctx.appointments.list(filter, page, ctx.identity),
    availableSlots: (_p, { doctorId, from, to }, ctx) => ctx.appointments.availableSlots(doctorId, from, to, ctx.requestId),
  },
  Mutation: {
    bookAppointment: (_p, { input }, ctx, info) => ctx.appointments.book(input, ctx.requestId, idempotencyScope(ctx, info)),
    rescheduleAppointment: (_p, { id, start, end }, ctx, info) => ctx.appointments.reschedule(id, start, end, ctx.requestId, idempotencyScope(ctx, info)),
    cancelAppointment: (_p, { id, reason }, ctx, info) => ctx.appointments.cancel(id, reason, idempotencyScope(ctx, info)),
    completeAppointment: (_p, { id, conditions, notes }, ctx, info) => ctx.appointments.complete(id, conditions, notes, idempotencyScope(ctx, info)),
    markNoShow: (_p, { id }, ctx, info) => ctx.appointments.markNoShow(id, idempotencyScope(ctx, info)),
  },
  Appointment: {
    __resolveReference: (ref, ctx) => ctx.loaders.appointment.load(ref.id),
    id: (a) => String(a._id),
    patient: (a) => ({ id: a.patientId }),
    doctor: (a) => ({ id: a.doctorId }),
  },
  Patient: {
    __resolveReference: (ref) => ({ id: ref.id }),
    appointments: (p, { status, ...page }, ctx) => ctx.appointments.forPatient(p.id, status, page),
  },
  Doctor: {
    __resolveReference: (ref) => ({ id: ref.id }),
    // Batched: every doctor of the entity fetch in one query (doctorDays.ts).
    appointments: (d, { from, to, status }, ctx) => appointmentsOfDoctor(ctx.doctorDays, { doctorId: d.id, from, to, status }),
  },
};
