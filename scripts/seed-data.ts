import type { DoctorDoc } from '../subgraphs/doctors/model';
import type { PatientDoc } from '../subgraphs/patients/model';

/**
 * Demo data for `npm start`. Fixed ids make seeding idempotent and let later seeds (appointments,
 * prescriptions, accounts) point at the same people.
 */
type SeedDoctor = Omit<DoctorDoc, 'createdAt' | 'updatedAt' | 'sortKey' | '_id'> & { _id: string };
type SeedPatient = Omit<PatientDoc, 'createdAt' | 'updatedAt' | 'sortKey' | '_id' | 'medicalHistory' | 'labResults'> & {
  _id: string;
  medicalHistory: { condition: string; diagnosedOn?: string; notes?: string }[];
};

const weekdays = (start: string, end: string, slotMinutes: number) =>
  (['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] as const).map((weekday) => ({ weekday, start, end, slotMinutes }));

export const DEMO_DOCTORS: SeedDoctor[] = [
  {
    _id: '65d000000000000000000001',
    firstName: 'Amara',
    lastName: 'Okafor',
    specialty: 'Cardiology',
    email: 'amara.okafor@clinic.example',
    phone: '+493012345001',
    timeZone: 'Europe/Berlin',
    weeklySchedule: weekdays('09:00', '13:00', 30),
    active: true,
  },
  {
    _id: '65d000000000000000000002',
    firstName: 'Lukas',
    lastName: 'Brenner',
    specialty: 'Dermatology',
    email: 'lukas.brenner@clinic.example',
    phone: '+493012345002',
    timeZone: 'Europe/Berlin',
    weeklySchedule: weekdays('13:00', '18:00', 20),
    active: true,
  },
  {
    _id: '65d000000000000000000003',
    firstName: 'Sofia',
    lastName: 'Marquez',
    specialty: 'Pediatrics',
    email: 'sofia.marquez@clinic.example',
    phone: '+12125550103',
    timeZone: 'America/New_York',
    weeklySchedule: weekdays('08:00', '12:00', 15),
    active: true,
  },
  {
    _id: '65d000000000000000000004',
    firstName: 'Jonas',
    lastName: 'Lindqvist',
    specialty: 'General Practice',
    email: 'jonas.lindqvist@clinic.example',
    phone: '+46812345004',
    timeZone: 'Europe/Stockholm',
    weeklySchedule: [...weekdays('08:00', '12:00', 15), { weekday: 'SATURDAY', start: '09:00', end: '11:00', slotMinutes: 15 }],
    active: true,
  },
];

export const DEMO_PATIENTS: SeedPatient[] = [
  {
    _id: '65e000000000000000000001',
    firstName: 'Mia',
    lastName: 'Schneider',
    dateOfBirth: '1986-04-12',
    sex: 'FEMALE',
    email: 'mia.schneider@mail.example',
    phone: '+4915112340001',
    address: { line1: 'Lindenstraße 4', city: 'Berlin', postalCode: '10969', country: 'DE' },
    emergencyContact: { name: 'Jan Schneider', relationship: 'Spouse', phone: '+4915112340011' },
    timeZone: 'Europe/Berlin',
    allergies: ['Penicillin'],
    medicalHistory: [{ condition: 'Hypertension', diagnosedOn: '2019-03-02' }],
  },
  {
    _id: '65e000000000000000000002',
    firstName: 'Noah',
    lastName: 'Fischer',
    dateOfBirth: '2015-09-30',
    sex: 'MALE',
    email: 'fischer.family@mail.example',
    phone: '+4915112340002',
    timeZone: 'Europe/Berlin',
    allergies: [],
    medicalHistory: [{ condition: 'Asthma', diagnosedOn: '2020-11-15', notes: 'Mild, seasonal' }],
  },
  {
    _id: '65e000000000000000000003',
    firstName: 'Grace',
    lastName: 'Thompson',
    dateOfBirth: '1952-01-08',
    sex: 'FEMALE',
    phone: '+12125550199',
    timeZone: 'America/New_York',
    allergies: ['Latex', 'Sulfonamides'],
    medicalHistory: [
      { condition: 'Type 2 diabetes', diagnosedOn: '2008-06-20' },
      { condition: 'Atrial fibrillation', diagnosedOn: '2021-02-11' },
    ],
  },
  {
    _id: '65e000000000000000000004',
    firstName: 'Erik',
    lastName: 'Johansson',
    dateOfBirth: '1978-07-21',
    sex: 'MALE',
    email: 'erik.johansson@mail.example',
    timeZone: 'Europe/Stockholm',
    allergies: [],
    medicalHistory: [],
  },
  {
    _id: '65e000000000000000000005',
    firstName: 'Leila',
    lastName: 'Haddad',
    dateOfBirth: '1994-12-03',
    sex: 'FEMALE',
    email: 'leila.haddad@mail.example',
    phone: '+4917612340005',
    allergies: ['Ibuprofen'],
    medicalHistory: [{ condition: 'Eczema', diagnosedOn: '2012-05-01' }],
  },
];

/**
 * Demo sign-ins, one per role, all with the password DEMO_PASSWORD (created only when it is set;
 * `npm start` makes a random one). The super admin comes from SUPERADMIN_EMAIL/PASSWORD.
 */
export const DEMO_USERS = [
  { _id: '65f000000000000000000002', email: 'admin@healthsync.local', role: 'ADMIN' },
  { _id: '65f000000000000000000003', email: 'doctor@healthsync.local', role: 'DOCTOR', doctorId: DEMO_DOCTORS[0]._id },
  { _id: '65f000000000000000000004', email: 'nurse@healthsync.local', role: 'NURSE' },
  { _id: '65f000000000000000000005', email: 'pharmacist@healthsync.local', role: 'PHARMACIST' },
  { _id: '65f000000000000000000006', email: 'patient@healthsync.local', role: 'PATIENT', patientId: DEMO_PATIENTS[0]._id },
] as const;

/** Which demo doctor treats which demo patient (what lets a doctor see a record). */
export const DEMO_CARE_RELATIONS = [
  { doctorId: DEMO_DOCTORS[0]._id, patientId: DEMO_PATIENTS[0]._id },
  { doctorId: DEMO_DOCTORS[0]._id, patientId: DEMO_PATIENTS[2]._id },
  { doctorId: DEMO_DOCTORS[2]._id, patientId: DEMO_PATIENTS[1]._id },
];
