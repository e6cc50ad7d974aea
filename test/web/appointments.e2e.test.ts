import type { Page } from 'playwright-core';
import { setAppointmentFields } from '../appointmentFixtures';
import { clinicDate, go, openApp, openAs, reviewProblems, startWebStack, stopWebStack, WEEK, ZONE, type OpenPage, type ViewportName, type WebStack } from './harness';

/**
 * The appointments area in a real browser: the staff calendar (day and week, per doctor or for the
 * clinic), booking from free slots, reschedule, cancel with a reason, complete, no-show, a doctor's
 * own week and follow-up, a patient's "My visits", and a refused booking told in clinic time.
 */
let web: WebStack;
beforeAll(async () => {
  web = await startWebStack();
}, 120_000);
afterAll(() => stopWebStack(web));

const VIEWPORTS: ViewportName[] = ['desktop', 'phone'];

/** A unique word of letters (names must not collide between tests and viewports). */
function tag(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from({ length: 6 }, () => letters[Math.floor(Math.random() * letters.length)]).join('');
}
const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

interface Slot {
  start: string;
  end: string;
}

async function newDoctor(lastName: string, specialty = 'Cardiology'): Promise<{ id: string; name: string; specialty: string }> {
  const { createDoctor } = await web.fixture<{ createDoctor: { id: string; name: string; specialty: string } }>(
    `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id name specialty } }`,
    { i: { firstName: 'Ada', lastName, specialty, timeZone: ZONE, weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '08:00', end: '18:00', slotMinutes: 30 })) } },
  );
  return createDoctor;
}

async function newPatient(lastName: string): Promise<{ id: string; name: string }> {
  const { registerPatient } = await web.fixture<{ registerPatient: { id: string; name: string } }>(
    `mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id name } }`,
    { i: { firstName: 'Pat', lastName, dateOfBirth: '1980-01-02', sex: 'OTHER' } },
  );
  return registerPatient;
}

