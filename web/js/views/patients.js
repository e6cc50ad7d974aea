import { gql } from '../api.js';
import { PATIENT_DETAIL as DETAIL, PATIENT_LIST as LIST } from '../operations.js';
import { $, attempt, debounce, el, fill, fmtDateTime, latestOnly, statusBadge } from '../ui.js';

const dl = (pairs) => el('dl', { class: 'row mb-2' }, pairs.flatMap(([k, v]) => [el('dt', { class: 'col-sm-4' }, k), el('dd', { class: 'col-sm-8' }, v ?? '—')]));
const list = (items, render, empty) => (items.length ? el('ul', { class: 'list-group mb-3' }, items.map((i) => el('li', { class: 'list-group-item' }, render(i)))) : el('p', { class: 'text-muted' }, empty));

const loadList = latestOnly((s) => attempt(() => gql(LIST, { s })));
const loadDetail = latestOnly((id) => attempt(() => gql(DETAIL, { id })));

async function showDetail(id) {
  const data = await loadDetail(id);
  if (!data) return;
  const p = data.patient;
  fill(
    $('patient-detail'),
    el('h2', { class: 'h5' }, p.name),
    dl([['Born', p.dateOfBirth], ['Sex', p.sex.toLowerCase()], ['Email', p.email], ['Phone', p.phone], ['Allergies', p.allergies.join(', ') || 'none recorded']]),
    el('h3', { class: 'h6' }, 'Medical history'),
    list(p.medicalHistory, (h) => [el('strong', {}, h.condition), h.diagnosedOn ? ` since ${h.diagnosedOn}` : '', h.notes ? el('div', { class: 'small text-muted' }, h.notes) : null], 'No history recorded.'),
    el('h3', { class: 'h6' }, 'Lab results'),
    list(p.labResults, (l) => [`${l.test}: ${l.value} ${l.unit}`, l.abnormal ? el('span', { class: 'badge text-bg-danger ms-2' }, 'abnormal') : null, el('div', { class: 'small text-muted' }, fmtDateTime(l.takenAt))], 'No lab results.'),
    el('h3', { class: 'h6' }, 'Recent appointments'),
    list(p.appointments.edges.map((e) => e.node), (a) => [fmtDateTime(a.start), ` with ${a.doctor.name} — ${a.reason} `, statusBadge(a.status)], 'No appointments.'),
  );
}

const searchLater = debounce(() => showPatients());

export async function showPatients() {
  const search = $('patient-search');
  search.oninput = searchLater;
  const data = await loadList(search.value || null);
  if (!data) return;
  fill(
    $('patient-list'),
    data.patients.edges.map(({ node: p }) =>
      el('button', { type: 'button', class: 'list-group-item list-group-item-action', 'data-id': p.id, onclick: () => showDetail(p.id) }, p.name, el('div', { class: 'small text-muted' }, `born ${p.dateOfBirth}`)),
    ),
  );
}
