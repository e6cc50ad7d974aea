// Every GraphQL document the admin app sends, and nothing else: one named operation per constant.
// `npm run compose` lists them in schema/web-operations.json (scripts/webOperations.ts), the
// manifest a router started with TRUSTED_DOCUMENTS accepts. A document written anywhere else in
// web/ would be refused by such a router (and by test/webOperations.test.ts).

const SESSION_FIELDS = 'accessToken refreshToken user { id email role patient { id } doctor { id } }';
const NOTIFICATION_FIELDS = 'id kind channel message status failureReason createdAt';

// Session (api.js)
export const LOGIN = `mutation Login($e: EmailAddress!, $p: String!) { login(email: $e, password: $p) { ${SESSION_FIELDS} } }`;
export const REFRESH_SESSION = `mutation RefreshSession($t: String!) { refreshSession(refreshToken: $t) { ${SESSION_FIELDS} } }`;
export const LOGOUT = `mutation Logout($t: String!) { logout(refreshToken: $t) }`;

// Appointments of a day (views/appointments.js). Pages of 40: a page of 100 with the nested
// patient and doctor is over the router's cost limit.
export const DAY_APPOINTMENTS = `query DayAppointments($f: AppointmentFilter!, $after: String) {
  appointments(filter: $f, first: 40, after: $after) {
    edges { node { id start end reason status cancellationReason patient { id name } doctor { id name specialty } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
export const CANCEL_APPOINTMENT = `mutation CancelAppointment($id: ObjectID!, $r: NonEmptyString!) { cancelAppointment(id: $id, reason: $r) { id status } }`;

// Booking (views/book.js)
export const BOOKING_DOCTORS = `query BookingDoctors { doctors(first: 100) { edges { node { id name specialty } } } }`;
export const BOOKING_PATIENTS = `query BookingPatients($s: String) { patients(search: $s, first: 20) { edges { node { id name dateOfBirth } } } }`;
export const FREE_SLOTS = `query FreeSlots($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`;
export const BOOK_APPOINTMENT = `mutation BookAppointment($i: BookAppointmentInput!) { bookAppointment(input: $i) { id start doctor { name } patient { name } } }`;

// Notifications (views/notifications.js)
export const RECENT_NOTIFICATIONS = `query RecentNotifications { notifications(first: 20) { edges { node { ${NOTIFICATION_FIELDS} } } } }`;
export const NOTIFICATION_ADDED = `subscription NotificationAdded { notificationAdded { ${NOTIFICATION_FIELDS} } }`;

// Patients (views/patients.js)
export const PATIENT_LIST = `query PatientList($s: String) { patients(search: $s, first: 50) { edges { node { id name dateOfBirth } } } }`;
export const PATIENT_DETAIL = `query PatientDetail($id: ObjectID!) {
  patient(id: $id) {
    id name dateOfBirth sex email phone allergies
    medicalHistory { id condition diagnosedOn notes }
    labResults { id test value unit abnormal takenAt }
    appointments(first: 10) { edges { node { id start status reason doctor { name } } } }
  }
}`;

// Reports (views/reports.js)
export const REPORTS = `query Reports($r: DateRange!) {
  appointmentsPerDoctor(range: $r) { total computedAt rows { count specialty doctor { id name } } }
  averageAppointmentsPerPatient(range: $r) { totalAppointments totalPatients average }
}`;
export const REPORT_CSV = `query ReportCsv($r: DateRange!) { analyticsCsv(report: APPOINTMENTS_PER_DOCTOR, range: $r) }`;
export const REFRESH_ANALYTICS = `mutation RefreshAnalytics { refreshAnalytics { computedAt changes } }`;