/** The doctor's free slot starting at hh:mm (clinic time) on a clinic day. */
async function slotAt(doctorId: string, day: string, time: string): Promise<Slot> {
  const { availableSlots } = await web.fixture<{ availableSlots: Slot[] }>(
    `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
    { d: doctorId, f: `${day}T00:00:00Z`, t: `${day}T23:59:59Z` },
  );
  const slot = availableSlots.find((s) => clinicTime(s.start) === time);
  if (!slot) throw new Error(`no free slot at ${time} on ${day}`);
  return slot;
}

async function book(patientId: string, doctorId: string, slot: Slot, reason = 'Check-up'): Promise<string> {
  const { bookAppointment } = await web.fixture<{ bookAppointment: { id: string } }>(`mutation B($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }`, {
    input: { patientId, doctorId, start: slot.start, end: slot.end, reason },
  });
  return bookAppointment.id;
}

async function appointment(id: string): Promise<{ status: string; start: string; cancellationReason: string | null; conditions: string[]; notes: string | null }> {
  const { appointment: a } = await web.fixture<{ appointment: { status: string; start: string; cancellationReason: string | null; conditions: string[]; notes: string | null } }>(
    `query A($id: ObjectID!) { appointment(id: $id) { status start cancellationReason conditions notes } }`,
    { id },
  );
  return a;
}

const clinicDay = (iso: string | Date) => new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date(iso));
const clinicTime = (iso: string | Date) => new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));

/** Days ahead used for visits later moved into the past (each keeps its booked slot taken). */
let startedDay = 10;

/** Books a future slot, then moves the visit to earlier today (it has started: complete / no-show). */
async function startedVisit(patientId: string, doctorId: string, minutesAgo: number): Promise<string> {
  const id = await book(patientId, doctorId, await slotAt(doctorId, clinicDate(startedDay++), '08:00'), 'Started visit');
  const now = Date.now();
  let start = new Date(now - minutesAgo * 60_000);
  if (clinicDay(start) !== clinicDay(new Date(now))) start = new Date(now - 10_000);
  await setAppointmentFields(web.graph, id, { start, end: new Date(start.getTime() + 30 * 60_000), localDate: clinicDay(start) });
  return id;
}

async function expectClean(open: OpenPage): Promise<void> {
  expect(await reviewProblems(open)).toEqual([]);
}

/** Picks a free slot by its clinic-time label in a slot picker under `scope`. */
async function pickSlot(page: Page, label: string, scope = page.locator('body')): Promise<void> {
  const select = scope.getByLabel('Free slot');
  await select.locator('option', { hasText: label }).waitFor({ state: 'attached' });
  await select.selectOption({ label });
}

/** The calendar of one doctor on one day, through the toolbar. */
async function showDoctorDay(page: Page, doctorId: string, day: string): Promise<void> {
  await go(page, 'Appointments');
  await page.getByRole('heading', { name: 'Appointments', level: 1 }).waitFor();
  await page.getByLabel('Doctor', { exact: true }).selectOption(doctorId);
  await page.getByRole('button', { name: 'Day', exact: true }).click();
  await page.getByLabel('Date', { exact: true }).fill(day);
}

describe('appointments (staff)', () => {
  it.each(VIEWPORTS)('books a free slot and shows it on the day and in the week (%s)', async (viewport) => {
    const t = cap(tag());
    const specialty = `Rheumatology ${t}`;
    const doctor = await newDoctor(`Book${t}`, specialty);
    const patient = await newPatient(`Zed${t}`);
    const day = clinicDate(2);
    const open = await openAs(web, 'ADMIN', viewport);
    const { page } = open;
    await go(page, 'Appointments');
    await page.getByRole('heading', { name: 'Appointments', level: 1 }).waitFor();
    await page.locator('#day-list, .empty-state').first().waitFor();
    await expectClean(open);

    await page.getByRole('link', { name: 'Book appointment' }).click();
    await page.getByRole('heading', { name: 'Book an appointment' }).waitFor();
    await expectClean(open);
    await page.getByLabel('Find the patient').fill(`Zed${t}`);
    await page.getByRole('button', { name: `Choose ${patient.name}` }).click();
    await page.locator('#booking-patient').getByText(patient.name).waitFor();
    await page.getByLabel('Specialty (optional)').selectOption(specialty);
    await page.getByLabel('Doctor', { exact: true }).selectOption(doctor.id);
    await page.getByLabel('Day', { exact: true }).fill(day);
    await pickSlot(page, '10:00–10:30');
    await page.getByLabel('Reason for the visit').fill('Joint pain');
    await expectClean(open);
    await page.locator('#book-form button[type=submit]').click();
    const done = page.locator('#booking-done [role=status]');
    await done.waitFor();
    const text = (await done.textContent()) ?? '';
    expect(text).toContain(`${patient.name} is booked with ${doctor.name}`);
    expect(text).toContain('10:00–10:30');
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    await expectClean(open);

    // The day of the booking, for that doctor.
    await page.getByRole('link', { name: 'Show it in the calendar' }).click();
    const row = page.locator('#day-list tr', { hasText: patient.name });
    await row.waitFor();
    expect(await row.textContent()).toContain('10:00–10:30');
    expect(await row.textContent()).toContain('Scheduled');
    await expectClean(open);

    // The same week.
    await page.getByRole('button', { name: 'Week', exact: true }).click();
    const cell = page.locator(`#week-grid [data-day="${day}"]`);
    await cell.getByText(patient.name).waitFor();
    expect(await cell.textContent()).toContain('10:00–10:30');
    expect(await page.locator('#week-grid > section').count()).toBe(7);
    await expectClean(open);
    await open.context.close();
  }, 120_000);

  it.each(VIEWPORTS)('reschedules an appointment to another free slot, then cancels it with a reason (%s)', async (viewport) => {
    const t = cap(tag());
    const doctor = await newDoctor(`Move${t}`);
    const patient = await newPatient(`Yew${t}`);
    const day = clinicDate(3);
    const id = await book(patient.id, doctor.id, await slotAt(doctor.id, day, '09:00'), 'Back pain');
    const open = await openAs(web, 'ADMIN', viewport);
    const { page } = open;
    await showDoctorDay(page, doctor.id, day);
    const row = page.locator('#day-list tr', { hasText: patient.name });
    await row.waitFor();
    expect(await row.textContent()).toContain('09:00–09:30');
    await expectClean(open);

    await row.getByRole('button', { name: /Details/ }).click();
    const panel = page.locator('#appointment-panel');
    await panel.getByText(`${patient.name} with ${doctor.name}`).waitFor();
    await expectClean(open);

    await panel.getByRole('button', { name: 'Reschedule' }).click();
    await pickSlot(page, '11:00–11:30', panel);
    await expectClean(open);
    await panel.getByRole('button', { name: 'Move appointment' }).click();
    await panel.getByRole('status').getByText(/Moved to .*11:00–11:30/).waitFor();
    await row.getByText('11:00–11:30').waitFor();
    expect(clinicTime((await appointment(id)).start)).toBe('11:00');
    await expectClean(open);

    // The reason box is not there until Cancel is pressed.
    expect(await panel.getByLabel('Reason for cancelling').count()).toBe(0);
    expect(await panel.getByRole('button', { name: 'Confirm cancellation' }).count()).toBe(0);
    await panel.getByRole('button', { name: 'Cancel', exact: true }).click();
    const reason = panel.getByLabel('Reason for cancelling');
    await reason.waitFor();
    await expectClean(open);
    await reason.fill('Patient is travelling');
    await panel.getByRole('button', { name: 'Confirm cancellation' }).click();
    await panel.getByRole('status').getByText(/Cancelled the appointment/).waitFor();
    await row.getByText('Cancelled').waitFor();
    expect(await panel.getByRole('button', { name: 'Cancel', exact: true }).count()).toBe(0);
    const after = await appointment(id);
    expect([after.status, after.cancellationReason]).toEqual(['CANCELLED', 'Patient is travelling']);
    await expectClean(open);
    await open.context.close();
  }, 120_000);

  it.each(VIEWPORTS)('tells a conflicting booking in words, in clinic time (%s)', async (viewport) => {
    const t = cap(tag());
    const first = await newDoctor(`First${t}`);
    const second = await newDoctor(`Second${t}`);
    const patient = await newPatient(`Xu${t}`);
    const day = clinicDate(4);
    await book(patient.id, first.id, await slotAt(first.id, day, '09:00'));
    const open = await openAs(web, 'ADMIN', viewport);
    const { page } = open;
    await go(page, 'Appointments');
    await page.getByRole('link', { name: 'Book appointment' }).click();
    await page.getByLabel('Find the patient').fill(`Xu${t}`);
    await page.getByRole('button', { name: `Choose ${patient.name}` }).click();
    await page.getByLabel('Doctor', { exact: true }).selectOption(second.id);
    await page.getByLabel('Day', { exact: true }).fill(day);
    await pickSlot(page, '09:00–09:30');
    await page.getByLabel('Reason for the visit').fill('Second opinion');
    await page.locator('#book-form button[type=submit]').click();
    const alert = page.locator('#book-form [role=alert]');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toMatch(/already has an appointment from .*09:00 to .*09:30/);
    expect(text).toContain('You picked');
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    expect(text).not.toContain('T08:00:00.000Z');
    await expectClean(open);
    await open.context.close();
  }, 120_000);

  it('offers a nurse the clinic calendar to read, without booking or changes', async () => {
    const t = cap(tag());
    const doctor = await newDoctor(`Read${t}`);
    const patient = await newPatient(`Wu${t}`);
    const day = clinicDate(2);
    await book(patient.id, doctor.id, await slotAt(doctor.id, day, '15:00'));
    const open = await openAs(web, 'NURSE', 'desktop');
    const { page } = open;
    await go(page, 'Appointments');
    await page.getByLabel('Date', { exact: true }).fill(day);
    const row = page.locator('#day-list tr', { hasText: patient.name });
    await row.waitFor();
    expect(await row.textContent()).toContain(doctor.name);
    expect(await page.getByRole('link', { name: 'Book appointment' }).count()).toBe(0);
    await row.getByRole('button', { name: /Details/ }).click();
    await page.locator('#appointment-panel').getByText(`${patient.name} with ${doctor.name}`).waitFor();
    expect(await page.locator('#appointment-panel').getByRole('button', { name: 'Reschedule' }).count()).toBe(0);
    await expectClean(open);
    await open.context.close();
  }, 90_000);
});

