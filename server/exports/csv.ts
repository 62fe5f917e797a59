export type CsvValue = string | number | boolean | null | undefined;

// A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection");
// tab and carriage return are included since some apps strip them and read what follows.
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180): quoted when it holds a quote, comma or line break, quotes doubled.
 * Text that a spreadsheet would run as a formula is prefixed with `'`; numbers the export itself
 * produced (a negative credit delta) are data and stay as they are.
 */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record, CRLF-terminated as RFC 4180 has it. */
export const csvLine = (values: readonly CsvValue[]) => `${values.map(csvField).join(',')}\r\n`;
