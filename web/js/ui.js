// Small DOM helpers. Data is only ever put on the page as text (never as HTML), so a name or a
// note that contains markup shows as written and cannot run.

export const $ = (id) => document.getElementById(id);

/** Creates an element with attributes (`on*` = event listeners) and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

let noticeTimer;
export function showError(err) {
  const box = $('alert');
  const code = err && err.code ? ` (${err.code})` : '';
  box.textContent = `${err && err.message ? err.message : String(err)}${code}`;
  box.hidden = false;
  $('notice').hidden = true;
}

export function showNotice(message) {
  const box = $('notice');
  box.textContent = message;
  box.hidden = false;
  $('alert').hidden = true;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (box.hidden = true), 5000);
}

export function clearMessages() {
  $('alert').hidden = true;
  $('notice').hidden = true;
}

/** Runs an action, showing its error instead of throwing. */
export async function attempt(action) {
  try {
    return await action();
  } catch (err) {
    showError(err);
    return undefined;
  }
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const fmtTime = (iso) => timeFormat.format(new Date(iso));
export const fmtDateTime = (iso) => dateTimeFormat.format(new Date(iso));

/** yyyy-mm-dd of a Date in the browser's zone (what a date input shows). */
export function isoDay(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The start and end (exclusive) of a yyyy-mm-dd day in the browser's zone, as ISO instants. */
export function dayBounds(day) {
  const [y, m, d] = day.split('-').map(Number);
  return { from: new Date(y, m - 1, d).toISOString(), to: new Date(y, m - 1, d + 1).toISOString() };
}

const STATUS_STYLE = { SCHEDULED: 'primary', COMPLETED: 'success', CANCELLED: 'secondary', NO_SHOW: 'warning' };
export const statusBadge = (status) => el('span', { class: `badge text-bg-${STATUS_STYLE[status] ?? 'light'}` }, status.replace('_', ' ').toLowerCase());

/** Calls `fn` once typing has paused for `ms` (a search box asks once, not per keystroke). */
export function debounce(fn, ms = 250) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/**
 * Wraps a loader so that only the answer to the latest call is used: when the user changes a date
 * twice quickly, a slow answer for the first date must not overwrite the second.
 */
export function latestOnly(load) {
  let latest = 0;
  return async (...args) => {
    const mine = ++latest;
    const result = await load(...args);
    return mine === latest ? result : undefined;
  };
}
