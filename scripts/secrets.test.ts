import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, secretProblem } from '../platform/config';
import { ensureLocalSecrets, randomSecret } from './secrets';

describe("npm start's secrets file (scripts/secrets.ts)", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'healthsync-secrets-'));
    file = path.join(dir, '.data', 'secrets.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates random secrets on the first start in a file only its owner can read, and reuses them on the next', () => {
    const first = ensureLocalSecrets({}, file);
    expect(first.created).toEqual(['INTERNAL_SECRET', 'JWT_SECRET', 'SUPERADMIN_PASSWORD', 'DEMO_PASSWORD']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(first.values);
    for (const [name, value] of Object.entries(first.values)) expect(secretProblem(name as keyof typeof first.values, value)).toBeNull();
    // What every child process is given passes the checks every process makes.
    expect(() => loadConfig({ ...first.values })).not.toThrow();

    const second = ensureLocalSecrets({}, file);
    expect(second.created).toEqual([]);
    expect(second.values).toEqual(first.values);
    // Another data folder, other secrets: nothing is a constant.
    expect(ensureLocalSecrets({}, path.join(dir, 'other', 'secrets.json')).values.JWT_SECRET).not.toBe(first.values.JWT_SECRET);
  });

  it('uses a secret set in the environment and never writes it to the file', () => {
    const jwt = randomSecret('JWT_SECRET');
    const got = ensureLocalSecrets({ JWT_SECRET: jwt }, file);
    expect(got.values.JWT_SECRET).toBe(jwt);
    expect(got.fromEnv).toEqual(['JWT_SECRET']);
    expect(got.created).toEqual(['INTERNAL_SECRET', 'SUPERADMIN_PASSWORD', 'DEMO_PASSWORD']);
    expect(readFileSync(file, 'utf8')).not.toContain(jwt);
  });

  it('closes a file left readable by others, and refuses a published value written into it', () => {
    const { values } = ensureLocalSecrets({}, file);
    chmodSync(file, 0o644);
    expect(ensureLocalSecrets({}, file).values).toEqual(values);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, JSON.stringify({ ...values, SUPERADMIN_PASSWORD: 'ChangeMe-SuperAdmin-1' }));
    expect(() => ensureLocalSecrets({}, file)).toThrow(/SUPERADMIN_PASSWORD in .*secrets\.json is a published default/);
  });
});
