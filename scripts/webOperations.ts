import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import ts from 'typescript';
import { manifestOf, type PersistedQueryManifest } from '../router/trustedDocuments';

const ROOT = path.join(__dirname, '..');
/** Every GraphQL document the admin web app sends (an ES module the browser loads as is). */
export const WEB_OPERATIONS_SOURCE = path.join(ROOT, 'web', 'js', 'operations.js');
/** Their manifest, for a router started with TRUSTED_DOCUMENTS=schema/web-operations.json. */
export const WEB_OPERATIONS_FILE = path.join(ROOT, 'schema', 'web-operations.json');

/**
 * The string exports of web/js/operations.js, evaluated exactly as the browser does (the module
 * is compiled to CommonJS by TypeScript and run in an empty context: it may build documents from
 * constants but reaches nothing else), so the manifest holds the very bytes the app sends.
 */
export function webDocuments(): string[] {
  const source = readFileSync(WEB_OPERATIONS_SOURCE, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  const exported: Record<string, unknown> = {};
  vm.runInNewContext(outputText, { exports: exported, module: { exports: exported } }, { filename: WEB_OPERATIONS_SOURCE, timeout: 1000 });
  return Object.entries(exported)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([, document]) => document);
}

export function webOperationsManifest(): PersistedQueryManifest {
  return manifestOf(webDocuments());
}

/** The file `npm run compose` writes (and test/webOperations.test.ts checks). */
export function webOperationsManifestJson(): string {
  return `${JSON.stringify(webOperationsManifest(), null, 2)}\n`;
}
