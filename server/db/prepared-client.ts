import type { Sql } from 'postgres';

type UnsafeOptions = { prepare?: boolean };

/**
 * A postgres.js client whose queries drizzle sends as named prepared statements. drizzle's
 * `db.execute()` and query builder pass `prepare: false` unless a query was `.prepare(name)`d, so
 * PostgreSQL parsed and planned every hot statement on every request (`execute <unnamed>`); with
 * this each connection parses a statement once and then only binds it. The transaction and
 * savepoint clients drizzle is handed are wrapped the same way. postgres.js keeps one statement per
 * distinct SQL text per connection, for the connection's lifetime (30-60 min); the app's texts
 * are a bounded set, its parameters are bound, never spliced.
 */
export function preparedClient<T extends Sql>(client: T): T {
  const wrap = <C extends object>(target: C): C =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver) as unknown;
        if (prop === 'unsafe' && typeof value === 'function') {
          return (query: string, params?: unknown[], options?: UnsafeOptions): unknown => value.call(obj, query, params, { ...options, prepare: true });
        }
        if ((prop === 'begin' || prop === 'savepoint') && typeof value === 'function') {
          return (...args: unknown[]) => {
            const fnAt = args.findIndex((a) => typeof a === 'function');
            if (fnAt >= 0) {
              const fn = args[fnAt] as (tx: object) => unknown;
              args[fnAt] = (tx: object) => fn(wrap(tx));
            }
            return (value as (...a: unknown[]) => unknown).apply(obj, args);
          };
        }
        return value;
      },
    });
  return wrap(client);
}
