import { SQL, type QueryWithTypings as Query } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';

/** What a slot of a compiled statement binds: text or an integer, each nullable when its kind ends in `?`. */
type SlotKind = 'text' | 'text?' | 'int' | 'int?';
export type Slots = Record<string, SlotKind>;
type SlotValue<K extends SlotKind> = K extends 'int' ? number : K extends 'int?' ? number | null : K extends 'text?' ? string | null : string;
const nullable = (kind: SlotKind) => kind.endsWith('?');
export type SlotValues<S extends Slots> = { [P in keyof S]: SlotValue<S[P]> };

/**
 * A statement already turned into text and parameters: `db.execute` hands drizzle's dialect this
 * SQL, whose `toQuery` returns them as they are instead of walking the chunks again.
 */
class CompiledSql extends SQL {
  constructor(private readonly query: Query) {
    super([]);
    // Spliced into another sql`` template it would vanish silently (no chunks): refuse loudly instead.
    Object.defineProperty(this, 'queryChunks', {
      get() {
        throw new Error('a compiled statement runs on its own: it cannot be part of another statement');
      },
    });
  }

  override toQuery(): Query {
    return this.query;
  }
}

/** A compiled statement: called, an SQL for `db.execute`; `query`, its text and bound parameters for a bare client. */
export type CompiledStatement<S extends Slots> = ((values: SlotValues<S>) => SQL) & { query: (values: SlotValues<S>) => Query };

const dialect = new PgDialect();

function sentinels<S extends Slots>(slots: S, set: 0 | 1): SlotValues<S> {
  return Object.fromEntries(
    Object.entries(slots).map(([name, kind], i) => [name, kind.startsWith('int') ? 1_000_000_007 + set * 1_000_003 + i * 7_919 : `compiled-sql:${set}:${i}:${name}`]),
  ) as SlotValues<S>;
}

/**
 * A hot statement built by drizzle's `sql` template once, at start-up, instead of on every call:
 * building and compiling the consume statement's nested templates (about 20 parameters) cost
 * 13–23 µs a call, 3.8 µs compiled (bench/README.md). `build` is called twice with two sets of
 * stand-in values, and once more with every nullable slot null; the texts must be equal (the
 * statement's shape cannot depend on its values: a shape is a separate compiled statement), and
 * every parameter is either a slot's value or a constant equal in both, so a value derived from a slot (`-credits`, an encoded
 * date) is refused here rather than frozen at a stand-in. Each call then binds the values into a
 * copy of the parameters and runs through `db.execute` as before (prepared, in a transaction or not,
 * on postgres.js and PGlite alike).
 */
export function compileSql<S extends Slots>(slots: S, build: (values: SlotValues<S>) => SQL): CompiledStatement<S> {
  const names = Object.keys(slots) as (keyof S & string)[];
  const stand = [sentinels(slots, 0), sentinels(slots, 1)] as const;
  const [a, b] = stand.map((values) => dialect.sqlToQuery(build(values)));
  if (a!.sql !== b!.sql) throw new Error('compileSql: the statement text depends on its values');
  const bindings: [at: number, name: keyof S & string][] = [];
  a!.params.forEach((param, at) => {
    const name = names.find((n) => param === stand[0][n]);
    if (name !== undefined && b!.params[at] === stand[1][name]) bindings.push([at, name]);
    else if (!Object.is(param, b!.params[at])) throw new Error(`compileSql: parameter $${at + 1} is derived from a slot; bind it as a slot of its own or compute it in SQL`);
  });
  for (const n of names) if (!bindings.some(([, name]) => name === n)) throw new Error(`compileSql: ${n} is not a parameter of the statement`);
  // A nullable slot's stand-ins are not null; `value ?? sql`...`` would hide a shape chosen by null.
  const nulled = Object.fromEntries(names.map((n) => [n, nullable(slots[n]!) ? null : stand[0][n]])) as SlotValues<S>;
  const withNulls = dialect.sqlToQuery(build(nulled));
  if (withNulls.sql !== a!.sql || bindings.some(([at, name]) => nullable(slots[name]!) && withNulls.params[at] !== null)) throw new Error('compileSql: the statement text depends on its values');
  const { sql: text, params: constants, typings } = a!;
  const query = (values: SlotValues<S>): Query => {
    const params = constants.slice();
    for (const [at, name] of bindings) params[at] = values[name];
    return typings ? { sql: text, params, typings } : { sql: text, params };
  };
  return Object.assign((values: SlotValues<S>): SQL => new CompiledSql(query(values)), { query });
}
