/** One data row of a CSV: its 1-based line number, its cells, and its text as typed (for messages). */
export type CsvRow = { line: number; cells: string[]; text: string };

/**
 * RFC 4180 CSV: commas (or semicolons, as spreadsheets in many locales write), double-quoted cells
 * with "" for a quote, CRLF or LF line ends, a leading BOM. Blank lines are skipped. A quoted cell
 * may span lines; its row is numbered by the line it starts on.
 */
export function parseCsv(input: string): CsvRow[] {
  const text = input.replace(/^\ufeff/, '');
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const sep = !firstLine.includes(',') && firstLine.includes(';') ? ';' : ',';
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let rowStart = 0;
  const endRow = (end: number) => {
    cells.push(cell);
    if (cells.length > 1 || cells[0]!.trim() !== '') rows.push({ line: rowLine, cells, text: text.slice(rowStart, end) });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell.trim() === '') {
      cell = '';
      quoted = true;
    } else if (c === sep) {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      endRow(i);
      if (c === '\r' && text[i + 1] === '\n') i++;
      line++;
      rowLine = line;
      rowStart = i + 1;
    } else cell += c;
  }
  if (cell !== '' || cells.length) endRow(text.length);
  return rows;
}
