import { consoleLogFormat, prettyLogLine } from './logFormat';

describe("npm start's console lines", () => {
  it('are pretty in development and JSON in production or with LOG_FORMAT=json', () => {
    expect(consoleLogFormat({})).toBe('pretty');
    expect(consoleLogFormat({ NODE_ENV: 'development' })).toBe('pretty');
    expect(consoleLogFormat({ NODE_ENV: 'production' })).toBe('json');
    expect(consoleLogFormat({ NODE_ENV: 'development', LOG_FORMAT: 'json' })).toBe('json');
    expect(consoleLogFormat({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' })).toBe('pretty');
  });

  it('print one pino line as time, service, level, message and the other fields', () => {
    const time = new Date(2026, 11, 3, 9, 41, 7, 212).toISOString();
    const line = JSON.stringify({ level: 30, time, pid: 7, hostname: 'h', service: 'appointments', requestId: 'r-1', durationMs: 12, operationName: 'Book', msg: 'request done' });
    expect(prettyLogLine(line)).toBe('09:41:07.212 appointments  INFO  request done requestId=r-1 durationMs=12 operationName=Book');
    const warn = JSON.stringify({ level: 40, time, service: 'router', err: { message: 'boom' }, note: 'two words', msg: 'subgraph slow' });
    expect(prettyLogLine(warn)).toBe('09:41:07.212 router        WARN  subgraph slow err={"message":"boom"} note="two words"');
    expect(prettyLogLine(warn, { colour: true })).toContain('\x1b[33mWARN \x1b[0m');
  });

  it('leave other lines alone and stay one line', () => {
    expect(prettyLogLine('HealthSync is running.')).toBe('HealthSync is running.');
    expect(prettyLogLine('{not json')).toBe('{not json');
    expect(prettyLogLine('{"a":1}')).toBe('{"a":1}');
    const long = prettyLogLine(JSON.stringify({ level: 50, time: Date.now(), service: 's', msg: 'm', stack: 'x\n'.repeat(500) }));
    expect(long).not.toContain('\n');
    expect(prettyLogLine(JSON.stringify({ level: 30, time: Date.now(), service: 'router', msg: 'Gateway successfully loaded schema.\n\t* Mode: unmanaged' }))).toMatch(/INFO  Gateway successfully loaded schema\. \* Mode: unmanaged$/);
    expect(long.length).toBeLessThan(300);
  });
});
