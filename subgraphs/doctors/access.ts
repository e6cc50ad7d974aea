import { allow, anyOf, authenticated, internalService, roles, type AccessPolicy, type Rule } from '../../platform/authz';
import type { Context } from './service';

const admins = roles('SUPER_ADMIN', 'ADMIN');
const signedIn = anyOf<Context>(authenticated, internalService);
/** The caller is the doctor whose profile this is. */
const ownProfile: Rule<Context> = ({ ctx, args }) => ctx.identity.role === 'DOCTOR' && !!ctx.identity.doctorId && ctx.identity.doctorId === String(args.doctorId);

/** Doctors' profiles are not PHI: any signed-in user may read them; admins manage them. */
export const access: AccessPolicy<Context> = {
  Query: {
    doctor: authenticated,
    doctors: authenticated,
    specialties: authenticated,
  },
  Mutation: {
    createDoctor: admins,
    updateDoctor: admins,
    setWeeklySchedule: anyOf<Context>(admins, ownProfile),
    deactivateDoctor: admins,
    activateDoctor: admins,
  },
  Doctor: { __object: signedIn, '*': signedIn },
  ScheduleWindow: { '*': allow },
  DoctorEdge: { '*': allow },
  DoctorConnection: { '*': allow },
  PageInfo: { '*': allow },
};
