import { GraphQLError } from 'graphql';
import { DateTime } from 'luxon';
import { normaliseSchedule, slotsBetween, WEEKDAYS, type ScheduleWindowDoc } from './schedule';

const longAgo = new Date('2000-01-01T00:00:00Z');

describe('weekly schedule → slots', () => {
  const mondays: ScheduleWindowDoc[] = [{ weekday: 'MONDAY', start: '09:00', end: '10:00', slotMinutes: 20 }];

  it('cuts a window into slots in the doctor zone', () => {
    // 2027-01-04 is a Monday; Berlin is UTC+1 in winter.
    const slots = slotsBetween(mondays, 'Europe/Berlin', new Date('2027-01-04T00:00:00Z'), new Date('2027-01-05T00:00:00Z'), longAgo);
    expect(slots.map((s) => s.start.toISOString())).toEqual([
      '2027-01-04T08:00:00.000Z',
      '2027-01-04T08:20:00.000Z',
      '2027-01-04T08:40:00.000Z',
    ]);
    expect(slots[2].end.toISOString()).toBe('2027-01-04T09:00:00.000Z');
  });

  it('keeps 09:00 local across the spring daylight-saving change', () => {
    // Berlin moves to UTC+2 on 2027-03-28 (a Sunday): Monday 22 March vs Monday 29 March.
    const slots = slotsBetween(mondays, 'Europe/Berlin', new Date('2027-03-22T00:00:00Z'), new Date('2027-03-30T00:00:00Z'), longAgo);
    expect(slots[0].start.toISOString()).toBe('2027-03-22T08:00:00.000Z');
    expect(slots[3].start.toISOString()).toBe('2027-03-29T07:00:00.000Z');
  });

  it('offers only slots wholly inside the range and not in the past', () => {
    const from = new Date('2027-01-04T08:10:00Z');
    const to = new Date('2027-01-04T08:59:00Z');
    expect(slotsBetween(mondays, 'Europe/Berlin', from, to, longAgo).map((s) => s.start.toISOString())).toEqual([
      '2027-01-04T08:20:00.000Z',
    ]);
    const notBefore = new Date('2027-01-04T08:30:00Z');
    expect(slotsBetween(mondays, 'Europe/Berlin', new Date('2027-01-04T00:00:00Z'), new Date('2027-01-05T00:00:00Z'), notBefore)).toHaveLength(1);
  });

  it('rejects an inverted or too long range', () => {
    const a = new Date('2027-01-04T00:00:00Z');
    expect(() => slotsBetween(mondays, 'UTC', a, a, longAgo)).toThrow(GraphQLError);
    expect(() => slotsBetween(mondays, 'UTC', a, new Date('2027-03-01T00:00:00Z'), longAgo)).toThrow(/at most 31 days/);
  });
});

describe('schedule validation', () => {
  const w = (weekday: ScheduleWindowDoc['weekday'], start: string, end: string, slotMinutes = 30): ScheduleWindowDoc => ({ weekday, start, end, slotMinutes });

  it('normalises times and orders windows', () => {
    expect(normaliseSchedule([w('TUESDAY', '14:00:00', '16:00'), w('MONDAY', '09:00', '12:00')])).toEqual([
      w('MONDAY', '09:00', '12:00'),
      w('TUESDAY', '14:00', '16:00'),
    ]);
  });

  it('rejects end before start, overlaps, odd slot lengths and seconds', () => {
    expect(() => normaliseSchedule([w('MONDAY', '12:00', '09:00')])).toThrow(/must be after start/);
    expect(() => normaliseSchedule([w('MONDAY', '09:00', '12:00'), w('MONDAY', '11:00', '13:00')])).toThrow(/overlap on MONDAY/);
    expect(() => normaliseSchedule([w('MONDAY', '09:00', '09:20', 30)])).toThrow(/shorter than one/);
    expect(() => normaliseSchedule([w('MONDAY', '09:00', '12:00', 2)])).toThrow(/between 5 and 480/);
    expect(() => normaliseSchedule([w('MONDAY', '09:00:30', '12:00')])).toThrow(/whole minute/);
  });
});

describe('slot arithmetic', () => {
  /** Every slot placed by luxon, day by day: what slotsBetween computed before its arithmetic fast path. */
  function luxonSlots(schedule: ScheduleWindowDoc[], zone: string, from: Date, to: Date): string[] {
    const out: string[] = [];
    const lastDay = DateTime.fromJSDate(to, { zone }).startOf('day');
    for (let day = DateTime.fromJSDate(from, { zone }).startOf('day'); day <= lastDay; day = day.plus({ days: 1 })) {
      for (const w of schedule.filter((x) => x.weekday === WEEKDAYS[day.weekday - 1])) {
        const [sh, sm] = w.start.split(':').map(Number);
        const [eh, em] = w.end.split(':').map(Number);
        for (let m = sh * 60 + sm; m + w.slotMinutes <= eh * 60 + em; m += w.slotMinutes) {
          const start = day.set({ hour: Math.floor(m / 60), minute: m % 60 });
          const end = start.plus({ minutes: w.slotMinutes });
          if (start.toMillis() >= from.getTime() && end.toMillis() <= to.getTime()) out.push(`${start.toISO()}/${end.toISO()}`);
        }
      }
    }
    return out;
  }

  it('places every slot of a year where luxon does, daylight-saving days and odd offsets included', () => {
    // Night windows cross the usual change times (01:00–03:00 local); 45-minute slots fall off the hour.
    const schedule: ScheduleWindowDoc[] = WEEKDAYS.flatMap((weekday) => [
      { weekday, start: '00:00', end: '04:00', slotMinutes: 45 },
      { weekday, start: '09:00', end: '17:00', slotMinutes: 20 },
    ]);
    for (const zone of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham', 'UTC']) {
      for (let month = 0; month < 12; month++) {
        const from = new Date(Date.UTC(2027, month, 1));
        const to = new Date(Date.UTC(2027, month + 1, 1));
        const ours = slotsBetween(schedule, zone, from, to, from).map((s) => `${DateTime.fromJSDate(s.start, { zone }).toISO()}/${DateTime.fromJSDate(s.end, { zone }).toISO()}`);
        expect(ours).toEqual(luxonSlots(schedule, zone, from, to));
      }
    }
  });
});
