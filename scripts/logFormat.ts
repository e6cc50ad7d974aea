/**
 * `npm start`'s console: every child logs pino JSON (one object per line); in development the
 * supervisor prints each as one readable line, `time service level msg key=value …`
 * (`09:41:07.212 appointments INFO  booking stored requestId=4f1c… durationMs=12`). JSON stays
 * JSON with NODE_ENV=production or LOG_FORMAT=json (for a log collector); LOG_FORMAT=pretty forces
 * this format. Lines that are not pino JSON pass unchanged.
 */
export type LogFormat = 'json' | 'pretty';

export function consoleLogFormat(env: { NODE_ENV?: string; LOG_FORMAT?: string }): LogFormat {
  if (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty') return env.LOG_FORMAT;
  return env.NODE_ENV === 'production' ? 'json' : 'pretty';
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Fields the line shows in its fixed columns, or that say nothing in a console. */
const SHOWN = new Set(['time', 'level', 'service', 'msg', 'pid', 'hostname', 'v']);
const MAX_VALUE = 160;

function value(v: unknown): string {
  const text = typeof v === 'string' ? (/[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v) : JSON.stringify(v) ?? String(v);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

function clock(time: unknown): string {
  const d = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date();
  if (Number.isNaN(d.getTime())) return String(time);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** One pino JSON line as `time service level msg key=value …`; anything else unchanged. */
export function prettyLogLine(line: string, opts: { colour?: boolean; service?: string } = {}): string {
  if (!line.startsWith('{')) return line;
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return line;
    entry = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry.level !== 'number' || !('msg' in entry || 'time' in entry)) return line;
  const level = entry.level;
  let label = (LEVELS[level] ?? String(level)).padEnd(5);
  if (opts.colour) label = `\x1b[${COLOURS[level] ?? '0'}m${label}\x1b[0m`;
  const service = String(entry.service ?? opts.service ?? '-');
  const extras = Object.entries(entry)
    .filter(([k, v]) => !SHOWN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`);
  // One line per event, also for a message written over several lines (@apollo/gateway's "loaded schema").
  const msg = String(entry.msg ?? '').replace(/\s*\n\s*/g, ' ');
  return [clock(entry.time), service.padEnd(13), label, msg, ...extras].join(' ').trimEnd();
}
