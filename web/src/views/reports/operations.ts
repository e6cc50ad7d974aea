import { graphql } from '../../gql';

/** The four reports of a date range (materialised figures; see subgraphs/analytics). */
export const ReportsDocument = graphql(`
  query Reports($range: DateRange!) {
    appointmentsPerDoctor(range: $range) {
      total
      computedAt
      rows {
        specialty
        count
        doctor {
          id
          name
        }
      }
    }
    conditionsBySpecialty(range: $range, top: 5) {
      computedAt
      specialties {
        specialty
        top {
          condition
          count
        }
      }
    }
    averageAppointmentsPerPatient(range: $range) {
      totalAppointments
      totalPatients
      average
      computedAt
    }
  }
`);

/** Appointments over time, on its own: changing the granularity reloads this report only. */
export const ReportsOverTimeDocument = graphql(`
  query ReportsOverTime($range: DateRange!, $granularity: Granularity!) {
    appointmentsOverTime(range: $range, granularity: $granularity) {
      granularity
      total
      computedAt
      rows {
        period
        count
      }
    }
  }
`);

export const ReportsRefreshDocument = graphql(`
  mutation ReportsRefresh {
    refreshAnalytics {
      computedAt
      changes
    }
  }
`);

export const ReportsCsvDocument = graphql(`
  query ReportsCsv($report: AnalyticsReport!, $range: DateRange!) {
    analyticsCsv(report: $report, range: $range)
  }
`);