describe('appointments (doctor)', () => {
  it.each(VIEWPORTS)('shows the doctor their own week; completes a visit with conditions, marks another no-show, books a follow-up (%s)', async (viewport) => {
    const t = cap(tag());
    const seen = await newPatient(`Vale${t}`);
    const absent = await newPatient(`Vance${t}`);
    const elsewhere = await newPatient(`Volt${t}`);
    const other = await newDoctor(`Other${t}`);
    const visitId = await startedVisit(seen.id, web.doctor.id, 60);
    const missedId = await startedVisit(absent.id, web.doctor.id, 90);
    await startedVisit(elsewhere.id, other.id, 60);

    const open = await openAs(web, 'DOCTOR', viewport);
    const { page } = open;
    await go(page, 'Appointments');
    // Their own week by default: no doctor picker, seven days, today's visits, no other doctor's.
    const grid = page.locator('#week-grid');
    await grid.getByText(seen.name).waitFor();
    await grid.getByText(absent.name).waitFor();
    expect(await grid.locator('> section').count()).toBe(7);
    expect(await page.locator('#calendar-title').textContent()).toContain('My appointments');
    expect(await page.getByLabel('Doctor', { exact: true }).count()).toBe(0);
    expect(await grid.getByText(elsewhere.name).count()).toBe(0);
    await expectClean(open);

    // Complete the visit with its conditions.
    await grid.getByRole('button', { name: new RegExp(seen.name) }).click();
    const panel = page.locator('#appointment-panel');
    await panel.getByText(`${seen.name} with ${web.doctor.name}`).waitFor();
    await panel.getByRole('button', { name: 'Complete', exact: true }).click();
    await panel.getByLabel('Conditions and symptoms').fill('Hypertension, chest pain\nFatigue');
    await panel.getByLabel('Notes (optional)').fill('Blood pressure 150/95');
    await expectClean(open);
    await panel.getByRole('button', { name: 'Complete visit' }).click();
    await panel.getByRole('status').getByText('Visit completed with Hypertension, chest pain, Fatigue.').waitFor();
    await panel.getByText('Completed', { exact: true }).first().waitFor();
    const completed = await appointment(visitId);
    expect([completed.status, completed.conditions, completed.notes]).toEqual(['COMPLETED', ['Hypertension', 'chest pain', 'Fatigue'], 'Blood pressure 150/95']);
    await expectClean(open);

    // The other visit: the patient did not come.
    await grid.getByRole('button', { name: new RegExp(absent.name) }).click();
    await panel.getByText(`${absent.name} with ${web.doctor.name}`).waitFor();
    await panel.getByRole('button', { name: 'No-show', exact: true }).click();
    await panel.getByRole('button', { name: 'Yes, mark no-show' }).click();
    await grid.getByRole('button', { name: new RegExp(absent.name) }).getByText('No-show').waitFor();
    expect((await appointment(missedId)).status).toBe('NO_SHOW');
    await expectClean(open);

    // A follow-up for the patient of the completed visit, with the doctor.
    await grid.getByRole('button', { name: new RegExp(seen.name) }).click();
    await panel.getByText(`${seen.name} with ${web.doctor.name}`).waitFor();
    await panel.getByRole('link', { name: 'Book follow-up' }).click();
    await page.getByRole('heading', { name: 'Book a follow-up' }).waitFor();
    await page.locator('#booking-patient').getByText(seen.name).waitFor();
    await page.getByLabel('Day', { exact: true }).fill(clinicDate(viewport === 'desktop' ? 8 : 9));
    await pickSlot(page, '14:00–14:30');
    await expectClean(open);
    await page.locator('#book-form button[type=submit]').click();
    const done = page.locator('#booking-done [role=status]');
    await done.waitFor();
    expect(await done.textContent()).toContain(`${seen.name} is booked with ${web.doctor.name}`);
    expect(await done.textContent()).toContain('14:00–14:30');
    await expectClean(open);
    await open.context.close();
  }, 150_000);
  it('refreshes the doctor\'s calendar live when one of their visits is booked elsewhere', async () => {
    const t = cap(tag());
    const patient = await newPatient(`Live${t}`);
    const day = clinicDate(20);
    const open = await openApp(web, 'desktop');
    const { page } = open;
    // The calendar's subscription on the app's one socket (opened at sign-in for the live feed).
    const subscribed = new Promise<void>((resolve) => {
      page.on('websocket', (ws) =>
        ws.on('framesent', (frame) => {
          const text = String(frame.payload);
          if (text.includes('"subscribe"') && text.includes('ApptChanged')) resolve();
        }),
      );
    });
    await page.fill('#login-email', web.emails.DOCTOR);
    await page.fill('#login-password', web.password('DOCTOR'));
    await page.click('#login-form button[type=submit]');
    await go(page, 'Appointments');
    await subscribed;
    await page.getByRole('button', { name: 'Day', exact: true }).click();
    await page.getByLabel('Date', { exact: true }).fill(day);
    await page.locator('#calendar-title').getByText(new RegExp(`${Number(day.slice(8))} `)).waitFor();
    await page.locator('#day-list, .empty-state').first().waitFor();
    expect(await page.getByText(patient.name).count()).toBe(0);
    // Booked by the front desk meanwhile: it appears without a reload (appointmentChanged over graphql-ws).
    await book(patient.id, web.doctor.id, await slotAt(web.doctor.id, day, '16:00'), 'Booked at the desk');
    const row = page.locator('#day-list tr', { hasText: patient.name });
    await row.waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain('16:00–16:30');
    await expectClean(open);
    await open.context.close();
  }, 90_000);
});

