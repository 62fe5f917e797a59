/**
 * Where in a raw input a string holds a NUL character, as a dotted path, or null. PostgreSQL text
 * cannot store NUL, so such input is refused up front with the field named, for every procedure.
 */
export function findNul(value: unknown, path: string[] = [], depth = 0): string | null {
  if (depth > 32) return null;
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') || 'input' : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = findNul(v, [...path, String(i)], depth + 1);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) return [...path, k.replaceAll('\u0000', '\\0')].join('.');
      const found = findNul(v, [...path, k], depth + 1);
      if (found) return found;
    }
  }
  return null;
}
