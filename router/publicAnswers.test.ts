import { readFileSync } from 'node:fs';
import path from 'node:path';
import { authenticated } from '../platform/authz';
import { access } from '../subgraphs/doctors/access';
import { PUBLIC_SUBGRAPHS } from './publicAnswers';

/** What makes a subgraph's answers public to every signed-in caller (router/publicAnswers.ts). */
describe('public subgraphs', () => {
  it('are only doctors', () => {
    expect(Object.keys(PUBLIC_SUBGRAPHS)).toEqual(['doctors']);
  });

  it("doctors: every query needs a signed-in caller and nothing more; every Doctor field one rule for all; no resolver or service reads the identity", () => {
    expect(Object.values(access.Query)).toEqual([authenticated, authenticated, authenticated]);
    const { __object, ...fields } = access.Doctor;
    expect(Object.keys(fields)).toEqual(['*']);
    expect(fields['*']).toBe(__object);
    const dir = path.join(__dirname, '..', 'subgraphs', 'doctors');
    for (const file of ['resolvers.ts', 'service.ts']) expect(readFileSync(path.join(dir, file), 'utf8')).not.toMatch(/identity|ctx\.(userId|role)/);
  });
});
