import { splitKeys } from '../../../../shared/analytics';

/** Analytics days are UTC calendar days (`YYYY-MM-DD`), as on the server. */
export const toDay = (d: Date) => d.toISOString().slice(0, 10);
export const todayUtc = () => toDay(new Date());
export const addDays = (day: string, n: number) => toDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000));
/** Days in [from, to], both included. */
export const daysInclusive = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;

/** A preset covers its number of days up to and including today: `90 d` is today and the 89 days before. */
export const presets = [
  { id: '7d', label: '7 d', days: 7 },
  { id: '30d', label: '30 d', days: 30 },
  { id: '90d', label: '90 d', days: 90 },
  { id: '1y', label: '1 y', days: 365 },
] as const;
export type PresetId = (typeof presets)[number]['id'];
export type RangeId = PresetId | 'custom';
export const DEFAULT_RANGE: PresetId = '30d';

export function presetRange(id: PresetId, today = todayUtc()): { from: string; to: string } {
  const days = presets.find((p) => p.id === id)!.days;
  return { from: addDays(today, -(days - 1)), to: today };
}

export const isRangeId = (v: string | null): v is RangeId => v === 'custom' || presets.some((p) => p.id === v);

export type Split = (typeof splitKeys)[number];
export const isSplit = (v: string | null): v is Split => !!v && (splitKeys as readonly string[]).includes(v);
export const splitLabels: Record<Split, string> = {
  none: 'No split',
  tier: 'By tier',
  provider: 'By provider',
  enhancementType: 'By enhancement type',
  source: 'By source',
};
/** What a split value means, for chart notes. */
export const splitNotes: Partial<Record<Split, string>> = {
  provider: 'Captures each provider served and its failed attempts; consumptions that name no provider are not in it.',
  source: 'user_credits: the user’s allowance; platform_pool: overflow the platform pays for.',
};
