import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { migrationsFolder } from '../db/migrate';

export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const databaseUrl = (name: string) => {
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
};

/**
 * A test database's name carries its creation time, so the clean-up of killed runs' leftovers can
 * tell a database created a moment ago (by another run on this machine, not yet connected to) from
 * an abandoned one.
 */
export const testDatabaseName = () => `cd_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

/** When a test database was created, from its name; null for names without a time. */
export function testDatabaseCreatedAt(name: string): Date | null {
  const m = /^cd_t_([0-9a-z]{8,9})_[0-9a-f]+$/.exec(name);
  return m ? new Date(parseInt(m[1]!, 36)) : null;
}

/** A connection to the maintenance database, for CREATE/DROP DATABASE. */
export const adminSql = () => postgres(TEST_PG_URL, { max: 1, onnotice: () => {} });

/** The template's name changes with the migrations, so a stale template is never reused. */
export function templateName(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsFolder)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    hash.update(file).update(readFileSync(path.join(migrationsFolder, file)));
  }
  return `cd_template_${hash.digest('hex').slice(0, 12)}`;
}
