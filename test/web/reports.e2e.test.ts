import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { setAppointmentFields } from '../appointmentFixtures';
import { go, openAs, reviewProblems, startWebStack, stopWebStack, WEEK, ZONE, type OpenPage, type RoleName, type ViewportName, type WebStack } from './harness';

/**
 * Reports (super admin and admin): five visits in the last ten days, booked and closed through the
 * graph, then "Update now": every metric shows them, as a chart and in numbers, and downloads as CSV.
 */
let web: WebStack;
let derek: { id: string; name: string };
/** yyyy-mm-dd (clinic zone) → appointments that day. */
const perDay = new Map<string, number>();

const berlinDate = (instant: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(instant);
const longDate = (date: string) => new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${date}T12:00:00Z`));

beforeAll(async () => {
  web = await startWebStack();
  ({ createDoctor: derek } = await web.fixture<{ createDoctor: { id: string; name: string } }>(
    `mutation D($i: CreateDoctorInput!) { createDoctor(input: $i) { id name } }`,
    { i: { firstName: 'Derek', lastName: 'Skinner', specialty: 'Dermatology', timeZone: ZONE, weeklySchedule: WEEK.map((weekday) => ({ weekday, start: '08:00', end: '18:00', slotMinutes: 30 })) } },
  ));
  const { registerPatient: paul } = await web.fixture<{ registerPatient: { id: string } }>(`mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`, {
    i: { firstName: 'Paul', lastName: 'Reporter', dateOfBirth: '1968-09-30', sex: 'MALE' },
  });
  const from = new Date(Date.now() + 86_400_000);
  const slotsOf = async (doctorId: string) =>
    (
      await web.fixture<{ availableSlots: { start: string; end: string }[] }>(
        `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
        { d: doctorId, f: from.toISOString(), t: new Date(from.getTime() + 2 * 86_400_000).toISOString() },
      )
    ).availableSlots;
  const free = { [web.doctor.id]: await slotsOf(web.doctor.id), [derek.id]: await slotsOf(derek.id) };
  // Booked ahead (the graph books only future slots), then moved into the past (the visit took
  // place) and closed: completed with conditions, or a no-show.
  const visits = [
    { patient: web.patient.id, doctor: web.doctor.id, daysAgo: 1, close: { conditions: ['Hypertension'] } },
    { patient: web.patient.id, doctor: web.doctor.id, daysAgo: 3, close: { conditions: ['Hypertension', 'Arrhythmia'] } },
    { patient: paul.id, doctor: web.doctor.id, daysAgo: 3, close: null },
    { patient: paul.id, doctor: derek.id, daysAgo: 1, close: { conditions: ['Eczema'] } },
    { patient: web.patient.id, doctor: derek.id, daysAgo: 10, close: null },
  ];
  for (const [i, v] of visits.entries()) {
    const slot = free[v.doctor]!.shift()!;
    const { bookAppointment } = await web.fixture<{ bookAppointment: { id: string } }>(`mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`, {
      i: { patientId: v.patient, doctorId: v.doctor, start: slot.start, end: slot.end, reason: 'Report check' },
    });
    const start = new Date(Math.floor((Date.now() - v.daysAgo * 86_400_000) / 60_000) * 60_000 - (i + 1) * 3_600_000);
    await setAppointmentFields(web.graph, bookAppointment.id, { start, end: new Date(start.getTime() + 1_800_000), localDate: berlinDate(start) });
    perDay.set(berlinDate(start), (perDay.get(berlinDate(start)) ?? 0) + 1);
    if (v.close) await web.fixture(`mutation C($id: ObjectID!, $c: [NonEmptyString!]!) { completeAppointment(id: $id, conditions: $c) { id } }`, { id: bookAppointment.id, c: v.close.conditions });
    else await web.fixture(`mutation N($id: ObjectID!) { markNoShow(id: $id) { id } }`, { id: bookAppointment.id });
  }
}, 180_000);
afterAll(() => stopWebStack(web));

async function expectFine(open: OpenPage): Promise<void> {
  expect(await reviewProblems(open)).toEqual([]);
}

/** "Update now" until the figures include the fixtures (they are counted as soon as the graph hands them on). */
async function updateUntilCounted(page: Page): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await page.getByRole('button', { name: 'Update now' }).click();
    await page.locator('#reports-update:not([disabled])').waitFor();
    await page.locator('#reports-computed', { hasText: 'Figures computed' }).waitFor();
    const figure = page.locator('#average-appointments');
    if ((await figure.count()) > 0 && (await figure.textContent()) === '5') return;
    if (Date.now() > deadline) throw new Error(`figures not counted: ${await page.locator('main').textContent()}`);
  }
}

