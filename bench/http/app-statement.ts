import type { SQL } from 'drizzle-orm';
import type { Row, Sql } from 'postgres';
import { compileSql, type SlotValues } from '../../server/db/compiled-sql';

/** A client or a transaction: all a statement needs is `unsafe`. */
type Runner = Pick<Sql, 'unsafe'>;

/**
 * One of the app's own statements, compiled by drizzle once (compileSql, as the app compiles its
 * hot ones) and run with postgres.js prepared, as a floor: the SQL text is the app's byte for byte
 * (a floor that restated it by hand went stale when the app's charge changed), and a call costs
 * only binding its values. Every per-call value is bound as text; the statements cast what they
 * need. `prepare` false sends it unnamed (the unprepared diagnostic).
 */
export function appStatement<K extends string>(build: (values: Record<K, string>) => SQL, names: readonly K[]) {
  type Slots = Record<K, 'text'>;
  const compiled = compileSql(Object.fromEntries(names.map((n) => [n, 'text'])) as Slots, build as (values: SlotValues<Slots>) => SQL);
  return (db: Runner, values: Record<K, string>, prepare = true): Promise<Row[]> => {
    const { sql: text, params } = compiled.query(values as SlotValues<Slots>);
    return db.unsafe(text, params as never[], { prepare });
  };
}
