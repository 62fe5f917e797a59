/** Small pieces of English the server's messages and the pages share. */

/** `an upscale`, `a lighting`: the article that fits the word. */
export const withArticle = (word: string) => `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;

const groups = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/**
 * A decimal money string as a person reads it, without a float: `7.800000` → `$7.80`,
 * `0.039000` → `$0.039`, `-19.3` → `−$19.30`, `12500` → `$12,500.00`. Anything that is not a
 * plain decimal is returned as it is.
 */
export function usdText(amount: string | number): string {
  const text = String(amount).trim();
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return text;
  const frac = (m[3] ?? '').replace(/0+$/, '').padEnd(2, '0');
  return `${m[1] ? '−' : ''}$${groups(m[2]!.replace(/^0+(?=\d)/, ''))}.${frac}`;
}

/** `1 credit`, `12,500 credits`. */
export const creditsText = (n: number) => `${groups(String(n))} credit${n === 1 ? '' : 's'}`;