async function csvOf(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
  const file = await download.path();
  return { name: download.suggestedFilename(), text: await readFile(file, 'utf8') };
}

const cells = async (page: Page, selector: string) => (await page.locator(selector).allTextContents()).map((t) => t.trim());

describe('reports', () => {
  it.each([
    ['SUPER_ADMIN', 'desktop'],
    ['ADMIN', 'phone'],
  ] as [RoleName, ViewportName][])('%s sees all four metrics for the last 30 days after "Update now", as charts, numbers and CSV (%s)', async (role, viewport) => {
    const open = await openAs(web, role, viewport);
    const { page } = open;
    await go(page, 'Reports');
    await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    await page.locator('#reports-computed').waitFor();
    await updateUntilCounted(page);
    await expectFine(open);

    // Appointments per doctor: chart and table.
    const perDoctor = page.locator('#report-per-doctor');
    const chart = perDoctor.getByRole('img');
    expect(await chart.getAttribute('aria-label')).toContain(`${web.doctor.name} 3, ${derek.name} 2`);
    const doctorRows = perDoctor.locator('tbody tr');
    expect(await doctorRows.count()).toBe(2);
    expect((await doctorRows.nth(0).locator('td').allTextContents()).map((t) => t.trim())).toEqual([web.doctor.name, 'Cardiology', '3']);
    expect((await doctorRows.nth(1).locator('td').allTextContents()).map((t) => t.trim())).toEqual([derek.name, 'Dermatology', '2']);
    expect(await perDoctor.locator('#per-doctor-total').textContent()).toBe('Total: 5 appointments');

    // Over time: one row per day with visits, the chart covers every day of the range.
    const overTime = page.locator('#report-over-time');
    expect(await overTime.getByRole('img').getAttribute('aria-label')).toMatch(/5 appointments in all/);
    const days = [...perDay].sort(([a], [b]) => a.localeCompare(b));
    expect(await cells(page, '#over-time-table tbody td[data-label="Day"]')).toEqual(days.map(([d]) => longDate(d)));
    expect(await cells(page, '#over-time-table tbody td[data-label="Appointments"]')).toEqual(days.map(([, n]) => String(n)));
    await page.selectOption('#report-granularity', 'MONTH');
    await page.locator('#over-time-table td[data-label="Month"]').first().waitFor();
    const months = (await cells(page, '#over-time-table tbody td[data-label="Appointments"]')).map(Number);
    expect(months.reduce((s, n) => s + n, 0)).toBe(5);
    await expectFine(open);

    // Conditions by specialty, per specialty.
    const conditions = page.locator('#report-conditions');
    expect(await conditions.getByRole('heading', { level: 3 }).allTextContents()).toEqual(['Cardiology', 'Dermatology']);
    expect(await conditions.getByRole('img').first().getAttribute('aria-label')).toBe('Conditions seen in Cardiology: Hypertension 2, Arrhythmia 1.');
    expect((await conditions.getByRole('listitem').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim())).toEqual(['Hypertension2 visits', 'Arrhythmia1 visit', 'Eczema1 visit']);

    // Average per patient: 5 appointments by 2 patients.
    expect(await page.locator('#average-figure').textContent()).toBe('2.50');
    expect(await page.locator('#average-patients').textContent()).toBe('2');

    // CSV files, made in the browser from the graph's answer.
    const doctorsCsv = await csvOf(page, 'Download CSV of appointments per doctor');
    expect(doctorsCsv.name).toMatch(/^appointments-per-doctor_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.csv$/);
    expect(doctorsCsv.text.split('\r\n')).toEqual(['doctor_id,doctor,specialty,appointments', `${web.doctor.id},${web.doctor.name},Cardiology,3`, `${derek.id},${derek.name},Dermatology,2`, '']);
    const averageCsv = await csvOf(page, 'Download CSV of average appointments per patient');
    expect(averageCsv.text).toMatch(/^from,to,total_appointments,total_patients,average\r\n[\d-]+,[\d-]+,5,2,2\.5\r\n$/);
    const timeCsv = await csvOf(page, 'Download CSV of appointments over time');
    expect(timeCsv.text.split('\r\n').slice(1, -1)).toEqual(days.map(([d, n]) => `${d},${n}`));
    const conditionsCsv = await csvOf(page, 'Download CSV of conditions by specialty');
    expect(conditionsCsv.text).toContain('Dermatology,Eczema,1');
    expect(open.problems).toEqual([]);

    // A range without visits: an empty state in words.
    await page.fill('#reports-from', '2001-01-01');
    await page.fill('#reports-to', '2001-01-31');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('No appointments between 1 Jan 2001 and 31 Jan 2001.').waitFor();
    await expectFine(open);
    await open.context.close();
  }, 120_000);
});
