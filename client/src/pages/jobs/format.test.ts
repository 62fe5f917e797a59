import { describe, expect, it } from 'vitest';
import { describeCron, formatDuration, formatUntil } from './format';

describe('[JOBS] schedules and run times read as plain words', () => {
  it('describes the common cron patterns, with or without a seconds field', () => {
    expect(describeCron('* * * * *')).toBe('every minute');
    expect(describeCron('*/5 * * * *')).toBe('every 5 minutes');
    expect(describeCron('7 * * * *')).toBe('hourly at :07');
    expect(describeCron('30 2 * * *')).toBe('daily at 02:30');
    expect(describeCron('0 0 1 * *')).toBe('monthly on day 1 at 00:00');
    expect(describeCron('0 9 * * 1')).toBe('Mondays at 09:00');
    expect(describeCron('0 9 * * 7')).toBe('Sundays at 09:00');
    expect(describeCron('*/30 * * * * *')).toBe('every 30 seconds');
    expect(describeCron('* * * * * *')).toBe('every second');
    expect(describeCron('0 */5 * * * *')).toBe('every 5 minutes');
  });

  it('gives up (null) on anything it cannot say plainly, so the raw expression stands alone', () => {
    for (const expr of [null, '', '0 0 1 1 *', '0 9 * * 1-5', '15 0 * * * *', '0 0 1 * 1', '0 */2 * * *', 'every day']) expect(describeCron(expr)).toBeNull();
  });

  it('formats durations from milliseconds to minutes', () => {
    expect(formatDuration(35)).toBe('35 ms');
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(42_400)).toBe('42 s');
    expect(formatDuration(250_000)).toBe('4 min 10 s');
    expect(formatDuration(120_000)).toBe('2 min');
    expect(formatDuration(null)).toBe('—');
  });

  it('says how long until a time ahead, and "now" for one just passed', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    const at = (s: number) => new Date(now + s * 1000).toISOString();
    expect(formatUntil(at(30), now)).toBe('in 30 s');
    expect(formatUntil(at(180), now)).toBe('in 3 min');
    expect(formatUntil(at(5 * 3600), now)).toBe('in 5 h');
    expect(formatUntil(at(12 * 86_400), now)).toBe('in 12 d');
    expect(formatUntil(at(-10), now)).toBe('now');
    expect(formatUntil(at(-600), now)).toBe('10 min ago');
    expect(formatUntil('soon', now)).toBe('—');
    expect(formatUntil(null, now)).toBe('—');
  });
});
