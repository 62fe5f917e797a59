import type { z } from 'zod';

export type FieldErrors = Record<string, string>;

/**
 * Validates `values` with a shared zod schema: either the parsed data, or one message per field
 * (the first problem zod found for it; form-level problems under `_form`).
 */
export function validate<S extends z.ZodType>(
  schema: S,
  values: unknown,
): { ok: true; data: z.output<S> } | { ok: false; errors: FieldErrors } {
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path.length ? String(issue.path[0]) : '_form';
    errors[key] ??= capitalise(issue.message);
  }
  return { ok: false, errors };
}

export const capitalise = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);
