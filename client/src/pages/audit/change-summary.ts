const show = (v: unknown): string => {
  if (v === undefined) return '—';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What an audit entry changed, one `field: before → after` line per field that differs (at most
 * `max`, then how many more). A created thing (no before) shows its fields as `— → value`, a
 * removed one (no after) as `value → —`.
 */
export function changeLines(before: unknown, after: unknown, max = 4): string[] {
  if (before == null && after == null) return [];
  const b = before == null && isRecord(after) ? {} : before;
  const a = after == null && isRecord(before) ? {} : after;
  if (!isRecord(b) || !isRecord(a)) return [`${show(before ?? undefined)} → ${show(after ?? undefined)}`];
  return fieldLines(b, a, max);
}

function fieldLines(before: Record<string, unknown>, after: Record<string, unknown>, max: number): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  const lines = keys.slice(0, max).map((k) => `${k}: ${show(before[k])} → ${show(after[k])}`);
  if (keys.length > max) lines.push(`…and ${keys.length - max} more`);
  return lines;
}
