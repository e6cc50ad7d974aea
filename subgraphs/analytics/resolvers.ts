import type { Resolvers } from './__generated__/resolvers-types';

/** Thin: arguments → AnalyticsService / Reports → result. */
export const resolvers: Resolvers = {
  Query: {
    appointmentsPerDoctor: async (_p, { range, status }, ctx) => {
      const r = await ctx.analytics.perDoctor(range, status, ctx.identity);
      return { ...r, rows: r.rows.map((x) => ({ doctor: { id: x.doctorId }, specialty: x.specialty, count: x.count })) };
    },
    appointmentsOverTime: (_p, { range, granularity, status }, ctx) => ctx.analytics.reports.overTime(range, granularity ?? 'DAY', status),
    conditionsBySpecialty: (_p, { range, top }, ctx) => ctx.analytics.reports.conditions(range, top ?? 5),
    averageAppointmentsPerPatient: (_p, { range }, ctx) => ctx.analytics.reports.averagePerPatient(range),
    analyticsCsv: (_p, { report, range }, ctx) => ctx.analytics.csv(report, range, ctx.identity, ctx.requestId),
  },
  Mutation: {
    refreshAnalytics: (_p, { fromAppointments }, ctx) => ctx.analytics.refresh(fromAppointments ?? false),
  },
  Doctor: {
    __resolveReference: (ref) => ({ id: ref.id }),
    appointmentStats: (d, { range }, ctx) => ctx.analytics.reports.doctorStats(d.id, range),
  },
  Patient: {
    __resolveReference: (ref) => ({ id: ref.id }),
    visitSummary: (p, _a, ctx) => ctx.analytics.reports.visitSummary(p.id),
  },
};
