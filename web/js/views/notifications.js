import { gql, subscribe } from '../api.js';
import { NOTIFICATION_ADDED as LIVE, RECENT_NOTIFICATIONS as RECENT } from '../operations.js';
import { $, attempt, el, fill, fmtDateTime, showError } from '../ui.js';

let stop = null;
let unseen = 0;

const item = (n) =>
  el(
    'li',
    { class: 'list-group-item', 'data-id': n.id },
    el('div', { class: 'd-flex justify-content-between' }, el('strong', {}, n.kind.replaceAll('_', ' ').toLowerCase()), el('span', { class: 'small text-muted' }, `${n.channel} · ${n.status.toLowerCase()} · ${fmtDateTime(n.createdAt)}`)),
    el('div', {}, n.message),
    n.failureReason ? el('div', { class: 'small text-danger' }, n.failureReason) : null,
  );

function badge() {
  $('live-count').textContent = String(unseen);
  $('live-count').hidden = unseen === 0;
}

/** Starts the live feed for the signed-in user (what their role may see, as for queries). */
export function startLiveNotifications() {
  stopLiveNotifications();
  stop = subscribe(
    LIVE,
    (data) => {
      $('notification-list').prepend(item(data.notificationAdded));
      if ($('view-notifications').hidden) unseen++;
      badge();
    },
    showError,
  );
}

export function stopLiveNotifications() {
  stop?.();
  stop = null;
  unseen = 0;
  badge();
}

export async function showNotifications() {
  unseen = 0;
  badge();
  const data = await attempt(() => gql(RECENT));
  if (data) fill($('notification-list'), data.notifications.edges.map((e) => item(e.node)));
}
