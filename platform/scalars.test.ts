import { Kind, parse, type StringValueNode } from 'graphql';
import { scalarsFor } from './scalars';

const { TimeZone } = scalarsFor(parse('scalar TimeZone'));
const mars: StringValueNode = { kind: Kind.STRING, value: 'Mars/Olympus_Mons' };

describe('TimeZone scalar', () => {
  it('accepts an IANA zone, also when asked again (the cached path)', () => {
    expect(TimeZone.parseValue('Europe/Berlin')).toBe('Europe/Berlin');
    expect(TimeZone.parseValue('Europe/Berlin')).toBe('Europe/Berlin');
    expect(TimeZone.serialize('Europe/Berlin')).toBe('Europe/Berlin');
  });

  it('refuses what is not a zone, every time, in variables, literals and output', () => {
    for (let i = 0; i < 2; i++) {
      expect(() => TimeZone.parseValue('Mars/Olympus_Mons')).toThrow('Value is not a valid IANA time zone: Mars/Olympus_Mons');
      expect(() => TimeZone.serialize('Mars/Olympus_Mons')).toThrow('Value is not a valid IANA time zone');
      expect(() => TimeZone.parseLiteral(mars, {})).toThrow('not a valid IANA time zone');
    }
    expect(() => TimeZone.parseValue(42)).toThrow();
  });
});
