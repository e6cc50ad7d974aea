import { session, signIn, signOut } from './api.js';
import { $, attempt, clearMessages } from './ui.js';
import { showAppointments } from './views/appointments.js';
import { showBook } from './views/book.js';
import { showNotifications, startLiveNotifications, stopLiveNotifications } from './views/notifications.js';
import { showPatients } from './views/patients.js';
import { showReports } from './views/reports.js';

const VIEWS = { appointments: showAppointments, book: showBook, patients: showPatients, reports: showReports, notifications: showNotifications };

// Which views a role is offered; the graph enforces the same rules again for every request.
const ROLE_VIEWS = {
  SUPER_ADMIN: ['appointments', 'book', 'patients', 'reports', 'notifications'],
  ADMIN: ['appointments', 'book', 'patients', 'reports', 'notifications'],
  DOCTOR: ['appointments', 'patients', 'notifications'],
  NURSE: ['appointments', 'patients', 'notifications'],
  PHARMACIST: ['notifications'],
  PATIENT: ['appointments', 'book', 'notifications'],
};

const allowedViews = () => ROLE_VIEWS[session.get()?.user.role] ?? [];

function render() {
  clearMessages();
  const signedIn = Boolean(session.get());
  const allowed = allowedViews();
  const wanted = location.hash.slice(1);
  const view = signedIn ? (allowed.includes(wanted) ? wanted : allowed[0]) : 'login';
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== `view-${view}`;
  $('nav').hidden = !signedIn;
  $('sign-out').hidden = !signedIn;
  for (const link of document.querySelectorAll('#nav [data-view]')) {
    link.parentElement.hidden = !allowed.includes(link.dataset.view);
    link.classList.toggle('active', link.dataset.view === view);
  }
  const user = session.get()?.user;
  $('who').textContent = user ? `${user.email} · ${user.role.replace('_', ' ').toLowerCase()}` : '';
  if (signedIn) VIEWS[view]();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const ok = await attempt(() => signIn($('login-email').value, $('login-password').value));
  if (!ok) return;
  $('login-password').value = '';
  startLiveNotifications();
  render();
});

$('sign-out').addEventListener('click', async () => {
  stopLiveNotifications();
  await signOut();
  location.hash = '';
  render();
});

window.addEventListener('healthsync:signed-out', () => {
  stopLiveNotifications();
  session.set(null);
  render();
});
window.addEventListener('hashchange', render);

if (session.get()) startLiveNotifications();
render();
