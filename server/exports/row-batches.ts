import type { DbHandle } from '../db/client';
import { z } from 'zod';
import { queryRows } from '../db/rows';
import type { ExportSource } from './sources';

type Row = Record<string, unknown>;
/** Export rows stay raw, the same as the cursor path gives them: each source's columns are formatted by the CSV writer. */
const exportRow = z.record(z.string(), z.unknown());

export const EXPORT_BATCH_SIZE = 1_000;

/**
 * An export's rows, a batch at a time, each batch read only when the consumer asks for it: through
 * a server-side cursor on PostgreSQL, by keyset pages (`key > last key`) on PGlite. Either way at
 * most one batch is in memory.
 */
export async function* rowBatches<S extends ExportSource>(handle: DbHandle, source: S, filter: Parameters<S['query']>[0], batchSize = EXPORT_BATCH_SIZE): AsyncGenerator<Row[]> {
  const query = source.query as (f: typeof filter, after: string | null, limit: number | null) => ReturnType<S['query']>;
  if (handle.cursor) {
    for await (const rows of handle.cursor(query(filter, null, null), batchSize)) yield rows;
    return;
  }
  let after: string | null = null;
  for (;;) {
    const rows: Row[] = await queryRows(handle.db, exportRow, query(filter, after, batchSize));
    if (rows.length > 0) yield rows;
    if (rows.length < batchSize) return;
    after = source.key(rows.at(-1)!);
  }
}
