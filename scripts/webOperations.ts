import path from 'node:path';
import { generatePersistedQueryManifest } from '@apollo/generate-persisted-query-manifest';
import { manifestOf, type PersistedQueryManifest } from '../router/trustedDocuments';

const ROOT = path.join(__dirname, '..');
/** The admin web app's sources: every GraphQL document is a `graphql(...)` call in one of them. */
export const WEB_SOURCES = ['web/src/**/*.{ts,tsx}', '!web/src/gql/**', '!**/*.d.ts'];
/** Their manifest, for a router started with TRUSTED_DOCUMENTS=schema/web-operations.json. */
export const WEB_OPERATIONS_FILE = path.join(ROOT, 'schema', 'web-operations.json');

/**
 * The manifest of the web app's operations, made by Apollo's own generator from the app's sources:
 * it applies the transforms Apollo Client applies before sending (adding `__typename`), so each
 * body is byte for byte what the app sends. (Not from graphql-codegen's persisted documents: those
 * sort the selections, which the app's documents do not.)
 * Sorted and checked (one named operation each, unique names) by router/trustedDocuments.ts.
 */
export async function webOperationsManifest(): Promise<PersistedQueryManifest> {
  const cwd = process.cwd();
  process.chdir(ROOT); // the generator resolves globs against the working directory
  try {
    const generated = await generatePersistedQueryManifest({ documents: WEB_SOURCES }, undefined);
    return manifestOf(generated.operations.map((op) => op.body));
  } finally {
    process.chdir(cwd);
  }
}

/** The file `npm run compose` writes (and test/clientSchema.test.ts checks). */
export async function webOperationsManifestJson(): Promise<string> {
  return `${JSON.stringify(await webOperationsManifest(), null, 2)}\n`;
}
