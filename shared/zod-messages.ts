import { z } from 'zod';

/**
 * Plain-language messages for zod's built-in checks ("must be at least 0" rather than zod's
 * "Too small: expected number to be >=0"). They start lower-case and name no field: the server
 * puts the field's name in front for API callers, a form shows them under the labelled field.
 * Messages written in the shared schemas themselves take precedence over these.
 */
const count = (n: number | bigint) => (typeof n === 'bigint' ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 6 }));
const plural = (n: number | bigint, word: string) => `${count(n)} ${word}${Number(n) === 1 ? '' : 's'}`;

const typeWords: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  date: 'a date',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

const formatWords: Record<string, string> = {
  email: 'a valid email address',
  url: 'a full address such as https://example.com',
  uuid: 'an id like 123e4567-e89b-12d3-a456-426614174000',
  datetime: 'a date and time such as 2026-01-31T12:00:00Z',
  date: 'a date such as 2026-01-31',
  time: 'a time such as 12:00',
};

function tooSmall(origin: string, minimum: number | bigint, inclusive: boolean | undefined): string {
  if (origin === 'string') return Number(minimum) <= 1 ? 'must not be empty' : `must be at least ${plural(minimum, 'character')}`;
  if (origin === 'array' || origin === 'set') return `must have at least ${plural(minimum, 'item')}`;
  if (origin === 'date') return `must not be before ${new Date(Number(minimum)).toISOString().slice(0, 10)}`;
  return inclusive === false ? `must be more than ${count(minimum)}` : `must be at least ${count(minimum)}`;
}

function tooBig(origin: string, maximum: number | bigint, inclusive: boolean | undefined): string {
  if (origin === 'string') return `must be at most ${plural(maximum, 'character')}`;
  if (origin === 'array' || origin === 'set') return `must have at most ${plural(maximum, 'item')}`;
  if (origin === 'date') return `must not be after ${new Date(Number(maximum)).toISOString().slice(0, 10)}`;
  return inclusive === false ? `must be less than ${count(maximum)}` : `must be at most ${count(maximum)}`;
}

export const plainZodMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      if (typeof issue.input === 'number' && Number.isNaN(issue.input)) return `must be ${typeWords[issue.expected] ?? 'a number'}`;
      return `must be ${typeWords[issue.expected] ?? issue.expected}`;
    case 'too_small':
      return tooSmall(issue.origin, issue.minimum, issue.inclusive);
    case 'too_big':
      return tooBig(issue.origin, issue.maximum, issue.inclusive);
    case 'invalid_format':
      return issue.format === 'regex' ? 'is not in the expected format' : `must be ${formatWords[issue.format] ?? `a valid ${issue.format}`}`;
    case 'not_multiple_of':
      return `must be a multiple of ${count(issue.divisor)}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `has ${issue.keys.length === 1 ? 'a field' : 'fields'} it does not know: ${issue.keys.join(', ')}`;
    case 'invalid_union':
      return 'is not valid here';
    default:
      return undefined;
  }
};

z.config({ customError: plainZodMessages });
