import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ExtractTablesWithRelations, SQL } from 'drizzle-orm';
import { PgDialect, type PgDatabase, type PgQueryResultHKT, type PgTransaction } from 'drizzle-orm/pg-core';
import { preparedClient } from './prepared-client';

// No schema is handed to drizzle: the app never uses its relational `db.query` API, and with a
// schema every transaction and savepoint built a relational query builder per table (45 of them,
// about 11 µs per transaction measured alone).
type Schema = Record<string, never>;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Every data function takes this first, so it runs alone or inside a caller's transaction. */
export type DbOrTx = Db | Tx;

export type DbHandle = {
  db: Db;
  kind: 'postgres' | 'pglite';
  close: () => Promise<void>;
  ping: () => Promise<boolean>;
  /** LISTEN on a channel: a NOTIFY arrives once its transaction commits. Resolves to the unlisten. */
  listen: (channel: string, onMessage: (payload: string) => void) => Promise<() => Promise<void>>;
  /**
   * Reads a query's rows through a server-side cursor, `batchSize` at a time, fetching the next
   * batch only when the consumer asks (exports). Null on PGlite, which has one connection: a
   * cursor would hold its transaction open and stall every other query, so callers page instead.
   */
  cursor: ((query: SQL, batchSize: number) => AsyncIterable<Record<string, unknown>[]>) | null;
};

export type OpenDbOptions = {
  databaseUrl?: string;
  dataDir: string;
  maxConnections?: number;
  /** Named prepared statements (default on); off for a pooler that cannot keep them (PgBouncer < 1.21 in transaction mode). */
  prepare?: boolean;
};

/** Opens real PostgreSQL when a URL is given, else the embedded PGlite under the data directory. */
export async function openDb(opts: OpenDbOptions): Promise<DbHandle> {
  if (opts.databaseUrl) {
    const { default: postgres } = await import('postgres');
    const { drizzle } = await import('drizzle-orm/postgres-js');
    const client = postgres(opts.databaseUrl, {
      max: opts.maxConnections ?? 20,
      onnotice: () => {},
      connect_timeout: 10,
      // The app's queries are short; JIT compilation cost hundreds of ms on small, rarely analysed
      // tables (measured: the dashboard's provider query, 2 ms of work, 326 ms of JIT).
      connection: { jit: 'off' },
    });
    const db = drizzle({ client: opts.prepare === false ? client : preparedClient(client) }) as unknown as Db;
    const dialect = new PgDialect();
    return {
      db,
      kind: 'postgres',
      cursor: (query, batchSize) => {
        const { sql, params } = dialect.sqlToQuery(query);
        return client.unsafe(sql, params as never[]).cursor(batchSize) as AsyncIterable<Record<string, unknown>[]>;
      },
      close: () => client.end({ timeout: 5 }),
      listen: async (channel, onMessage) => {
        const meta = await client.listen(channel, onMessage);
        return () => meta.unlisten();
      },
      ping: async () => {
        try {
          await client`select 1`;
          return true;
        } catch {
          return false;
        }
      },
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const dir = path.resolve(opts.dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzle({ client }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    cursor: null,
    close: () => client.close(),
    listen: async (channel, onMessage) => {
      const unlisten = await client.listen(channel, onMessage);
      return () => unlisten();
    },
    ping: async () => {
      try {
        await client.query('select 1');
        return true;
      } catch {
        return false;
      }
    },
  };
}
