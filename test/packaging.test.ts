import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_PORTS, SUBGRAPHS } from '../platform/services';

/**
 * The container set-up without a Docker engine: docker-compose.yml parsed (anchors and merge keys
 * resolved as Compose does) and the Dockerfile read instruction by instruction. That the compiled
 * code they run starts and answers is test/packaging.e2e.test.ts.
 */
const ROOT = path.join(__dirname, '..');

interface Healthcheck {
  test?: string[];
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: string;
  restart?: string;
  command?: string[];
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string>;
}

const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
const ours = services.filter(([, s]) => s.build !== undefined);
const longRunning = services.filter(([, s]) => s.restart !== 'no');
/** dist/x/y.js → x/y.ts exists (what `npm run build` compiles it from). */
const compiledFrom = (file: string) => path.join(ROOT, file.replace(/^dist\//, '').replace(/\.js$/, '.ts'));

describe('docker-compose.yml', () => {
  it('has a health check for every service, and one-off jobs say they have none', () => {
    expect(longRunning.length).toBeGreaterThanOrEqual(SUBGRAPHS.length + 2);
    for (const [name, s] of longRunning) {
      expect([name, s.healthcheck?.disable ?? false]).toEqual([name, false]);
      expect([name, (s.healthcheck?.test ?? []).length > 1]).toEqual([name, true]);
    }
    for (const [name, s] of services.filter(([, x]) => x.restart === 'no')) expect([name, s.healthcheck]).toEqual([name, { disable: true }]);
  });

  it('runs the compiled code with node, in production, listening on every interface', () => {
    for (const [name, s] of ours) {
      const [node, entry, ...rest] = s.command ?? [];
      expect([name, node, rest]).toEqual([name, 'node', []]);
      expect(entry).toMatch(/^dist\/.+\.js$/);
      expect([name, existsSync(compiledFrom(entry))]).toEqual([name, true]);
      expect(s.environment).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0' });
      const check = s.healthcheck?.test ?? [];
      if (!s.healthcheck?.disable) {
        expect(check.slice(0, 3)).toEqual(['CMD', 'node', 'dist/scripts/healthcheck.js']);
        expect(existsSync(compiledFrom(check[2]))).toBe(true);
      }
    }
    for (const sub of SUBGRAPHS) {
      expect(compose.services[sub].command).toEqual(['node', `dist/subgraphs/${sub}/index.js`]);
      expect(compose.services[sub].environment?.PORT).toBe(String(DEFAULT_PORTS[sub]));
    }
    expect(compose.services.router.command).toEqual(['node', 'dist/router/index.js']);
  });

  it('starts each service once what it needs is healthy: the database for all, the database and every subgraph for the router', () => {
    for (const [name, s] of ours) expect([name, s.depends_on]).toMatchObject([name, { mongo: { condition: 'service_healthy' } }]);
    const router = compose.services.router.depends_on as Record<string, { condition: string }>;
    expect(Object.keys(router).sort()).toEqual(['mongo', ...SUBGRAPHS].sort());
    for (const dep of Object.values(router)) expect(dep.condition).toBe('service_healthy');
    expect(compose.services.mongo.healthcheck?.test?.length).toBeGreaterThan(1);
  });

  it('seeds demo data only with SEED_DEMO=true, and takes secrets from the environment (.env), none written in', () => {
    expect(compose.services.seed.command).toEqual(['node', 'dist/scripts/seed.js']);
    expect(compose.services.seed.environment?.SEED_DEMO).toBe('${SEED_DEMO:-false}');
    for (const [, s] of ours) {
      for (const secret of ['INTERNAL_SECRET', 'JWT_SECRET', 'SUPERADMIN_PASSWORD']) expect(s.environment?.[secret]).toMatch(new RegExp(`^\\$\\{${secret}:\\?`));
    }
  });
});

describe('Dockerfile', () => {
  const lines = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = lines.reduce<string[][]>((acc, l) => (l.startsWith('FROM ') ? [...acc, [l]] : (acc[acc.length - 1].push(l), acc)), []);
  const runtime = stages[stages.length - 1];
  const find = (word: string) => runtime.filter((l) => l.startsWith(`${word} `));

  it('builds with dev dependencies and runs on a supported Node LTS with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0].join('\n')).toMatch(/RUN npm ci\b(?!.*--omit=dev)/);
    expect(stages[0]).toContain('RUN npm run build');
    for (const stage of stages) {
      const major = Number(/^FROM node:(\d+)/.exec(stage[0])?.[1]);
      // Even majors from 22 on are LTS lines in support (Node 20 ended in April 2026).
      expect([stage[0], major >= 22 && major % 2 === 0]).toEqual([stage[0], true]);
    }
    expect(runtime.join('\n')).toMatch(/RUN npm ci --omit=dev/);
    expect(runtime.join('\n')).toMatch(/COPY --from=\S+ \/app\/dist \.\/dist/);
    expect(runtime.join('\n')).not.toMatch(/tsx/);
  });

  it('runs as a non-root user with CMD, EXPOSE and HEALTHCHECK', () => {
    const user = find('USER').pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
    expect(find('CMD').pop()).toBe('CMD ["node", "dist/router/index.js"]');
    const exposed = find('EXPOSE').flatMap((l) => l.split(/\s+/).slice(1).map(Number));
    for (const name of ['router', ...SUBGRAPHS] as const) expect(exposed).toContain(DEFAULT_PORTS[name]);
    expect(find('HEALTHCHECK').pop()).toMatch(/CMD \["node", "dist\/scripts\/healthcheck\.js"/);
    expect(find('ENV').join(' ')).toMatch(/NODE_ENV=production/);
    expect(find('ENV').join(' ')).toMatch(/HOST=0\.0\.0\.0/);
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.data', '.env', 'dist', '.git']) expect(ignored).toContain(entry);
  });
});
