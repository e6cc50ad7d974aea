import { allow, anyOf, authenticated, internalService, roles, type AccessPolicy, type Rule } from '../../platform/authz';
import type { Context } from './service';

const admins = roles('SUPER_ADMIN', 'ADMIN');
const signedIn = anyOf<Context>(authenticated, internalService);
const ownDoctor: Rule<Context> = ({ ctx, parent }) => ctx.identity.role === 'DOCTOR' && !!ctx.identity.doctorId && ctx.identity.doctorId === (parent as { id: string }).id;
const ownPatient: Rule<Context> = ({ ctx, parent }) => ctx.identity.role === 'PATIENT' && !!ctx.identity.patientId && ctx.identity.patientId === (parent as { id: string }).id;

/** Reports are for admins; doctors see their own figures; a patient their own visit summary. */
export const access: AccessPolicy<Context> = {
  Query: {
    // Filtered to the doctor's own row for DOCTOR (service.ts).
    appointmentsPerDoctor: anyOf<Context>(admins, roles('DOCTOR')),
    appointmentsOverTime: admins,
    conditionsBySpecialty: admins,
    averageAppointmentsPerPatient: admins,
    // Per report as above (service.ts refuses other reports to doctors).
    analyticsCsv: anyOf<Context>(admins, roles('DOCTOR')),
  },
  Mutation: { refreshAnalytics: admins },
  Doctor: { __object: signedIn, id: allow, appointmentStats: anyOf<Context>(admins, ownDoctor) },
  Patient: {
    __object: signedIn,
    id: allow,
    visitSummary: {
      rule: anyOf<Context>(admins, ownPatient),
      // A denied (or failed) read, audited with the patient's id.
      audit: { entityType: 'Patient', operation: 'READ', entityId: (_a, _r, parent) => String((parent as { id: unknown }).id), fields: () => ['visitSummary'] },
    },
  },
  DoctorAppointmentCount: { '*': allow },
  AppointmentsPerDoctor: { '*': allow },
  PeriodCount: { '*': allow },
  AppointmentsOverTime: { '*': allow },
  ConditionCount: { '*': allow },
  SpecialtyConditions: { '*': allow },
  ConditionsBySpecialty: { '*': allow },
  AverageAppointmentsPerPatient: { '*': allow },
  StatusCount: { '*': allow },
  AppointmentStats: { '*': allow },
  VisitSummary: { '*': allow },
  AnalyticsRun: { '*': allow },
};
