/**
 * Credits are integers, money is a decimal string (never a float): these helpers format both and
 * do the little money arithmetic the pages show (estimates, what is left of a budget) in BigInt.
 */

const countFormat = new Intl.NumberFormat('en-US');

/** `12,500`. */
export const formatCount = (n: number) => countFormat.format(n);

/** A signed change of credits: `+5` in green, `−3` in red. */
export function Delta({ value }: { value: number }) {
  if (value === 0) return <span className="muted">0</span>;
  return <span className={value > 0 ? 'delta-plus' : 'delta-minus'}>{value > 0 ? `+${formatCount(value)}` : `−${formatCount(-value)}`}</span>;
}

const SCALE = 6;
const UNIT = 10n ** BigInt(SCALE);

/** "19.5" → 19500000n (micro-dollars); null when it is not a plain decimal. */
export function parseMicros(usd: string | null | undefined): bigint | null {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec((usd ?? '').trim());
  if (!m) return null;
  const frac = (m[3] ?? '').slice(0, SCALE).padEnd(SCALE, '0');
  const v = BigInt(m[2]!) * UNIT + BigInt(frac);
  return m[1] ? -v : v;
}

/** Micro-dollars back to a decimal string with at least `minDecimals`, trailing zeros beyond trimmed. */
export function microsToDecimal(micros: bigint, minDecimals = 2): string {
  const neg = micros < 0n;
  const abs = neg ? -micros : micros;
  const whole = abs / UNIT;
  let frac = (abs % UNIT).toString().padStart(SCALE, '0').replace(/0+$/, '');
  if (frac.length < minDecimals) frac = frac.padEnd(minDecimals, '0');
  return `${neg ? '-' : ''}${countFormat.format(whole)}${frac ? `.${frac}` : ''}`;
}

/** `$19.50`, `$0.039`, `$12,500.00`; an em dash for nothing. */
export function formatUsd(usd: string | null | undefined): string {
  const micros = parseMicros(usd);
  if (micros === null) return usd ? `$${usd}` : '—';
  const s = microsToDecimal(micros);
  return s.startsWith('-') ? `−$${s.slice(1)}` : `$${s}`;
}

/** credits × cost per credit as dollars (`$19.50`), or null while the amount is not a whole number. */
export function estimateUsd(credits: number, costPerCredit: string): string | null {
  const cost = parseMicros(costPerCredit);
  if (cost === null || !Number.isSafeInteger(credits) || credits < 0) return null;
  return formatUsd(microsToDecimal(BigInt(credits) * cost, 0).replaceAll(',', ''));
}
