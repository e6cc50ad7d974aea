import { clinicDate, go, openApp, openAs, reviewProblems, startWebStack, stopWebStack, type RoleName, type WebStack } from './harness';

/** The app shell every role shares: serving, sign-in, the menu per role, the live notification feed. */
let web: WebStack;
beforeAll(async () => {
  web = await startWebStack();
}, 120_000);
afterAll(() => stopWebStack(web));

describe('admin web app shell', () => {
  it('is served by the router with a strict content security policy and its bundle', async () => {
    const page = await fetch(`${web.base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    const assets = html.match(/\/assets\/[\w.-]+\.(?:js|css)/g) ?? [];
    expect(assets.length).toBe(2);
    for (const asset of assets) {
      const res = await fetch(`${web.base}${asset}`);
      expect([asset, res.status]).toEqual([asset, 200]);
      expect(res.headers.get('cache-control')).toContain('immutable');
    }
    expect(html).not.toMatch(/<script>(?!<\/script>)|style="/);
  });

  it.each(['desktop', 'phone'] as const)('refuses a wrong password in words, then signs in (%s)', async (viewport) => {
    const open = await openApp(web, viewport);
    const { page } = open;
    expect(await reviewProblems(open)).toEqual([]);
    await page.fill('#login-email', web.emails.ADMIN);
    await page.fill('#login-password', 'not-the-password-at-all');
    await page.click('#login-form button[type=submit]');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/password/i);
    await page.fill('#login-password', web.password('ADMIN'));
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#sign-out', { state: 'attached' });
    // A wrong password is a 200 with a GraphQL error, not a console error; the refusal is the only one.
    expect(open.problems.filter((p) => !/401|Unauthorized/i.test(p))).toEqual([]);
    await open.context.close();
  }, 60_000);

  const MENUS: Record<RoleName, string[]> = {
    SUPER_ADMIN: ['Appointments', 'Patients', 'Doctors', 'Prescriptions', 'Medications', 'Reports', 'Users', 'Audit log', 'Notifications'],
    ADMIN: ['Appointments', 'Patients', 'Doctors', 'Prescriptions', 'Medications', 'Reports', 'Notifications'],
    DOCTOR: ['Appointments', 'Patients', 'Prescriptions', 'Medications', 'Notifications'],
    NURSE: ['Appointments', 'Patients', 'Prescriptions', 'Medications', 'Notifications'],
    PHARMACIST: ['Prescriptions', 'Medications', 'Notifications'],
    PATIENT: ['My visits', 'My record', 'Prescriptions', 'Notifications'],
  };

  it.each(Object.keys(MENUS) as RoleName[])('offers %s its own menu; an address outside it lands on the first entry', async (role) => {
    const open = await openAs(web, role);
    const labels = (await open.page.locator('#nav .nav-link').allTextContents()).map((t) => t.replace(/\d+\+?\s*unread$/, '').trim());
    expect(labels).toEqual(MENUS[role]);
    await open.page.evaluate("location.hash = '#/no-such-view'");
    await open.page.waitForURL((url) => !url.hash.includes('no-such-view'));
    expect(await reviewProblems(open)).toEqual([]);
    await open.context.close();
  }, 60_000);

  it('collapses the menu on a phone: everything reachable, nothing wider than the screen, sign-out works', async () => {
    const open = await openAs(web, 'ADMIN', 'phone');
    const { page } = open;
    expect(await page.locator('#nav').isVisible()).toBe(false);
    await go(page, 'Notifications');
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    expect(await reviewProblems(open)).toEqual([]);
    await page.locator('.navbar-toggler').click();
    await page.locator('#sign-out').click();
    await page.waitForSelector('#login-form');
    expect(await page.evaluate("sessionStorage.getItem('healthsync.session')")).toBeNull();
    await open.context.close();
  }, 60_000);

  it('shows a notification live with an unread count, and marks it read', async () => {
    const open = await openAs(web, 'PATIENT');
    const { page } = open;
    await go(page, 'Notifications');
    await page.getByText('No notifications yet.').waitFor();
    // A booking for the patient: its confirmation reaches the patient's feed over graphql-ws.
    const day = clinicDate(2);
    const slots = await web.fixture<{ availableSlots: { start: string; end: string }[] }>(
      `query S($d: ObjectID!, $f: DateTime!, $t: DateTime!) { availableSlots(doctorId: $d, from: $f, to: $t) { start end } }`,
      { d: web.doctor.id, f: `${day}T00:00:00Z`, t: `${day}T23:59:59Z` },
    );
    const slot = slots.availableSlots[0]!;
    await web.fixture(`mutation B($i: BookAppointmentInput!) { bookAppointment(input: $i) { id } }`, {
      i: { patientId: web.patient.id, doctorId: web.doctor.id, start: slot.start, end: slot.end, reason: 'Live feed check' },
    });
    const item = page.locator('#notification-list li').first();
    await item.getByText(/confirmed/i).first().waitFor({ timeout: 30_000 });
    await page.locator('#unread-count').waitFor();
    expect((await page.locator('#unread-count').textContent())?.trim()).toMatch(/^1\b/);
    expect(await reviewProblems(open)).toEqual([]);
    await item.getByRole('button', { name: 'Mark as read' }).click();
    await page.locator('#unread-count').waitFor({ state: 'detached' });
    await open.context.close();
  }, 90_000);
});
