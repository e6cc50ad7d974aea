import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');
export const WEB_ROOT = path.join(ROOT, 'web');
/** The built admin app the router serves (`vite build web`). */
export const WEB_DIST = path.join(WEB_ROOT, 'dist');
const STAMP = path.join(WEB_DIST, '.inputs-sha256');

/** Every file the bundle is made from (the generated documents are made from these too). */
function inputFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        if (name !== 'gql') walk(full);
      } else files.push(full);
    }
  };
  walk(path.join(WEB_ROOT, 'src'));
  files.push(path.join(WEB_ROOT, 'index.html'), path.join(WEB_ROOT, 'vite.config.mts'), path.join(ROOT, 'schema', 'api.graphql'), path.join(ROOT, 'codegen.ts'), path.join(ROOT, 'package-lock.json'));
  return files.sort();
}

function inputsHash(): string {
  const hash = createHash('sha256');
  for (const file of inputFiles()) hash.update(path.relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

/** True when web/dist was built from the current sources. */
export function webBuildIsFresh(): boolean {
  return existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === inputsHash();
}

/**
 * Builds the admin app into web/dist: the typed documents first (graphql-codegen, which also
 * writes the subgraphs' resolver types), then the bundle (Vite), then a stamp of the inputs so the
 * next call knows it is fresh. `npm start`, `npm test` and `npm run build` call this; it does
 * nothing when the stamp matches.
 */
export function ensureWebBuild(say: (line: string) => void = console.log, options: { force?: boolean } = {}): void {
  if (!options.force && webBuildIsFresh()) return;
  const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);
  const hash = inputsHash();
  say('web app: generating typed documents (graphql-codegen)');
  execFileSync(bin('graphql-codegen'), ['--config', 'codegen.ts', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  say('web app: bundling (vite build web)');
  execFileSync(bin('vite'), ['build', 'web', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  writeFileSync(STAMP, `${hash}\n`);
}

if (require.main === module) {
  try {
    ensureWebBuild(console.log, { force: process.argv.includes('--force') });
  } catch (err) {
    console.error(`web build failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