describe('My visits (patient)', () => {
  it.each(VIEWPORTS)('books, reschedules and cancels their own visit (%s)', async (viewport) => {
    const t = cap(tag());
    const specialty = `Dermatology ${t}`;
    const doctor = await newDoctor(`Skin${t}`, specialty);
    const day = clinicDate(viewport === 'desktop' ? 5 : 6);
    const open = await openAs(web, 'PATIENT', viewport);
    const { page } = open;
    await go(page, 'My visits');
    await page.getByRole('heading', { name: 'My visits', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Upcoming' }).waitFor();
    await page.locator('#upcoming-visits li, .empty-state').first().waitFor();
    await expectClean(open);

    await page.getByRole('link', { name: 'Book a visit' }).click();
    await page.getByRole('heading', { name: 'Book a visit' }).waitFor();
    await page.locator('#booking-patient').getByText('You').waitFor();
    await page.getByLabel('Specialty (optional)').selectOption(specialty);
    await page.getByLabel('Doctor', { exact: true }).selectOption(doctor.id);
    await page.getByLabel('Day', { exact: true }).fill(day);
    await pickSlot(page, '09:00–09:30');
    await page.getByLabel('Reason for the visit').fill('Rash');
    await expectClean(open);
    await page.locator('#book-form button[type=submit]').click();
    const done = page.locator('#booking-done [role=status]');
    await done.waitFor();
    expect(await done.textContent()).toContain(`You are booked with ${doctor.name}`);
    expect(await done.textContent()).toContain('09:00–09:30');
    await expectClean(open);

    await page.getByRole('link', { name: 'See my visits' }).click();
    const item = page.locator('#upcoming-visits li', { hasText: doctor.name });
    await item.getByText('09:00–09:30').waitFor();
    await expectClean(open);

    await item.getByRole('button', { name: 'Reschedule' }).click();
    await pickSlot(page, '12:00–12:30', item);
    await item.getByRole('button', { name: 'Move appointment' }).click();
    await item.getByRole('status').getByText(/Moved to .*12:00–12:30/).waitFor();
    await item.locator('.visit-when', { hasText: '12:00–12:30' }).waitFor();
    await expectClean(open);

    expect(await item.getByLabel('Reason for cancelling').count()).toBe(0);
    await item.getByRole('button', { name: 'Cancel', exact: true }).click();
    await item.getByLabel('Reason for cancelling').fill('Feeling better');
    await expectClean(open);
    await item.getByRole('button', { name: 'Confirm cancellation' }).click();
    const past = page.locator('#past-visits li', { hasText: doctor.name });
    await past.getByText('Cancelled', { exact: true }).waitFor();
    expect(await past.textContent()).toContain('Feeling better');
    expect(await page.locator('#upcoming-visits li', { hasText: doctor.name }).count()).toBe(0);
    await expectClean(open);
    await open.context.close();
  }, 120_000);
});
