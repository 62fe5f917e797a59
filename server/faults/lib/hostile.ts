import fc from 'fast-check';

/**
 * Hostile values for the HTTP fuzz. Bodies are written as JSON text by `toJsonText`, so a value may
 * carry what `JSON.stringify` cannot: own `__proto__` keys, duplicate keys, and raw number literals
 * such as 1e999 (parsed as Infinity) or -0.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object written key by key, in order, duplicates and `__proto__` included. */
export class Entries {
  constructor(readonly entries: [string, unknown][]) {}
}

export function toJsonText(value: unknown): string | undefined {
  if (value instanceof RawJson) return value.text;
  if (value instanceof Entries) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v) ?? 'null'}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map((v) => toJsonText(v) ?? 'null').join(',')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && Object.getPrototypeOf(value) === Object.prototype) {
    const parts = Object.entries(value)
      .map(([k, v]) => [k, toJsonText(v)] as const)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${v}`);
    return `{${parts.join(',')}}`;
  }
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify(String(value));
  }
}

const nastyStrings = [
  '',
  ' ',
  '\u0000',
  'abc\u0000def-ghijk',
  '\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000',
  "'; drop table users; --",
  "' or '1'='1",
  '" or ""="',
  '1; select pg_sleep(5)',
  '$1',
  '%s%s%n',
  '\\x00',
  '\\',
  '${process.env}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-Infinity',
  '-1',
  '-0',
  '0',
  '1.5',
  '1e309',
  '0x10',
  '9'.repeat(40),
  '\u202egnp.exe',
  '\ud800',
  '\udfff\ud800',
  'e\u0301\u0301\u0301',
  '👨‍👩‍👧‍👦'.repeat(40),
  '\uFEFF',
  '\r\n\t\v\f',
  'ſ', // toLowerCase/upper-case folding surprises
  'İ',
  'a'.repeat(127),
  'a'.repeat(128),
  'a'.repeat(129),
  'a'.repeat(255),
  'x@y',
  'admin@localhost',
  'ADMIN@LOCALHOST',
  ' admin@localhost ',
  'a\u0000b@c',
  'http://169.254.169.254/latest/meta-data',
  'file:///etc/passwd',
  'javascript:alert(1)',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '1',
  '999999999999999999',
  '9223372036854775808',
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...nastyStrings), weight: 5 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary-ascii', minLength: 8, maxLength: 20 }).map((s) => `${s}\u0000`), weight: 1 },
  // Huge, yet under the 1 MB body limit, so they reach the procedure.
  { arbitrary: fc.integer({ min: 1, max: 30 }).map((n) => 'x'.repeat(n * 10_000)), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 2_000 }).map((n) => '\u0000'.repeat(n)), weight: 1 },
);

export const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1.5, 0.1, 2 ** 31, 2 ** 31 - 1, 2 ** 53 + 2, -(2 ** 63), 1e308, Number.MIN_VALUE, 10_001, 100_000_000_000),
  fc.constantFrom(new RawJson('1e999'), new RawJson('-1e999'), new RawJson('-0'), new RawJson('9007199254740993'), new RawJson('1E2'), new RawJson('0.0000001e7')),
  fc.constantFrom('1', '-1', '1.5', 'NaN', 'Infinity', '1e3', ' 1', '0x1', ''),
);

const leaf: fc.Arbitrary<unknown> = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null));

/** Anything: arrays, nested objects with prototype-pollution keys, duplicate keys, JSON values, and fast-check's anything. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: leaf, weight: 6 },
  { arbitrary: fc.array(leaf, { maxLength: 5 }), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
  { arbitrary: fc.anything({ maxDepth: 2 }), weight: 1 },
  {
    arbitrary: fc
      .array(fc.tuple(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toJSON', 'valueOf'), fc.string({ maxLength: 8 })), leaf), { maxLength: 4 })
      .map((e) => new Entries(e)),
    weight: 1,
  },
  { arbitrary: fc.integer({ min: 50, max: 5_000 }).map((depth) => new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`)), weight: 1 },
);

/** Mostly `valid`, sometimes hostile. */
export const field = (valid: fc.Arbitrary<unknown>, validWeight = 3) => fc.oneof({ arbitrary: valid, weight: validWeight }, { arbitrary: hostileValue, weight: 1 });

/**
 * Text that a schema accepts (length min..max) yet is hostile: NUL bytes, lone surrogates, SQL,
 * unicode, prototype names. Valid input is where a bug past validation hides.
 */
export const edgyText = (min: number, max: number): fc.Arbitrary<string> =>
  fc
    .oneof(
      { arbitrary: fc.constantFrom(...nastyStrings), weight: 3 },
      { arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength: Math.min(max, 60) }), weight: 2 },
      { arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 60) }), weight: 1 },
      { arbitrary: fc.tuple(fc.constantFrom(...nastyStrings), fc.constantFrom(...nastyStrings)).map(([a, b]) => `${a}${b}`), weight: 1 },
    )
    .map((s) => (s.length < min ? s.padEnd(min, '\u0000') : s.slice(0, max)));

/**
 * An object with the procedure's keys holding valid or hostile values: mostly every key valid but
 * one (so the call gets past validation and reaches the database with odd values, or is refused
 * for exactly that key), else any mix with keys missing; plus sometimes extra keys (`__proto__`,
 * `constructor`, duplicates of real keys) written into the JSON text.
 */
export function hostileObject(valid: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  const mixed = Object.fromEntries(keys.map((k) => [k, field(valid[k]!)]));
  const extraKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', ...keys), fc.string({ maxLength: 12 }));
  const allButOne = fc.tuple(fc.record(valid), fc.nat(keys.length), hostileValue).map(([obj, i, bad]) => (i < keys.length ? { ...obj, [keys[i]!]: bad } : obj) as Record<string, unknown>);
  return fc
    .tuple(
      fc.oneof({ arbitrary: allButOne, weight: 4 }, { arbitrary: fc.record(mixed), weight: 1 }, { arbitrary: fc.record(mixed, { requiredKeys: [] }), weight: 1 }),
      fc.oneof({ arbitrary: fc.constant([] as [string, unknown][]), weight: 4 }, { arbitrary: fc.array(fc.tuple(extraKey, hostileValue), { minLength: 1, maxLength: 3 }), weight: 1 }),
      fc.boolean(),
    )
    .map(([base, extras, last]) => {
      if (extras.length === 0) return base;
      const entries: [string, unknown][] = Object.entries(base);
      // Extra keys first or last: with duplicates, JSON.parse keeps the last.
      return new Entries(last ? [...entries, ...extras] : [...extras, ...entries]);
    });
}

/** Malformed JSON text derived from a value: truncated, padded, byte-order-marked, or not JSON at all. */
export function malformedText(text: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n)),
    fc.constantFrom(`\uFEFF${text}`, `${text}}`, `${text},`, `${text}\u0000`, `[${text}`, `${text}${text}`, text.replace(/"/g, "'"), text.replace(/:/g, '=')),
    fc.constantFrom('', ' ', 'null', 'undefined', 'NaN', 'Infinity', '{', '}', '[', '"', '{"', '{"a":}', '{,}', '{"a" "b"}', '\u0000', '0', '-', '1e', 'tru', '{"__proto__":'),
    fc.string({ unit: 'binary', maxLength: 60 }),
  );
}
