import { describe, expect, it } from 'vitest';
import type { TrendPoint } from '../../../../shared/analytics';
import { csvField, csvLine, trendCsv, trendCsvFileName, trendCsvHeader } from './csv';

const point = (day: string, over: Partial<TrendPoint> = {}): TrendPoint => ({
  day,
  totalRequests: 4,
  successfulRequests: 3,
  failedRequests: 1,
  creditsConsumed: 30,
  allowanceCredits: 20,
  platformCredits: 10,
  costUsd: '0.117',
  successRate: 0.75,
  split: {},
  ...over,
});

describe('[CSV] the usage export is RFC 4180 text a spreadsheet opens safely', () => {
  it('quotes fields holding a comma, quote or line break, doubling the quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(0)).toBe('0');
  });

  it('defuses text a spreadsheet would run as a formula, but leaves numbers (negative ones too) alone', () => {
    expect(csvField('=SUM(A1:A9)')).toBe("'=SUM(A1:A9)");
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField('+1 555')).toBe("'+1 555");
    expect(csvField('-x,y')).toBe(`"'-x,y"`);
    expect(csvField('-12.5')).toBe('-12.5');
    expect(csvField(-3)).toBe('-3');
  });

  it('joins a line field by field', () => {
    expect(csvLine(['a', 1, null, 'b,c'])).toBe('a,1,,"b,c"');
  });

  it('writes one row per day with money as the server sent it and CRLF line ends', () => {
    const trend = {
      split: 'none' as const,
      splitValues: [],
      points: [point('2026-11-01'), point('2026-11-02', { totalRequests: 0, successfulRequests: 0, failedRequests: 0, successRate: null, costUsd: '0' })],
    };
    expect(trendCsv(trend)).toBe(
      'day,requests,successful_requests,failed_requests,success_rate,credits,allowance_credits,platform_credits,cost_usd\r\n' +
        '2026-11-01,4,3,1,0.75,30,20,10,0.117\r\n' +
        '2026-11-02,0,0,0,,30,20,10,0\r\n',
    );
    expect(trendCsvFileName(trend)).toBe('usage-2026-11-01-2026-11-02-none.csv');
  });

  it('adds three columns per split value, zero for a day the value did not appear', () => {
    const trend = {
      split: 'provider' as const,
      splitValues: ['fal', 'replicate'],
      points: [point('2026-11-01', { split: { fal: { requests: 4, successfulRequests: 3, credits: 30, costUsd: '0.117' } } })],
    };
    expect(trendCsvHeader(trend).slice(-6)).toEqual([
      'provider:fal:requests',
      'provider:fal:credits',
      'provider:fal:cost_usd',
      'provider:replicate:requests',
      'provider:replicate:credits',
      'provider:replicate:cost_usd',
    ]);
    expect(trendCsv(trend).split('\r\n')[1]).toBe('2026-11-01,4,3,1,0.75,30,20,10,0.117,4,30,0.117,0,0,0');
    expect(trendCsvFileName({ split: 'tier', splitValues: [], points: [] })).toBe('usage-empty-empty-tier.csv');
  });
});
