import { readFileSync } from 'node:fs';
import { composeSupergraph, SUPERGRAPH_FILE } from '../scripts/compose';

describe('schema/supergraph.graphql', () => {
  it('is what the subgraph schemas compose to (run `npm run compose` when this fails)', () => {
    expect(readFileSync(SUPERGRAPH_FILE, 'utf8')).toBe(composeSupergraph());
  });
});
