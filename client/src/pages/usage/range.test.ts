import { describe, expect, it } from 'vitest';
import { dayBound } from '../../lib/day-bound';
import { addDays, daysInclusive, isRangeId, isSplit, presetRange } from './range';

describe('[RANGES] usage ranges are UTC calendar days, both ends included', () => {
  it('steps days across month, year and leap-day boundaries', () => {
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(daysInclusive('2026-11-01', '2026-11-30')).toBe(30);
    expect(daysInclusive('2026-11-01', '2026-11-01')).toBe(1);
  });

  it('makes a preset its number of days ending today', () => {
    expect(presetRange('7d', '2026-12-02')).toEqual({ from: '2026-11-26', to: '2026-12-02' });
    expect(presetRange('1y', '2026-12-02')).toEqual({ from: '2025-12-03', to: '2026-12-02' });
    for (const id of ['7d', '30d', '90d', '1y'] as const) {
      const r = presetRange(id, '2026-03-01');
      expect(daysInclusive(r.from, r.to)).toBe(Number.parseInt(id, 10) * (id === '1y' ? 365 : 1));
    }
  });

  it('accepts only known range ids and splits from the URL', () => {
    expect(isRangeId('30d')).toBe(true);
    expect(isRangeId('custom')).toBe(true);
    expect(isRangeId('2w')).toBe(false);
    expect(isRangeId(null)).toBe(false);
    expect(isSplit('provider')).toBe(true);
    expect(isSplit('user')).toBe(false);
  });

  it("turns a day in the viewer's zone into the ISO time of its first or last millisecond", () => {
    const start = dayBound('2026-11-24', false)!;
    const end = dayBound('2026-11-24', true)!;
    expect(new Date(start).getTime()).toBe(new Date(2026, 10, 24).getTime());
    expect(new Date(end).getTime() - new Date(start).getTime()).toBe(new Date(2026, 10, 25).getTime() - new Date(2026, 10, 24).getTime() - 1);
    expect(dayBound('24/11/2026', false)).toBeUndefined();
    expect(dayBound('', true)).toBeUndefined();
  });
});
