import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomSecret } from '../scripts/secrets';
import { ALL_SECRET_NAMES, loadConfig, SECRET_NAMES, secretProblem, type SecretName } from './config';

const ROOT = path.join(__dirname, '..');
const good = (): Record<'INTERNAL_SECRET' | 'JWT_SECRET' | 'SUPERADMIN_PASSWORD', string> => ({
  INTERNAL_SECRET: randomSecret('INTERNAL_SECRET'),
  JWT_SECRET: randomSecret('JWT_SECRET'),
  SUPERADMIN_PASSWORD: randomSecret('SUPERADMIN_PASSWORD'),
});

describe('secrets (platform/config.ts)', () => {
  it('accepts random secrets in every NODE_ENV', () => {
    for (const NODE_ENV of ['development', 'test', 'production']) expect(() => loadConfig({ ...good(), NODE_ENV })).not.toThrow();
  });

  it('needs no DEMO_PASSWORD, but refuses a published or short one', () => {
    expect(SECRET_NAMES).not.toContain('DEMO_PASSWORD');
    expect(loadConfig({ ...good() }).DEMO_PASSWORD).toBeUndefined();
    expect(() => loadConfig({ ...good(), DEMO_PASSWORD: 'HealthSync-demo-1' })).toThrow(/DEMO_PASSWORD: is a published default/);
    expect(() => loadConfig({ ...good(), DEMO_PASSWORD: 'short-one' })).toThrow(/DEMO_PASSWORD: is too short/);
  });

  it('refuses a missing, published, placeholder or short secret in every NODE_ENV, saying what to set', () => {
    const cases: [SecretName, string | undefined, RegExp][] = [
      ['INTERNAL_SECRET', undefined, /INTERNAL_SECRET: not set: set INTERNAL_SECRET .* at least 32 characters, e\.g\. `openssl rand -hex 32`/],
      ['INTERNAL_SECRET', 'healthsync-dev-internal-secret-change-me', /INTERNAL_SECRET: is a published default/],
      ['JWT_SECRET', 'healthsync-dev-jwt-secret-change-me-0123456789', /JWT_SECRET: is a published default/],
      ['SUPERADMIN_PASSWORD', 'ChangeMe-SuperAdmin-1', /SUPERADMIN_PASSWORD: is a published default/],
      ['SUPERADMIN_PASSWORD', 'HealthSync-demo-1', /SUPERADMIN_PASSWORD: is a published default/],
      ['JWT_SECRET', 'please-replace-me-with-something-long-and-random', /is a published default or placeholder/],
      ['JWT_SECRET', 'k3Y'.repeat(5), /JWT_SECRET: is too short \(15 characters\)/],
      ['INTERNAL_SECRET', 'ab'.repeat(20), /INTERNAL_SECRET: is too simple/],
    ];
    for (const NODE_ENV of ['development', 'test', 'production']) {
      for (const [name, value, message] of cases) {
        const env: NodeJS.ProcessEnv = { ...good(), NODE_ENV };
        if (value === undefined) delete env[name];
        else env[name] = value;
        expect(() => loadConfig(env)).toThrow(message);
      }
    }
  });

  it('refuses every secret-like value written anywhere in the repository (code, tests, README, docker-compose, env examples)', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => /\.(ts|js|md|ya?ml|json)$|(^|\/)(Dockerfile|\.env[^/]*)$/.test(f) && !f.endsWith('package-lock.json'));
    const found: { file: string; name: SecretName; value: string }[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(path.join(ROOT, file), 'utf8');
      } catch {
        continue; // deleted in the working tree
      }
      const code = /\.(ts|js)$/.test(file);
      for (const name of ALL_SECRET_NAMES) {
        // NAME: 'value' / NAME = "value" in code; NAME=value / NAME: value in documents and env files.
        const pattern = code ? new RegExp(`\\b${name}\\s*[:=]\\s*(['"\`])([^'"\`\\n]*)\\1`, 'g') : new RegExp(`\\b${name}\\s*[:=]\\s*(['"]?)([^'"\\s,;|}]+)\\1`, 'g');
        for (const m of text.matchAll(pattern)) {
          const value = m[2];
          if (value.startsWith('$') || value.includes('${')) continue; // taken from the environment
          found.push({ file, name, value });
        }
      }
    }
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter(({ name, value }) => !secretProblem(name, value))).toEqual([]);
  });
});

describe('client settings (platform/config.ts)', () => {
  it('reads CORS_ORIGINS as exact origins, none by default, and refuses anything else', () => {
    expect(loadConfig({ ...good() }).CORS_ORIGINS).toEqual([]);
    expect(loadConfig({ ...good(), CORS_ORIGINS: 'https://app.example.org, http://localhost:5173' }).CORS_ORIGINS).toEqual(['https://app.example.org', 'http://localhost:5173']);
    for (const bad of ['*', 'app.example.org', 'https://app.example.org/', 'https://app.example.org/path', 'https://App.example.org', 'https://app.example.org:443', 'ftp://files.example.org']) {
      expect(() => loadConfig({ ...good(), CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS: comma-separated origins/);
    }
  });

  it('reads TRUSTED_DOCUMENTS as a list of manifest paths, none by default', () => {
    expect(loadConfig({ ...good() }).TRUSTED_DOCUMENTS).toEqual([]);
    expect(loadConfig({ ...good(), TRUSTED_DOCUMENTS: 'schema/web-operations.json, mobile.json' }).TRUSTED_DOCUMENTS).toEqual(['schema/web-operations.json', 'mobile.json']);
  });
});
