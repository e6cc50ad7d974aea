import { graphql } from '../../gql';

export const BookAppointmentDocument = graphql(`
  mutation BookAppointment($input: BookAppointmentInput!) {
    bookAppointment(input: $input) {
      id
      start
      end
      status
      reason
      timeZone
      doctor {
        id
        name
      }
      patient {
        id
        name
      }
    }
  }
`);
