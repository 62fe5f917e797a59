import { describe, expect, it } from 'vitest';
import { formatUsdShort } from '../pages/usage/money';
import { estimateUsd, formatCount, formatUsd, microsToDecimal, parseMicros } from './Amount';

describe('[MONEY] the client reads and writes money as decimal strings through integer micro-dollars', () => {
  it('parses a plain decimal into micro-dollars, cutting beyond six decimals, and refuses anything else', () => {
    expect(parseMicros('19.5')).toBe(19_500_000n);
    expect(parseMicros(' 0.000001 ')).toBe(1n);
    expect(parseMicros('-2.25')).toBe(-2_250_000n);
    expect(parseMicros('1.1234567')).toBe(1_123_456n);
    expect(parseMicros('12')).toBe(12_000_000n);
    for (const bad of ['', null, undefined, '1e3', '1,000', '.5', '5.', '$5', 'abc']) expect(parseMicros(bad)).toBeNull();
  });

  it('writes micro-dollars back with grouped thousands, at least the asked decimals and no trailing zeros beyond', () => {
    expect(microsToDecimal(19_500_000n)).toBe('19.50');
    expect(microsToDecimal(39_000n)).toBe('0.039');
    expect(microsToDecimal(12_500_000_000n)).toBe('12,500.00');
    expect(microsToDecimal(-1n)).toBe('-0.000001');
    expect(microsToDecimal(3_000_000n, 0)).toBe('3');
  });

  it('formats dollars with a true minus sign, and an em dash for nothing', () => {
    expect(formatUsd('19.5')).toBe('$19.50');
    expect(formatUsd('0.039')).toBe('$0.039');
    expect(formatUsd('12500')).toBe('$12,500.00');
    expect(formatUsd('-3.1')).toBe('−$3.10');
    expect(formatUsd(null)).toBe('—');
    expect(formatUsd('')).toBe('—');
    // Not a plain decimal: shown as the server sent it rather than guessed at.
    expect(formatUsd('n/a')).toBe('$n/a');
  });

  it('estimates credits × cost per credit exactly (no float drift), only for a whole, non-negative amount', () => {
    expect(estimateUsd(3, '0.1')).toBe('$0.30');
    expect(estimateUsd(1_000_000, '0.000039')).toBe('$39.00');
    expect(estimateUsd(7, '0.333333')).toBe('$2.333331');
    expect(estimateUsd(1.5, '0.1')).toBeNull();
    expect(estimateUsd(-1, '0.1')).toBeNull();
    expect(estimateUsd(1, 'free')).toBeNull();
  });

  it('rounds for reading half away from zero: cents from a dollar up, four decimals below', () => {
    expect(formatUsdShort('19.555')).toBe('$19.56');
    expect(formatUsdShort('1234.994999')).toBe('$1,234.99');
    expect(formatUsdShort('0.03905')).toBe('$0.0391');
    expect(formatUsdShort('0.039')).toBe('$0.039');
    expect(formatUsdShort('-19.555')).toBe('−$19.56');
    expect(formatUsdShort(undefined)).toBe('—');
  });

  it('groups counts in thousands', () => {
    expect(formatCount(12500)).toBe('12,500');
    expect(formatCount(0)).toBe('0');
  });
});
