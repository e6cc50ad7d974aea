import { graphql } from '../../gql';

/** The documents of the patients area (staff views and the patient's own record). */

export const PatientsSearchDocument = graphql(`
  query PatientsSearch($search: String, $after: String) {
    patients(search: $search, first: 20, after: $after) {
      edges {
        node {
          id
          name
          dateOfBirth
          sex
          email
          phone
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

export const PatientDemographicsFragment = graphql(`
  fragment PatientDemographics on Patient {
    id
    firstName
    lastName
    name
    dateOfBirth
    sex
    email
    phone
    timeZone
    address {
      line1
      line2
      city
      postalCode
      country
    }
    emergencyContact {
      name
      relationship
      phone
    }
    allergies
    updatedAt
  }
`);

export const PatientClinicalFragment = graphql(`
  fragment PatientClinical on Patient {
    id
    medicalHistory {
      id
      condition
      diagnosedOn
      notes
      recordedAt
    }
    labResults {
      id
      test
      value
      unit
      referenceRange {
        low
        high
      }
      abnormal
      takenAt
    }
  }
`);

export const PatientRecordDocument = graphql(`
  query PatientRecord($id: ObjectID!) {
    patient(id: $id) {
      # Fragments spread in alphabetical order: the trusted-documents manifest sorts a document's
      # fragments by name, and the app must send the same bytes.
      ...PatientClinical
      ...PatientDemographics
    }
  }
`);

/** Only admins (and the patient themselves) may read a visit summary: asked on its own. */
export const PatientVisitSummaryDocument = graphql(`
  query PatientVisitSummary($id: ObjectID!) {
    patient(id: $id) {
      id
      visitSummary {
        totalVisits
        byStatus {
          status
          count
        }
        firstVisit
        lastVisit
        conditions {
          condition
          count
        }
      }
    }
  }
`);

export const RegisterPatientDocument = graphql(`
  mutation PatientsRegister($input: RegisterPatientInput!) {
    registerPatient(input: $input) {
      ...PatientDemographics
    }
  }
`);

export const UpdatePatientDocument = graphql(`
  mutation PatientsUpdate($id: ObjectID!, $input: UpdatePatientInput!) {
    updatePatient(id: $id, input: $input) {
      ...PatientDemographics
    }
  }
`);

export const DeletePatientDocument = graphql(`
  mutation PatientsDelete($id: ObjectID!) {
    deletePatient(id: $id)
  }
`);

export const AddMedicalHistoryDocument = graphql(`
  mutation PatientsAddHistory($patientId: ObjectID!, $input: MedicalHistoryInput!) {
    addMedicalHistoryEntry(patientId: $patientId, input: $input) {
      ...PatientClinical
    }
  }
`);

export const AddLabResultDocument = graphql(`
  mutation PatientsAddLabResult($patientId: ObjectID!, $input: LabResultInput!) {
    addLabResult(patientId: $patientId, input: $input) {
      ...PatientClinical
    }
  }
`);
