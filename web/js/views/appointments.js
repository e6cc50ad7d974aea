import { gql, idempotentAction } from '../api.js';
import { CANCEL_APPOINTMENT as CANCEL, DAY_APPOINTMENTS as DAY_QUERY } from '../operations.js';
import { $, attempt, dayBounds, el, fill, fmtTime, isoDay, latestOnly, showNotice, statusBadge } from '../ui.js';

const MAX_PAGES = 25;
// Sent with an Idempotency-Key: a cancel retried after a lost answer is not refused as "already cancelled".
const cancelOnce = idempotentAction();

/** One row; a scheduled visit can be cancelled with a reason, asked for in the row itself. */
function row(a, reload) {
  const actions = el('td', { class: 'text-end' });
  if (a.status === 'SCHEDULED') {
    const reason = el('input', { class: 'form-control form-control-sm', placeholder: 'Reason for cancelling', 'aria-label': 'Reason for cancelling', required: true });
    const form = el(
      'form',
      {
        class: 'd-flex gap-2',
        hidden: true,
        onsubmit: async (ev) => {
          ev.preventDefault();
          const vars = { id: a.id, r: reason.value };
          const done = await attempt(() => cancelOnce(vars, (idempotencyKey) => gql(CANCEL, vars, { idempotencyKey })));
          if (done) {
            showNotice(`Cancelled the appointment of ${a.patient.name}`);
            reload();
          }
        },
      },
      reason,
      el('button', { class: 'btn btn-sm btn-danger', type: 'submit' }, 'Confirm'),
    );
    const open = el('button', { class: 'btn btn-sm btn-outline-danger', onclick: () => ((form.hidden = false), (open.hidden = true), reason.focus()) }, 'Cancel');
    actions.append(open, form);
  }
  return el(
    'tr',
    { 'data-id': a.id },
    el('td', {}, `${fmtTime(a.start)}–${fmtTime(a.end)}`),
    el('td', {}, a.patient.name),
    el('td', {}, a.doctor.name, el('div', { class: 'small text-muted' }, a.doctor.specialty)),
    el('td', {}, a.reason, a.cancellationReason ? el('div', { class: 'small text-muted' }, a.cancellationReason) : null),
    el('td', {}, statusBadge(a.status)),
    actions,
  );
}

/** Every appointment of one day (all pages). */
async function fetchDay(day) {
  const all = [];
  let after = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { appointments } = await gql(DAY_QUERY, { f: dayBounds(day), after });
    all.push(...appointments.edges.map((e) => e.node));
    if (!appointments.pageInfo.hasNextPage) break;
    after = appointments.pageInfo.endCursor;
  }
  return all;
}
const loadDay = latestOnly((day) => attempt(() => fetchDay(day)));

export async function showAppointments() {
  const input = $('day');
  if (!input.value) input.value = isoDay(new Date());
  input.onchange = () => showAppointments();
  const data = await loadDay(input.value);
  if (!data) return;
  const list = data.sort((a, b) => a.start.localeCompare(b.start));
  fill($('appointment-rows'), list.map((a) => row(a, showAppointments)));
  $('appointments-empty').hidden = list.length > 0;
}
