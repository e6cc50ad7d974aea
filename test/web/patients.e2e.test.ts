import type { Page } from 'playwright-core';
import { clinicDate, go, openAs, reviewProblems, startWebStack, stopWebStack, type OpenPage, type ViewportName, type WebStack } from './harness';

/** The patients area: admins register, find, edit and erase; doctors add history and labs; nurses read; patients see their own record. */
let web: WebStack;
beforeAll(async () => {
  web = await startWebStack();
}, 120_000);
afterAll(() => stopWebStack(web));

const VIEWPORTS = ['desktop', 'phone'] as const;
let serial = 0;
/** A last name no other test uses (letters only: searches match the start of a name). */
function uniqueName(tag: string): string {
  serial += 1;
  const letters = (Date.now() + serial).toString(36).replace(/\d/g, (d) => 'abcdefghij'[Number(d)]!);
  return `${tag}${letters}`;
}

async function registerPatient(firstName: string, lastName: string, allergies: string[] = []): Promise<string> {
  const { registerPatient } = await web.fixture<{ registerPatient: { id: string } }>(
    `mutation R($i: RegisterPatientInput!) { registerPatient(input: $i) { id } }`,
    { i: { firstName, lastName, dateOfBirth: '1980-06-15', sex: 'MALE', allergies } },
  );
  return registerPatient.id;
}

