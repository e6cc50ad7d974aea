import { graphql } from '../../gql';

/** What every view of an appointment shows (calendar, details, My visits). */
export const ApptFieldsFragment = graphql(`
  fragment ApptFields on Appointment {
    id
    start
    end
    localDate
    timeZone
    reason
    status
    cancellationReason
    conditions
    notes
    specialty
    doctor {
      id
      name
      timeZone
    }
    patient {
      id
      name
    }
  }
`);

export const BookAppointmentDocument = graphql(`
  mutation BookAppointment($input: BookAppointmentInput!) {
    bookAppointment(input: $input) {
      id
      ...ApptFields
    }
  }
`);

export const ApptRescheduleDocument = graphql(`
  mutation ApptReschedule($id: ObjectID!, $start: DateTime!, $end: DateTime!) {
    rescheduleAppointment(id: $id, start: $start, end: $end) {
      id
      ...ApptFields
    }
  }
`);

export const ApptCancelDocument = graphql(`
  mutation ApptCancel($id: ObjectID!, $reason: NonEmptyString!) {
    cancelAppointment(id: $id, reason: $reason) {
      id
      ...ApptFields
    }
  }
`);

export const ApptCompleteDocument = graphql(`
  mutation ApptComplete($id: ObjectID!, $conditions: [NonEmptyString!]!, $notes: String) {
    completeAppointment(id: $id, conditions: $conditions, notes: $notes) {
      id
      ...ApptFields
    }
  }
`);

export const ApptNoShowDocument = graphql(`
  mutation ApptNoShow($id: ObjectID!) {
    markNoShow(id: $id) {
      id
      ...ApptFields
    }
  }
`);

/** One doctor's appointments in a range (the calendar for one doctor). */
export const ApptDoctorCalendarDocument = graphql(`
  query ApptDoctorCalendar($doctorId: ObjectID!, $from: DateTime!, $to: DateTime!) {
    doctor(id: $doctorId) {
      id
      name
      timeZone
      appointments(from: $from, to: $to) {
        ...ApptFields
      }
    }
  }
`);

/** Every doctor's appointments in a range (the clinic's calendar). */
export const ApptClinicCalendarDocument = graphql(`
  query ApptClinicCalendar($from: DateTime!, $to: DateTime!, $after: String) {
    doctors(first: 50, after: $after) {
      edges {
        node {
          id
          name
          timeZone
          appointments(from: $from, to: $to) {
            ...ApptFields
          }
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

export const ApptSpecialtiesDocument = graphql(`
  query ApptSpecialties {
    specialties
  }
`);

export const ApptSlotsDocument = graphql(`
  query ApptSlots($doctorId: ObjectID!, $from: DateTime!, $to: DateTime!) {
    availableSlots(doctorId: $doctorId, from: $from, to: $to) {
      start
      end
    }
  }
`);

/** One appointment (the details panel, and a follow-up's source). */
export const ApptOneDocument = graphql(`
  query ApptOne($id: ObjectID!) {
    appointment(id: $id) {
      ...ApptFields
    }
  }
`);

/** A patient's own visits (the graph limits a patient to their own). */
export const ApptMyVisitsDocument = graphql(`
  query ApptMyVisits($filter: AppointmentFilter, $after: String) {
    appointments(filter: $filter, first: 20, after: $after) {
      edges {
        node {
          ...ApptFields
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

/** Live changes of one doctor's appointments (served by the router over graphql-ws). */
export const ApptChangedDocument = graphql(`
  subscription ApptChanged($doctorId: ObjectID!) {
    appointmentChanged(doctorId: $doctorId) {
      ...ApptFields
    }
  }
`);
