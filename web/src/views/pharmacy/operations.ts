import { graphql } from '../../gql';

/** The pharmacy area's documents: the medication catalogue and stock, prescriptions, dispensing. */

export const MedicationFieldsFragment = graphql(`
  fragment PharmacyMedicationFields on Medication {
    id
    name
    form
    strength
    code
    unit
    stockOnHand
    reorderLevel
    lowStock
    lot
    expiresOn
  }
`);

export const PharmacyMedicationsDocument = graphql(`
  query PharmacyMedications($search: String, $lowStock: Boolean, $after: String) {
    medications(search: $search, lowStock: $lowStock, first: 20, after: $after) {
      edges {
        node {
          ...PharmacyMedicationFields
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

/** The alerts on top of the catalogue: what is below its reorder level. */
export const PharmacyLowStockDocument = graphql(`
  query PharmacyLowStock($after: String) {
    medications(lowStock: true, first: 10, after: $after) {
      edges {
        node {
          ...PharmacyMedicationFields
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

export const PharmacyMedicationDocument = graphql(`
  query PharmacyMedication($id: ObjectID!) {
    medication(id: $id) {
      ...PharmacyMedicationFields
      updatedAt
    }
  }
`);

export const PharmacyAddMedicationDocument = graphql(`
  mutation PharmacyAddMedication($input: AddMedicationInput!) {
    addMedication(input: $input) {
      ...PharmacyMedicationFields
    }
  }
`);

export const PharmacyUpdateMedicationDocument = graphql(`
  mutation PharmacyUpdateMedication($id: ObjectID!, $input: UpdateMedicationInput!) {
    updateMedication(id: $id, input: $input) {
      ...PharmacyMedicationFields
      updatedAt
    }
  }
`);

export const PharmacyReceiveStockDocument = graphql(`
  mutation PharmacyReceiveStock($medicationId: ObjectID!, $input: ReceiveStockInput!) {
    receiveStock(medicationId: $medicationId, input: $input) {
      ...PharmacyMedicationFields
      updatedAt
    }
  }
`);

export const PrescriptionFieldsFragment = graphql(`
  fragment PharmacyPrescriptionFields on Prescription {
    id
    dosage
    frequency
    startDate
    endDate
    refillsAllowed
    refillsRemaining
    fillsDispensed
    fillsRemaining
    status
    cancelledAt
    cancelReason
    createdAt
    patient {
      id
      name
    }
    prescriber {
      id
      name
    }
    medication {
      id
      name
      form
      strength
      unit
      stockOnHand
      reorderLevel
      lowStock
    }
  }
`);

export const PharmacyPrescriptionsDocument = graphql(`
  query PharmacyPrescriptions($status: PrescriptionStatus, $doctorId: ObjectID, $after: String) {
    prescriptions(status: $status, doctorId: $doctorId, first: 20, after: $after) {
      edges {
        node {
          ...PharmacyPrescriptionFields
        }
      }
      pageInfo {
        ...ShowMoreFields
      }
    }
  }
`);

export const PharmacyDispenseDocument = graphql(`
  mutation PharmacyDispense($prescriptionId: ObjectID!, $quantity: PositiveInt!) {
    dispense(prescriptionId: $prescriptionId, quantity: $quantity) {
      id
      quantity
      dispensedAt
      prescription {
        id
        fillsDispensed
        fillsRemaining
        refillsRemaining
        status
      }
      medication {
        id
        stockOnHand
        lowStock
      }
    }
  }
`);

export const PharmacyPrescribeDocument = graphql(`
  mutation PharmacyPrescribe($input: PrescribeInput!) {
    prescribe(input: $input) {
      ...PharmacyPrescriptionFields
    }
  }
`);

export const PharmacyCancelPrescriptionDocument = graphql(`
  mutation PharmacyCancelPrescription($id: ObjectID!, $reason: String) {
    cancelPrescription(id: $id, reason: $reason) {
      id
      status
      cancelledAt
      cancelReason
      fillsRemaining
      refillsRemaining
    }
  }
`);

/** The patients a doctor treats (the graph lists only those for a doctor), to prescribe for. */
export const PharmacyPatientChoicesDocument = graphql(`
  query PharmacyPatientChoices($search: String) {
    patients(search: $search, first: 20) {
      edges {
        node {
          id
          name
          dateOfBirth
          allergies
        }
      }
    }
  }
`);

/** Medications to prescribe, with their stock. */
export const PharmacyMedicationChoicesDocument = graphql(`
  query PharmacyMedicationChoices($search: String) {
    medications(search: $search, first: 20) {
      edges {
        node {
          id
          name
          form
          strength
          unit
          stockOnHand
          lowStock
        }
      }
    }
  }
`);