/** Books the patient with the harness doctor (Grace Webb): from then on she treats them. */
async function bookWithGraceWebb(patientId: string, daysAhead: number): Promise<void> {
  const day = clinicDate(daysAhead);
  const slots = await web.fixture<{ availableSlots: { start: string; end: string }[] }>(
    `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
    { d: web.doctor.id, f: `${day}T00:00:00Z`, t: `${day}T23:59:59Z` },
  );
  const slot = slots.availableSlots[0]!;
  await web.fixture(`mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`, {
    i: { patientId, doctorId: web.doctor.id, start: slot.start, end: slot.end, reason: 'Check-up' },
  });
}

async function expectClean(open: OpenPage): Promise<void> {
  expect(await reviewProblems(open)).toEqual([]);
}

async function searchAndOpen(page: Page, search: string, name: string): Promise<void> {
  await page.getByLabel('Search by name or email').fill(search);
  await page.locator('#patient-list').getByRole('link', { name }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

describe('patients area', () => {
  it.each(VIEWPORTS)('admin registers, finds, edits and erases a patient (%s)', async (viewport: ViewportName) => {
    const open = await openAs(web, 'ADMIN', viewport);
    const { page } = open;
    const lastName = uniqueName('Registered');
    await go(page, 'Patients');
    await page.getByRole('heading', { level: 1, name: 'Patients' }).waitFor();
    await page.locator('#patient-list, .empty-state').first().waitFor();
    await expectClean(open);

    await page.getByRole('link', { name: 'Register a patient' }).click();
    await page.getByRole('heading', { level: 1, name: 'Register a patient' }).waitFor();
    // Nothing filled in: every required field says what it needs, in words.
    await page.getByRole('button', { name: 'Register patient' }).click();
    await page.getByText('First name: please enter the first name.').first().waitFor();
    expect(await page.locator('#patient-form').textContent()).toContain('Date of birth: please enter the date of birth.');
    await page.getByLabel('First name').fill('Olive');
    await page.getByLabel('Last name').fill(lastName);
    await page.getByLabel('Date of birth').fill('1969-03-21');
    await page.getByLabel('Sex').selectOption('FEMALE');
    await page.getByLabel('Phone', { exact: true }).fill('12345');
    await page.getByLabel('Allergies').fill('Penicillin');
    await page.getByRole('button', { name: 'Register patient' }).click();
    await page.getByText('Phone: write it in international form with the country code, like +49 30 123456.').first().waitFor();
    await expectClean(open);
    await page.getByLabel('Phone', { exact: true }).fill('+49 30 1234567');
    await page.getByRole('button', { name: 'Register patient' }).click();

    const name = `Olive ${lastName}`;
    await page.getByRole('heading', { level: 1, name }).waitFor();
    await page.getByText('Patient registered.').waitFor();
    expect(await page.locator('#demographics').textContent()).toContain('+49301234567');
    expect(await page.locator('#allergies').textContent()).toContain('Penicillin');
    await page.locator('#visits-heading').waitFor();
    await page.getByText('No visits yet.').waitFor();
    await expectClean(open);

    // Found by the start of the last name.
    await page.getByRole('link', { name: '← All patients' }).click();
    await searchAndOpen(page, lastName.slice(0, 12), name);

    await page.getByRole('link', { name: 'Edit details' }).click();
    await page.getByRole('heading', { level: 1, name: `Edit ${name}` }).waitFor();
    await expectClean(open);
    await page.getByLabel('Allergies').fill('Penicillin\nLatex');
    await page.getByLabel('Email').fill('olive@example.org');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor();
    expect(await page.locator('#allergies').textContent()).toContain('Latex');
    expect(await page.locator('#demographics').textContent()).toContain('olive@example.org');

    await page.getByRole('button', { name: 'Erase record' }).click();
    await page.getByText(`Erase ${name}'s whole record? This cannot be undone.`).waitFor();
    await expectClean(open);
    await page.getByRole('button', { name: 'Yes, erase' }).click();
    await page.getByText(`${name}'s record was erased.`).waitFor();
    await page.getByLabel('Search by name or email').fill(lastName);
    await page.getByText(`No patient's name or email starts with “${lastName}”.`).waitFor();
    await expectClean(open);
    await open.context.close();
  }, 120_000);

  it.each(VIEWPORTS)('doctor adds a history entry and a lab result to a patient they treat (%s)', async (viewport: ViewportName) => {
    const lastName = uniqueName('Treated');
    const patientId = await registerPatient('Tom', lastName, ['Aspirin']);
    await bookWithGraceWebb(patientId, viewport === 'desktop' ? 3 : 4);
    const open = await openAs(web, 'DOCTOR', viewport);
    const { page } = open;
    await go(page, 'Patients');
    await page.getByText('The patients you treat').waitFor();
    await page.locator('#patient-list').waitFor();
    await expectClean(open);
    const name = `Tom ${lastName}`;
    await searchAndOpen(page, lastName, name);
    // A doctor changes clinical entries only: no demographic edits, no erasing.
    expect(await page.getByRole('link', { name: 'Edit details' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Erase record' }).count()).toBe(0);
    await page.getByText('No medical history recorded.').waitFor();
    await expectClean(open);

    // Cancelled: the form closes and nothing claims an entry was added.
    await page.getByRole('button', { name: 'Add history entry' }).click();
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('button', { name: 'Add history entry' }).waitFor();
    expect(await page.getByText('History entry added.').count()).toBe(0);

    await page.getByRole('button', { name: 'Add history entry' }).click();
    await page.getByRole('button', { name: 'Save entry' }).click();
    await page.getByText('Condition: please name the condition.').first().waitFor();
    await expectClean(open);
    await page.getByLabel('Condition').fill('Hypertension');
    await page.getByLabel('Diagnosed on').fill('2024-05-02');
    await page.getByLabel('Notes').fill('Mild, monitor monthly');
    await page.getByRole('button', { name: 'Save entry' }).click();
    await page.getByText('History entry added.').waitFor();
    const history = page.locator('#history-table');
    await history.getByText('Hypertension').waitFor();
    expect(await history.textContent()).toContain('Mild, monitor monthly');

    await page.getByRole('button', { name: 'Add lab result' }).click();
    await page.getByLabel('Test').fill('HbA1c');
    await page.getByLabel('Value').fill('7.2');
    await page.getByLabel('Unit').fill('%');
    await page.getByLabel('Range low').fill('4');
    await page.getByLabel('Range high').fill('6');
    await expectClean(open);
    await page.getByRole('button', { name: 'Save result' }).click();
    await page.getByText('Lab result added.').waitFor();
    const labs = page.locator('#labs-table');
    await labs.getByText('HbA1c').waitFor();
    expect(await labs.textContent()).toContain('Outside range');
    expect(await labs.textContent()).toContain('4–6 %');
    await expectClean(open);

    const stored = await web.fixture<{ patient: { medicalHistory: { condition: string }[]; labResults: { test: string; abnormal: boolean }[] } }>(
      `query P($id: ObjectID!) { patient(id: $id) { medicalHistory { condition } labResults { test abnormal } } }`,
      { id: patientId },
    );
    expect(stored.patient.medicalHistory).toEqual([{ condition: 'Hypertension' }]);
    expect(stored.patient.labResults).toEqual([{ test: 'HbA1c', abnormal: true }]);
    await open.context.close();
  }, 120_000);

  it.each(VIEWPORTS)('nurse reads allergies, history and labs with no buttons to change them (%s)', async (viewport: ViewportName) => {
    const lastName = uniqueName('Nursed');
    const patientId = await registerPatient('Nina', lastName, ['Shellfish']);
    await web.fixture(`mutation H($p: ObjectID!) { addMedicalHistoryEntry(patientId: $p, input: { condition: "Asthma" }) { id } }`, { p: patientId });
    const open = await openAs(web, 'NURSE', viewport);
    const { page } = open;
    await go(page, 'Patients');
    await page.getByRole('heading', { level: 1, name: 'Patients' }).waitFor();
    expect(await page.getByRole('link', { name: 'Register a patient' }).count()).toBe(0);
    const name = `Nina ${lastName}`;
    await searchAndOpen(page, lastName, name);
    expect(await page.locator('#allergies').textContent()).toContain('Shellfish');
    await page.locator('#history-table').getByText('Asthma').waitFor();
    await page.getByText('No lab results recorded.').waitFor();
    for (const label of ['Edit details', 'Erase record', 'Add history entry', 'Add lab result']) {
      expect([label, await page.getByRole('link', { name: label }).count(), await page.getByRole('button', { name: label }).count()]).toEqual([label, 0, 0]);
    }
    // The visit summary is for admins and the patient only.
    expect(await page.locator('#visits-heading').count()).toBe(0);
    await expectClean(open);
    await open.context.close();
  }, 90_000);

  it.each(VIEWPORTS)('patient sees their own record under My record (%s)', async (viewport: ViewportName) => {
    const open = await openAs(web, 'PATIENT', viewport);
    const { page } = open;
    await go(page, 'My record');
    await page.getByRole('heading', { level: 1, name: 'My record' }).waitFor();
    await page.locator('#demographics').getByText(web.patient.name).waitFor();
    expect(await page.locator('#allergies').textContent()).toContain('Penicillin');
    await page.locator('#history-heading').waitFor();
    await page.locator('#labs-heading').waitFor();
    await page.locator('#visits-heading').waitFor();
    await page.locator('#visit-summary, #visits-heading ~ .empty-state').first().waitFor();
    expect(await page.getByRole('button', { name: /Add|Edit|Erase/ }).count()).toBe(0);
    await expectClean(open);
    await open.context.close();
  }, 90_000);

  it.each(VIEWPORTS)('renders a patient named like markup as text: nothing runs, no image appears (%s)', async (viewport: ViewportName) => {
    const lastName = uniqueName('Markup');
    const firstName = '<img src=x onerror="window.pwned=1">';
    await registerPatient(firstName, lastName, ['<img src=y onerror="window.pwned=2">']);
    const open = await openAs(web, 'ADMIN', viewport);
    const { page } = open;
    await go(page, 'Patients');
    await page.getByLabel('Search by name or email').fill(lastName);
    const link = page.locator('#patient-list').getByRole('link', { name: `${firstName} ${lastName}` });
    await link.waitFor();
    expect(await page.locator('main img').count()).toBe(0);
    await link.click();
    await page.getByRole('heading', { level: 1, name: `${firstName} ${lastName}` }).waitFor();
    expect(await page.locator('#allergies').textContent()).toContain('<img src=y onerror="window.pwned=2">');
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    await expectClean(open);
    await open.context.close();
  }, 90_000);
});
