import type { z } from 'zod';
// Plain-language messages for zod's built-in checks, in the browser as on the server.
import '../../../shared/zod-messages';
import { capitalise } from '../../../shared/field-messages';

export type FieldErrors = Record<string, string>;

/**
 * Validates `values` with a shared zod schema: either the parsed data, or one message per field
 * (the first problem zod found for it; form-level problems under `_form`).
 */
export function validate<S extends z.ZodType>(schema: S, values: unknown): { ok: true; data: z.output<S> } | { ok: false; errors: FieldErrors } {
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path.length ? String(issue.path[0]) : '_form';
    errors[key] ??= capitalise(issue.message);
  }
  return { ok: false, errors };
}

export { capitalise };

/** The value when the shared schema accepts it, else null: a preview shows only what could happen. */
export function validOrNull<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | null {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
