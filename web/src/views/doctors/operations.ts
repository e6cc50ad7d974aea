import { graphql } from '../../gql';

/** The documents of the doctors area (admins). */

export const DoctorsListDocument = graphql(`
  query DoctorsList($specialty: String, $includeInactive: Boolean, $after: String) {
    doctors(specialty: $specialty, includeInactive: $includeInactive, first: 20, after: $after) {
      edges {
        node {
          id
          name
          specialty
          email
          phone
          timeZone
          active
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

export const DoctorSpecialtiesDocument = graphql(`
  query DoctorSpecialties {
    specialties
  }
`);

export const DoctorProfileFragment = graphql(`
  fragment DoctorProfile on Doctor {
    id
    firstName
    lastName
    name
    specialty
    email
    phone
    timeZone
    active
    weeklySchedule {
      weekday
      start
      end
      slotMinutes
    }
  }
`);

export const DoctorDetailDocument = graphql(`
  query DoctorDetail($id: ObjectID!) {
    doctor(id: $id) {
      ...DoctorProfile
    }
  }
`);

export const CreateDoctorDocument = graphql(`
  mutation DoctorsCreate($input: CreateDoctorInput!) {
    createDoctor(input: $input) {
      ...DoctorProfile
    }
  }
`);

export const UpdateDoctorDocument = graphql(`
  mutation DoctorsUpdate($id: ObjectID!, $input: UpdateDoctorInput!) {
    updateDoctor(id: $id, input: $input) {
      ...DoctorProfile
    }
  }
`);

export const SetWeeklyScheduleDocument = graphql(`
  mutation DoctorsSetSchedule($doctorId: ObjectID!, $schedule: [ScheduleWindowInput!]!) {
    setWeeklySchedule(doctorId: $doctorId, schedule: $schedule) {
      id
      weeklySchedule {
        weekday
        start
        end
        slotMinutes
      }
    }
  }
`);

export const DeactivateDoctorDocument = graphql(`
  mutation DoctorsDeactivate($id: ObjectID!) {
    deactivateDoctor(id: $id) {
      id
      active
    }
  }
`);

export const ActivateDoctorDocument = graphql(`
  mutation DoctorsActivate($id: ObjectID!) {
    activateDoctor(id: $id) {
      id
      active
    }
  }
`);
