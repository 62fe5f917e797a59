/**
 * How a field error reads to a person: the field's name as words ("currentPassword" →
 * "Current password") and its message without the name the shared schemas start some messages
 * with for API callers ("costPerCredit must be a decimal…" → "Must be a decimal…").
 */

const acronyms: Record<string, string> = { url: 'URL', id: 'ID', usd: 'USD', api: 'API', ip: 'IP', sms: 'SMS', smtp: 'SMTP', totp: 'TOTP' };

/** `currentPassword` → `Current password`, `range.from` → `From`, `items.2.amount` → `Amount`. */
export function fieldLabel(path: string): string {
  const last =
    path
      .split('.')
      .filter((p) => !/^\d+$/.test(p))
      .pop() ?? path;
  const words = last
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .split(' ')
    .filter(Boolean)
    .map((w) => acronyms[w] ?? w);
  const text = words.join(' ');
  return text ? text[0]!.toUpperCase() + text.slice(1) : path;
}

export const capitalise = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

/** The message as it reads under its field: capitalised, without a leading field name. */
export function fieldMessage(path: string, message: string): string {
  const key = path.split('.').pop() ?? path;
  const lower = message ? message[0]!.toLowerCase() + message.slice(1) : message;
  if (key && lower.startsWith(`${key} `)) {
    let rest = lower.slice(key.length + 1);
    if (rest.startsWith('is required')) rest = rest.slice(3);
    return capitalise(rest);
  }
  // zod's own "is required" (the error map names no field) reads as a bare "Required" under it.
  if (message.startsWith('is required')) return capitalise(message.slice(3));
  return capitalise(message);
}
