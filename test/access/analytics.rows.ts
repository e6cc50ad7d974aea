import { ALL, NONE, OWN, type AccessRows } from './env';

/** Reports hold counts, no person; a patient's visit summary is theirs and the admins'. */
export const analyticsRows: AccessRows = {
  notPatientData: [
    'analytics.appointmentsPerDoctor',
    'analytics.appointmentsOverTime',
    'analytics.conditionsBySpecialty',
    'analytics.averageAppointmentsPerPatient',
    'analytics.analyticsCsv',
    'analytics.refreshAnalytics',
  ],
  ops: (env) => ({
    'patient(id) → visitSummary (nested)': {
      field: 'patients.patient',
      run: (tk, id) => env.graph.as(tk, `{ patient(id: "${id}") { visitSummary { totalVisits } } }`),
      expect: { SUPER_ADMIN: ALL, ADMIN: ALL, NURSE: NONE, PHARMACIST: NONE, DOCTOR: NONE, PATIENT: OWN },
    },
  }),
};
