import type { Page } from 'playwright-core';
import { go, openApp, openAs, PASSWORD, reviewProblems, startWebStack, stopWebStack, type OpenPage, type ViewportName, type WebStack } from './harness';

/** The super admin's area: users (create, role, deactivate/reactivate, password reset, links) and the PHI audit log. */
let web: WebStack;
beforeAll(async () => {
  web = await startWebStack();
}, 120_000);
afterAll(() => stopWebStack(web));

const VIEWPORTS: ViewportName[] = ['desktop', 'phone'];
let serial = 0;
const unique = (viewport: ViewportName) => `${viewport}${Date.now().toString(36)}${++serial}`;

async function expectFine(open: OpenPage): Promise<void> {
  expect(await reviewProblems(open)).toEqual([]);
}

/** Signs in on a fresh tab: true when the menu shows, false when the sign-in is refused in words. */
async function trySignIn(viewport: ViewportName, email: string, password: string): Promise<boolean> {
  const open = await openApp(web, viewport);
  const { page } = open;
  try {
    await page.fill('#login-email', email);
    await page.fill('#login-password', password);
    await page.click('#login-form button[type=submit]');
    const outcome = await Promise.race([
      page.waitForSelector('#sign-out', { state: 'attached' }).then(() => true),
      page.getByRole('alert').waitFor().then(() => false),
    ]);
    if (!outcome) expect(await page.getByRole('alert').textContent()).toMatch(/email or the password is not right/);
    return outcome;
  } finally {
    await open.context.close();
  }
}

async function newUser(page: Page, email: string, password: string, role: string): Promise<void> {
  await page.getByRole('button', { name: 'New user' }).click();
  await page.fill('#new-user-email', email);
  await page.fill('#new-user-password', password);
  await page.selectOption('#new-user-role', role);
}

describe('super admin: users', () => {
  it.each(VIEWPORTS)('creates a nurse, changes the role, deactivates, reactivates and resets the password (%s)', async (viewport) => {
    const email = `nurse.${unique(viewport)}@example.org`;
    const open = await openAs(web, 'SUPER_ADMIN', viewport);
    const { page } = open;
    await go(page, 'Users');
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.locator('#user-list').waitFor();
    await expectFine(open);

    await newUser(page, email, 'short', 'NURSE');
    await page.getByRole('button', { name: 'Create user' }).click();
    // The browser's own check (minlength) or ours: the user is not created with a short password.
    await page.fill('#new-user-password', PASSWORD);
    await expectFine(open);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: email, level: 1 }).waitFor();
    await page.getByText(`${email} was created as nurse`).waitFor();
    expect(await page.locator('#user-link').count()).toBe(0); // a nurse is linked to nothing
    await expectFine(open);

    await page.selectOption('#user-role', 'PHARMACIST');
    await page.getByRole('button', { name: 'Change role' }).click();
    await page.getByText(`${email} is now pharmacist`).waitFor();

    await page.getByRole('button', { name: 'Deactivate' }).click();
    await expectFine(open);
    await page.getByRole('button', { name: 'Yes, deactivate' }).click();
    await page.locator('#user-status', { hasText: 'Deactivated' }).waitFor();
    await page.getByText(`${email} is deactivated`).waitFor();
    await expectFine(open);
    expect(await trySignIn(viewport, email, PASSWORD)).toBe(false);

    await page.getByRole('button', { name: 'Reactivate' }).click();
    await page.locator('#user-status', { hasText: 'Active' }).waitFor();
    expect(await trySignIn(viewport, email, PASSWORD)).toBe(true);

    const renewed = `renewed-${PASSWORD}`;
    await page.fill('#user-new-password', renewed);
    await page.getByRole('button', { name: 'Reset password' }).click();
    await page.getByText(`The password of ${email} was reset`).waitFor();
    await expectFine(open);
    expect(await trySignIn(viewport, email, renewed)).toBe(true);

    // The list, filtered by role, shows the user with the new role.
    await page.getByRole('link', { name: '← All users' }).click();
    await page.selectOption('#users-role-filter', 'PHARMACIST');
    const row = page.locator('#user-list tr', { hasText: email });
    await row.waitFor();
    expect(await row.textContent()).toContain('Pharmacist');
    expect(new Set(await page.locator('#user-list td[data-label="Role"]').allTextContents())).toEqual(new Set(['Pharmacist']));
    await expectFine(open);
    await open.context.close();
  }, 120_000);

  it.each(VIEWPORTS)('creates a patient user linked to a patient found by name, and links a doctor user afterwards (%s)', async (viewport) => {
    const suffix = unique(viewport);
    const lastName = `Linkley${suffix}`;
    const { registerPatient: patient } = await web.fixture<{ registerPatient: { id: string; name: string } }>(
      `mutation P($i: RegisterPatientInput!) { registerPatient(input: $i) { id name } }`,
      { i: { firstName: 'Lena', lastName, dateOfBirth: '1990-01-15', sex: 'FEMALE' } },
    );
    const open = await openAs(web, 'SUPER_ADMIN', viewport);
    const { page } = open;
    await go(page, 'Users');
    const email = `patient.${suffix}@example.org`;
    await newUser(page, email, PASSWORD, 'PATIENT');
    await page.getByLabel('Patient record: search by name').fill(lastName.slice(0, 9));
    await page.getByRole('button', { name: new RegExp(patient.name) }).click();
    await page.getByText(`Patient record: ${patient.name}`).waitFor();
    await expectFine(open);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: email, level: 1 }).waitFor();
    await page.getByText(`linked to ${patient.name}`).first().waitFor();
    await page.locator('#user-link', { hasText: `Linked to ${patient.name}.` }).waitFor();
    await expectFine(open);
    // The patient user signs in and is the patient (their own record).
    expect(await trySignIn(viewport, email, PASSWORD)).toBe(true);

    // A doctor user created without a link, linked from its page.
    await page.getByRole('link', { name: '← All users' }).click();
    const doctorEmail = `doctor.${suffix}@example.org`;
    await newUser(page, doctorEmail, PASSWORD, 'DOCTOR');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: doctorEmail, level: 1 }).waitFor();
    await page.locator('#user-link', { hasText: 'Not linked yet' }).waitFor();
    await page.getByLabel('Doctor: search by name').fill('webb');
    await page.getByRole('button', { name: new RegExp(web.doctor.name) }).click();
    await expectFine(open);
    await page.locator('#link-form').getByRole('button', { name: 'Link' }).click();
    await page.locator('#user-link', { hasText: `Linked to ${web.doctor.name}.` }).waitFor();
    await expectFine(open);
    await open.context.close();
  }, 120_000);

  it('is not offered to an admin (the graph lets only the super admin manage users)', async () => {
    const open = await openAs(web, 'ADMIN');
    const labels = await open.page.locator('#nav .nav-link').allTextContents();
    expect(labels).not.toContain('Users');
    expect(labels).not.toContain('Audit log');
    await open.context.close();
  }, 60_000);
});

