import { describe, expect, it } from 'vitest';
import { creditsText, usdText, withArticle } from './wording';

describe('wording', () => {
  it('money reads as currency, never as six decimals: 7.800000 → $7.80', () => {
    expect(usdText('7.800000')).toBe('$7.80');
    expect(usdText('0.039000')).toBe('$0.039');
    expect(usdText('-19.3')).toBe('−$19.30');
    expect(usdText('12500')).toBe('$12,500.00');
    expect(usdText('0')).toBe('$0.00');
  });

  it('an upscale, a lighting; 1 credit, 12,500 credits', () => {
    expect(withArticle('upscale')).toBe('an upscale');
    expect(withArticle('lighting')).toBe('a lighting');
    expect(creditsText(1)).toBe('1 credit');
    expect(creditsText(12_500)).toBe('12,500 credits');
  });
});
