import { formatUsd, microsToDecimal, parseMicros } from '../../components/Amount';

/**
 * A money string rounded for reading, in integer micro-dollars (never a float): cents from a
 * dollar up, four decimals below one (`$0.0390` stays readable as `$0.039`). Half away from zero.
 */
export function formatUsdShort(usd: string | null | undefined): string {
  const micros = parseMicros(usd);
  if (micros === null) return formatUsd(usd);
  const abs = micros < 0n ? -micros : micros;
  const step = abs >= 1_000_000n ? 10_000n : 100n;
  const rounded = ((abs + step / 2n) / step) * step;
  return formatUsd(microsToDecimal(micros < 0n ? -rounded : rounded).replaceAll(',', ''));
}
