import { Writable } from 'node:stream';
import pino from 'pino';
import { LogChannel, maskRecipient } from './channels';

/** A logger whose JSON lines land in `lines`. */
function capture(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ base: { service: 'notifications' } }, stream), lines };
}

const message = { notificationId: '665f00000000000000000001', channel: 'SMS' as const, to: '+4915112345612', body: 'Dear Mia, your appointment with Dr. Okafor (Cardiology) is on 3 Dec at 09:00.' };

describe('simulated delivery log', () => {
  it('masks phone numbers and email addresses', () => {
    expect(maskRecipient('+4915112345612')).toBe('+49••••••12');
    expect(maskRecipient('anna.schmidt@example.org')).toBe('a••••@example.org');
    expect(maskRecipient('+1212')).toBe('••••••');
    expect(maskRecipient(null)).toBeNull();
  });

  it('logs the notification id, channel and masked recipient, never the text or the address, outside development', async () => {
    const { log, lines } = capture();
    await new LogChannel(log, { showBody: false }).send(message);
    await new LogChannel(log).send({ ...message, channel: 'EMAIL', to: 'mia@example.org' });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ delivery: 'simulated', notificationId: message.notificationId, channel: 'SMS', to: '+49••••••12', msg: 'simulated SMS delivery' });
    expect(lines[1]).toMatchObject({ delivery: 'simulated', channel: 'EMAIL', to: 'm••••@example.org', msg: 'simulated EMAIL delivery' });
    const raw = JSON.stringify(lines);
    for (const secret of ['Dear Mia', 'Okafor', '+4915112345612', 'mia@example.org']) expect(raw).not.toContain(secret);
    expect(lines[0]).not.toHaveProperty('body');
  });

  it('shows the message text in development', async () => {
    const { log, lines } = capture();
    await new LogChannel(log, { showBody: true }).send(message);
    expect(lines[0]).toMatchObject({ notificationId: message.notificationId, to: '+49••••••12', body: message.body });
  });

  it('keeps the line the delivery counters parse (bench/loadSteps.ts, test/serviceProcess.ts)', async () => {
    const chunks: string[] = [];
    const raw = pino(new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c.toString('utf8')), done()) }));
    await new LogChannel(raw).send(message);
    expect(chunks.join('')).toContain('"delivery":"simulated"');
    expect((JSON.parse(chunks[0]) as { notificationId: string }).notificationId).toBe(message.notificationId);
  });
});