describe('super admin: audit log', () => {
  it.each(VIEWPORTS)('shows a denied read by a nurse, filtered by outcome, user and patient (%s)', async (viewport) => {
    // The nurse asks for a patient's visit summary, which only admins and the patient may read.
    const nurse = await web.graph.login(web.emails.NURSE, PASSWORD);
    const refused = await web.graph.as(nurse, `query N($id: ObjectID!) { patient(id: $id) { id visitSummary { totalVisits } } }`, { id: web.patient.id });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const open = await openAs(web, 'SUPER_ADMIN', viewport);
    const { page } = open;
    await go(page, 'Audit log');
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    await page.locator('#audit-list').waitFor();
    await expectFine(open);

    await page.selectOption('#audit-outcome', 'DENIED');
    await page.locator('#audit-user option', { hasText: web.emails.NURSE }).waitFor({ state: 'attached' });
    await page.selectOption('#audit-user', { label: `${web.emails.NURSE} (Nurse)` });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const denied = page.locator('#audit-list tbody tr', { hasText: 'visitSummary' }).first();
    await denied.waitFor();
    const text = await denied.textContent();
    expect(text).toContain(web.emails.NURSE);
    expect(text).toContain('Denied');
    expect(text).toContain(web.patient.id);
    // Every row shown is a denial by the nurse.
    const rows = page.locator('#audit-list tbody tr');
    for (const row of await rows.all()) {
      expect(await row.textContent()).toContain('Denied');
      expect(await row.textContent()).toContain(web.emails.NURSE);
    }
    await expectFine(open);

    // By patient (found by name) and today's date in the clinic's zone: still there.
    await page.getByLabel('Patient: search by name').fill('Brows');
    await page.getByRole('button', { name: new RegExp(web.patient.name) }).click();
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date());
    await page.fill('#audit-from', today);
    await page.fill('#audit-to', today);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#audit-list tbody tr', { hasText: 'visitSummary' }).first().waitFor();
    await expectFine(open);

    // Allowed only: the nurse's refusal is not among them.
    await page.selectOption('#audit-outcome', 'ALLOWED');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#audit-list tbody tr', { hasText: 'Denied' }).first().waitFor({ state: 'detached' });
    await page.locator('#audit-list, .empty-state').first().waitFor();
    expect(await page.locator('#audit-list tbody tr', { hasText: 'Denied' }).count()).toBe(0);
    await expectFine(open);

    // A date range with nothing in it: an empty state in words.
    await page.fill('#audit-from', '2001-01-01');
    await page.fill('#audit-to', '2001-01-02');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No entries match these filters.').waitFor();
    await expectFine(open);
    await open.context.close();
  }, 120_000);
});
