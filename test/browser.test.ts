import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser } from './browser';

describe('the test browser', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'healthsync-browser-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is started once more when it crashes while starting, and no more than that', async () => {
    // Stands in for a Chromium that dies with SIGSEGV as it starts (seen once beside a second stack).
    const starts = path.join(dir, 'starts');
    const crashing = path.join(dir, 'crashing-chromium');
    writeFileSync(crashing, `#!/bin/sh\necho start >> '${starts}'\nkill -SEGV $$\n`);
    chmodSync(crashing, 0o755);
    const before = process.env.CHROMIUM_PATH;
    process.env.CHROMIUM_PATH = crashing;
    try {
      await expect(launchBrowser()).rejects.toThrow(/process did exit|browser has been closed/i);
    } finally {
      if (before === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = before;
    }
    expect(readFileSync(starts, 'utf8').trim().split('\n')).toEqual(['start', 'start']);
  });
});
