import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureWebBuild } from './webBuild';

/**
 * `npm run build`: the resolver types (`npm run codegen`), then TypeScript compiled to dist/
 * (tsconfig.build.json) and the files the compiled code reads at run time copied beside it, at the
 * same places relative to the code as in the source tree (`path.join(__dirname, …)` resolves alike):
 * each subgraph's schema.graphql, schema/ (the supergraph the router loads) and web/dist/ (the
 * admin app, bundled by Vite). dist/ then runs with `node dist/…` and the production node_modules; nothing there needs
 * tsx. `--out <dir>` builds elsewhere (the packaging test); the folder is emptied first.
 */
const ROOT = path.join(__dirname, '..');

export const ASSET_DIRS = ['schema', 'web/dist'] as const;

export function build(outDir: string, say: (line: string) => void = console.log): void {
  const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);
  rmSync(outDir, { recursive: true, force: true });
  say('codegen: resolver types');
  execFileSync(bin('graphql-codegen'), ['--config', 'codegen.ts', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  ensureWebBuild(say);
  say(`tsc: compiling to ${path.relative(ROOT, outDir) || outDir}`);
  execFileSync(bin('tsc'), ['-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: ROOT, stdio: 'inherit' });
  for (const dir of ASSET_DIRS) cpSync(path.join(ROOT, dir), path.join(outDir, dir), { recursive: true });
  for (const name of readdirSync(path.join(ROOT, 'subgraphs'))) {
    const schema = path.join(ROOT, 'subgraphs', name, 'schema.graphql');
    if (existsSync(schema)) cpSync(schema, path.join(outDir, 'subgraphs', name, 'schema.graphql'));
  }
  say(`assets: ${ASSET_DIRS.join('/, ')}/ and subgraphs/*/schema.graphql copied`);
}

if (require.main === module) {
  const at = process.argv.indexOf('--out');
  const outDir = path.resolve(ROOT, at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : 'dist');
  try {
    build(outDir);
  } catch (err) {
    console.error(`build failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
