import { gql, idempotentAction, session } from '../api.js';
import { BOOK_APPOINTMENT as BOOK, BOOKING_DOCTORS as DOCTORS, BOOKING_PATIENTS as PATIENTS, FREE_SLOTS as SLOTS } from '../operations.js';
import { $, attempt, dayBounds, debounce, el, fill, fmtDateTime, fmtTime, isoDay, latestOnly, showNotice } from '../ui.js';

const option = (value, label) => el('option', { value }, label);
// Each booking is sent with an Idempotency-Key: retried or submitted again, it books once.
const bookOnce = idempotentAction();
const searchPatients = latestOnly((s) => attempt(() => gql(PATIENTS, { s })));
const freeSlots = latestOnly((d, f, t) => attempt(() => gql(SLOTS, { d, f, t })));

async function loadPatients() {
  const me = session.get().user;
  if (me.role === 'PATIENT') {
    fill($('book-patient'), option(me.patient?.id ?? '', 'Me'));
    $('book-patient-search').hidden = true;
    return;
  }
  const data = await searchPatients($('book-patient-search').value || null);
  if (data) fill($('book-patient'), data.patients.edges.map(({ node: p }) => option(p.id, `${p.name} (born ${p.dateOfBirth})`)));
}

async function loadSlots() {
  const doctorId = $('book-doctor').value;
  const day = $('book-day').value;
  if (!doctorId || !day) return fill($('book-slot'));
  const { from, to } = dayBounds(day);
  const data = await freeSlots(doctorId, from, to);
  if (!data) return; // failed (the error is shown) or overtaken by a newer choice
  const slots = data.availableSlots;
  fill($('book-slot'), slots.length ? slots.map((s) => option(JSON.stringify(s), `${fmtTime(s.start)}–${fmtTime(s.end)}`)) : option('', 'No free slot on this day'));
}

export async function showBook() {
  const doctors = await attempt(() => gql(DOCTORS));
  if (!doctors) return;
  fill($('book-doctor'), doctors.doctors.edges.map(({ node: d }) => option(d.id, `${d.name} — ${d.specialty}`)));
  if (!$('book-day').value) $('book-day').value = isoDay(new Date(Date.now() + 86_400_000));
  $('book-doctor').onchange = loadSlots;
  $('book-day').onchange = loadSlots;
  $('book-patient-search').oninput = debounce(loadPatients);
  $('book-form').onsubmit = async (ev) => {
    ev.preventDefault();
    if (!$('book-slot').value) return;
    const slot = JSON.parse($('book-slot').value);
    const input = { patientId: $('book-patient').value, doctorId: $('book-doctor').value, start: slot.start, end: slot.end, reason: $('book-reason').value };
    const data = await attempt(() => bookOnce(input, (idempotencyKey) => gql(BOOK, { i: input }, { idempotencyKey })));
    if (!data) return;
    const a = data.bookAppointment;
    showNotice(`Booked ${a.patient.name} with ${a.doctor.name} on ${fmtDateTime(a.start)}`);
    $('book-reason').value = '';
    await loadSlots();
  };
  await Promise.all([loadPatients(), loadSlots()]);
}
