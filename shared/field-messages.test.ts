import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldLabel, fieldMessage } from './field-messages';
import './zod-messages';

const messages = (schema: z.ZodType, input: unknown) => schema.safeParse(input).error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

describe('error wording for people', () => {
  it("zod's built-in checks read as plain words, not 'Too small: expected number to be >=0'", () => {
    const schema = z.object({ a: z.number().int().min(0), b: z.string().min(1), c: z.string().max(3), d: z.enum(['x', 'y']), e: z.string().email(), f: z.number().max(100_000) });
    expect(messages(schema, { a: -1, b: '', c: 'abcd', d: 'z', e: 'q', f: 1e6 })).toEqual([
      'a: must be at least 0',
      'b: must not be empty',
      'c: must be at most 3 characters',
      'd: must be one of x, y',
      'e: must be a valid email address',
      'f: must be at most 100,000',
    ]);
    expect(messages(z.object({ n: z.number().int() }), { n: 1.5 })).toEqual(['n: must be a whole number']);
    expect(messages(z.object({ n: z.number() }), { n: Number.NaN })).toEqual(['n: must be a number']);
    expect(messages(z.object({ n: z.number() }), {})).toEqual(['n: is required']);
  });

  it('a message written in a schema wins over the plain default', () => {
    expect(messages(z.object({ r: z.string().min(3, 'a reason of at least 3 characters is required') }), { r: '' })).toEqual(['r: a reason of at least 3 characters is required']);
  });

  it('field paths become labels: currentPassword → Current password, range.from → From, inputImageUrl → Input image URL', () => {
    expect(fieldLabel('currentPassword')).toBe('Current password');
    expect(fieldLabel('range.from')).toBe('From');
    expect(fieldLabel('items.2.amount')).toBe('Amount');
    expect(fieldLabel('inputImageUrl')).toBe('Input image URL');
  });

  it('a message under its field drops the field name the API message starts with', () => {
    expect(fieldMessage('costPerCredit', 'costPerCredit must be a decimal string such as "0.039"')).toBe('Must be a decimal string such as "0.039"');
    expect(fieldMessage('currentPassword', 'currentPassword is required')).toBe('Required');
    expect(fieldMessage('amount', 'is required')).toBe('Required');
    expect(fieldMessage('name', 'provider must be at least 2 characters')).toBe('Provider must be at least 2 characters');
  });
});
