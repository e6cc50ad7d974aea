import type { Resolvers } from './__generated__/resolvers-types';

/** Thin: arguments → DoctorService → result. */
export const resolvers: Resolvers = {
  Query: {
    doctor: (_p, { id }, ctx) => ctx.doctors.get(id),
    doctors: (_p, args, ctx) => ctx.doctors.list(args),
    specialties: (_p, _a, ctx) => ctx.doctors.specialties(),
  },
  Mutation: {
    createDoctor: (_p, { input }, ctx) => ctx.doctors.create(input),
    updateDoctor: (_p, { id, input }, ctx) => ctx.doctors.update(id, input),
    setWeeklySchedule: (_p, { doctorId, schedule }, ctx) => ctx.doctors.setSchedule(doctorId, schedule),
    deactivateDoctor: (_p, { id }, ctx) => ctx.doctors.setActive(id, false),
    activateDoctor: (_p, { id }, ctx) => ctx.doctors.setActive(id, true),
  },
  Doctor: {
    __resolveReference: (ref, ctx) => ctx.loaders.doctor.load(ref.id),
    id: (d) => String(d._id),
    name: (d) => `Dr. ${d.firstName} ${d.lastName}`,
  },
};
