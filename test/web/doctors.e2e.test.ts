import { go, openAs, reviewProblems, startWebStack, stopWebStack, type OpenPage, type ViewportName, type WebStack } from './harness';

/** The doctors area (admins): list, create, edit, weekly schedule in the doctor's zone, deactivate and reactivate. */
let web: WebStack;
beforeAll(async () => {
  web = await startWebStack();
}, 120_000);
afterAll(() => stopWebStack(web));

let serial = 0;
function uniqueWord(tag: string): string {
  serial += 1;
  return `${tag}${(Date.now() + serial).toString(36).replace(/\d/g, (d) => 'abcdefghij'[Number(d)]!)}`;
}

async function expectClean(open: OpenPage): Promise<void> {
  expect(await reviewProblems(open)).toEqual([]);
}

describe('doctors area', () => {
  it.each(['desktop', 'phone'] as const)('admin creates a doctor, edits the weekly schedule, deactivates and reactivates (%s)', async (viewport: ViewportName) => {
    const open = await openAs(web, 'ADMIN', viewport);
    const { page } = open;
    const lastName = uniqueWord('Doc');
    const specialty = uniqueWord('Dermatology');
    const name = `Dr. Iris ${lastName}`;

    await go(page, 'Doctors');
    await page.getByRole('heading', { level: 1, name: 'Doctors' }).waitFor();
    await page.locator('#doctor-list').getByRole('link', { name: web.doctor.name }).waitFor();
    await expectClean(open);

    // Create: empty form first (each field says what it needs), then a new specialty and a zone.
    await page.getByRole('link', { name: 'Add a doctor' }).click();
    await page.getByRole('heading', { level: 1, name: 'Add a doctor' }).waitFor();
    await page.getByRole('button', { name: 'Create doctor' }).click();
    await page.getByText('Specialty: pick one from the list or type a new one.').first().waitFor();
    await expectClean(open);
    await page.getByLabel('First name').fill('Iris');
    await page.getByLabel('Last name').fill(lastName);
    await page.getByLabel('Specialty').fill(specialty);
    await page.getByLabel('Time zone').selectOption('America/New_York');
    await page.getByLabel('Phone').fill('+1 212 555 0100');
    await page.getByRole('button', { name: 'Create doctor' }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    await page.getByText('Doctor created.', { exact: false }).waitFor();
    expect(await page.locator('#schedule-zone').textContent()).toContain(`Times are ${name}'s local time in America/New_York`);
    await page.getByText('No working hours: patients cannot book this doctor.', { exact: false }).waitFor();
    await expectClean(open);

    // Schedule: two overlapping Monday rows are refused by the graph, in words; then fixed.
    await page.getByRole('button', { name: 'Add a row' }).click();
    await page.locator('#schedule-rows li').nth(0).getByLabel('Start').fill('09:00');
    await page.locator('#schedule-rows li').nth(0).getByLabel('End').fill('13:00');
    await page.locator('#schedule-rows li').nth(0).getByLabel('Slot minutes').fill('20');
    await page.getByRole('button', { name: 'Add a row' }).click();
    const second = page.locator('#schedule-rows li').nth(1);
    await second.getByLabel('Day').selectOption('MONDAY');
    await second.getByLabel('Start').fill('12:00');
    await second.getByLabel('End').fill('16:00');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    const refusal = page.locator('#schedule-form').getByRole('alert');
    await refusal.getByText('Working hours overlap on Monday: 09:00–13:00 and 12:00–16:00').waitFor();
    await expectClean(open);
    await second.getByLabel('Day').selectOption('WEDNESDAY');
    await page.getByRole('button', { name: 'Add a row' }).click();
    await page.locator('#schedule-rows li').nth(2).getByLabel('Day').selectOption('FRIDAY');
    await page.getByRole('button', { name: 'Remove row 3' }).click();
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.getByText('Weekly schedule saved.').waitFor();
    await expectClean(open);
    const id = page.url().split('/doctors/')[1]!;
    const saved = await web.fixture<{ doctor: { timeZone: string; phone: string; weeklySchedule: unknown[] } }>(
      `query D($id: ObjectID!) { doctor(id: $id) { timeZone phone weeklySchedule { weekday start end slotMinutes } } }`,
      { id },
    );
    expect(saved.doctor).toEqual({
      timeZone: 'America/New_York',
      phone: '+12125550100',
      weeklySchedule: [
        { weekday: 'MONDAY', start: '09:00', end: '13:00', slotMinutes: 20 },
        { weekday: 'WEDNESDAY', start: '12:00', end: '16:00', slotMinutes: 20 },
      ],
    });

    // Edit the details.
    await page.getByLabel('Email').fill('iris@example.org');
    await page.getByRole('button', { name: 'Save details' }).click();
    await page.getByText('Details saved.').waitFor();

    // Deactivate (asked first), then activate again.
    await page.getByRole('button', { name: 'Deactivate', exact: true }).click();
    await page.getByText(`Deactivate ${name}? They keep their history but take no new bookings.`).waitFor();
    await expectClean(open);
    await page.getByRole('button', { name: 'Yes, deactivate' }).click();
    await page.locator('#doctor-status').getByText('Inactive', { exact: true }).waitFor();
    await page.getByText('This doctor is inactive', { exact: false }).waitFor();
    await expectClean(open);

    // The list: hidden among active doctors, shown with the inactive toggle.
    await page.getByRole('link', { name: '← All doctors' }).click();
    await page.locator('#doctor-list').waitFor();
    expect(await page.locator('#doctor-list').getByRole('link', { name }).count()).toBe(0);
    await page.getByLabel('Include inactive doctors').check();
    const row = page.locator('#doctor-list tr', { hasText: name });
    await row.getByText('Inactive').waitFor();
    await expectClean(open);
    await row.getByRole('link', { name }).click();
    await page.getByRole('button', { name: 'Activate', exact: true }).click();
    await page.locator('#doctor-status').getByText('Active', { exact: true }).waitFor();

    // Back in the list under its specialty, active.
    await page.getByRole('link', { name: '← All doctors' }).click();
    await page.locator('#doctor-list').waitFor();
    await page.getByLabel('Specialty').selectOption(specialty);
    const only = page.locator('#doctor-list tbody tr');
    await page.locator('#doctor-list tr', { hasText: name }).getByText('Active', { exact: true }).waitFor();
    expect(await only.count()).toBe(1);
    expect(await page.locator('#doctor-list').textContent()).toContain('iris@example.org');
    await expectClean(open);
    await open.context.close();
  }, 150_000);
});
