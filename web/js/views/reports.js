import { gql } from '../api.js';
import { REFRESH_ANALYTICS as REFRESH, REPORT_CSV as CSV, REPORTS } from '../operations.js';
import { $, attempt, el, fill, fmtDateTime, isoDay, showNotice } from '../ui.js';

const range = () => ({ from: $('report-from').value, to: $('report-to').value });

async function show() {
  const data = await attempt(() => gql(REPORTS, { r: range() }));
  if (!data) return;
  const perDoctor = data.appointmentsPerDoctor;
  const avg = data.averageAppointmentsPerPatient;
  $('report-computed').textContent = perDoctor.computedAt ? `Figures computed ${fmtDateTime(perDoctor.computedAt)}` : 'Not computed yet: recompute now or wait for the scheduled run.';
  fill(
    $('report-doctors'),
    perDoctor.rows.map((r) => el('tr', {}, el('td', {}, r.doctor.name), el('td', {}, r.specialty), el('td', { class: 'text-end' }, r.count))),
    el('tr', { class: 'fw-bold' }, el('td', { colspan: 2 }, 'Total'), el('td', { class: 'text-end' }, perDoctor.total)),
  );
  $('report-average').textContent = avg.average.toFixed(2);
  $('report-average-detail').textContent = `${avg.totalAppointments} appointments, ${avg.totalPatients} patients`;
}

async function downloadCsv() {
  const data = await attempt(() => gql(CSV, { r: range() }));
  if (!data) return;
  const link = el('a', { href: URL.createObjectURL(new Blob([data.analyticsCsv], { type: 'text/csv' })), download: `appointments-per-doctor_${range().from}_${range().to}.csv` });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

export async function showReports() {
  const today = new Date();
  if (!$('report-from').value) $('report-from').value = isoDay(new Date(today.getFullYear(), today.getMonth(), 1));
  if (!$('report-to').value) $('report-to').value = isoDay(new Date(today.getFullYear(), today.getMonth() + 1, 0));
  $('report-show').onclick = show;
  $('report-csv').onclick = downloadCsv;
  $('report-refresh').onclick = async () => {
    const done = await attempt(() => gql(REFRESH));
    if (done) {
      await show();
      showNotice(`Reports up to date (${done.refreshAnalytics.changes} new changes counted)`);
    }
  };
  await show();
}
