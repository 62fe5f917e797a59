import pino, { type Logger } from 'pino';

/** A logger that keeps what the server logs (warn and above), so a failure can show it. */
export function capturingLogger(): { log: Logger; lines: string[]; since: (mark: number) => string } {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line.trimEnd()) });
  return { log, lines, since: (mark) => lines.slice(mark).join('\n') };
}
