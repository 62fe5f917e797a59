const pad = (n: number) => String(n).padStart(2, '0');

/** `2025-11-24 13:32` in the viewer's time zone; an em dash for nothing. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** `3 min ago`, `2 h ago`, `5 d ago`, else the date. */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '—';
  const s = Math.round((now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  if (s < 30 * 86_400) return `${Math.round(s / 86_400)} d ago`;
  return formatDateTime(iso).slice(0, 10);
}

const enhancementLabels: Record<string, string> = {
  lighting: 'Lighting',
  upscale: 'Upscale',
  color: 'Colour',
  sharpen: 'Sharpen',
  denoise: 'Denoise',
  style: 'Style',
};

/** `upscale` → `Upscale`: an enhancement type as a person reads it. */
export const enhancementLabel = (type: string) => enhancementLabels[type] ?? type;

export { withArticle } from '../../../shared/wording';
