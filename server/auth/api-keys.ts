import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { ApiKeyUsageView, ApiKeyView } from '../../shared/auth';
import type { ApiKeyScope } from '../../shared/enums';
import type { DbOrTx } from '../db/client';
import { col, queryOne, queryRows } from '../db/rows';
import { DomainError } from '../errors';
import { audit, type Actor } from './audit';
import { apiKeys } from './tables';
import { newSecret, sha256 } from './tokens';

const KEY_PREFIX = 'cd_live_';
const USAGE_DAYS = 30;

type ApiKeyRow = typeof apiKeys.$inferSelect;

const iso = (d: Date | null) => d?.toISOString() ?? null;

const toView = (k: ApiKeyRow, now = new Date()): ApiKeyView => {
  const inGrace = k.previousExpiresAt !== null && k.previousExpiresAt > now;
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes as ApiKeyScope[],
    createdAt: k.createdAt.toISOString(),
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
    expiresAt: iso(k.expiresAt),
    rotatedAt: iso(k.rotatedAt),
    previousPrefix: inGrace ? k.previousPrefix : null,
    previousExpiresAt: inGrace ? iso(k.previousExpiresAt) : null,
  };
};

const prefixOf = (secret: string) => secret.slice(0, KEY_PREFIX.length + 6);

/** Creates a key; its secret is returned this once and only its hash is kept. */
export async function createApiKey(db: DbOrTx, actor: Actor, input: { name: string; scopes: ApiKeyScope[]; expiresAt?: string | null }): Promise<{ apiKey: ApiKeyView; secret: string }> {
  const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
  if (expiresAt && expiresAt.getTime() <= Date.now()) {
    throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'The expiry must be in the future.', { field: 'expiresAt' });
  }
  const secret = newSecret(KEY_PREFIX);
  const scopes = [...new Set(input.scopes)].sort();
  const [row] = await db
    .insert(apiKeys)
    .values({ name: input.name, prefix: prefixOf(secret), keyHash: sha256(secret), scopes, createdBy: actor.adminId, expiresAt })
    .returning();
  const apiKey = toView(row!);
  await audit(db, actor, { action: 'apiKey.create', targetType: 'api_key', targetId: apiKey.id, after: apiKey });
  return { apiKey, secret };
}

export async function listApiKeys(db: DbOrTx): Promise<ApiKeyView[]> {
  const rows = await db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
  const now = new Date();
  return rows.map((r) => toView(r, now));
}

export async function revokeApiKey(db: DbOrTx, actor: Actor, id: string): Promise<ApiKeyView> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  if (!row) throw new DomainError('NOT_FOUND', 'NOT_FOUND', 'No active API key with that id.');
  const view = toView(row);
  await audit(db, actor, { action: 'apiKey.revoke', targetType: 'api_key', targetId: id, after: view });
  return view;
}

/** Renames a live key or changes its scopes; the secret stays valid. Audited with before and after. */
export async function updateApiKey(db: DbOrTx, actor: Actor, input: { id: string; name: string; scopes: ApiKeyScope[] }): Promise<ApiKeyView> {
  const [before] = await db.select().from(apiKeys).where(eq(apiKeys.id, input.id)).for('update');
  if (!before || before.revokedAt) throw new DomainError('NOT_FOUND', 'NOT_FOUND', 'No active API key with that id.');
  const scopes = [...new Set(input.scopes)].sort();
  const [row] = await db.update(apiKeys).set({ name: input.name, scopes }).where(eq(apiKeys.id, input.id)).returning();
  const apiKey = toView(row!);
  await audit(db, actor, { action: 'apiKey.update', targetType: 'api_key', targetId: input.id, before: toView(before), after: apiKey });
  return apiKey;
}

/**
 * Gives a live key a new secret (returned this once). The replaced secret keeps working for
 * `graceMinutes` so apps can be redeployed without downtime; 0 ends it at once. A secret replaced
 * earlier and still in its grace ends now: only one old secret is ever accepted beside the new one.
 */
export async function rotateApiKey(db: DbOrTx, actor: Actor, input: { id: string; graceMinutes: number }): Promise<{ apiKey: ApiKeyView; secret: string }> {
  const secret = newSecret(KEY_PREFIX);
  const [before] = await db.select().from(apiKeys).where(eq(apiKeys.id, input.id)).for('update');
  if (!before || before.revokedAt) throw new DomainError('NOT_FOUND', 'NOT_FOUND', 'No active API key with that id.');
  if (before.expiresAt && before.expiresAt <= new Date()) {
    throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'This API key has expired; create a new one instead of rotating it.');
  }
  const graceEnds = new Date(Date.now() + input.graceMinutes * 60_000);
  const [row] = await db
    .update(apiKeys)
    .set({
      keyHash: sha256(secret),
      prefix: prefixOf(secret),
      previousKeyHash: before.keyHash,
      previousPrefix: before.prefix,
      previousExpiresAt: graceEnds,
      rotatedAt: new Date(),
    })
    .where(eq(apiKeys.id, input.id))
    .returning();
  const apiKey = toView(row!);
  await audit(db, actor, {
    action: 'apiKey.rotate',
    targetType: 'api_key',
    targetId: input.id,
    before: toView(before),
    after: { ...apiKey, graceMinutes: input.graceMinutes },
  });
  return { apiKey, secret };
}

/** Each key's calls per UTC day over the last 30 days, zero-filled, oldest first. */
export async function apiKeyUsage(db: DbOrTx): Promise<ApiKeyUsageView[]> {
  const rows = await queryRows(
    db,
    z.object({ api_key_id: col.id, day: col.text, calls: col.integer }),
    sql`select k.id as api_key_id, to_char(d.day, 'YYYY-MM-DD') as day, coalesce(u.calls, 0)::int as calls
        from api_keys k
        cross join generate_series((now() at time zone 'UTC')::date - ${USAGE_DAYS - 1}::int, (now() at time zone 'UTC')::date, interval '1 day') as d(day)
        left join api_key_usage_daily u on u.api_key_id = k.id and u.day = d.day::date
        order by k.id, d.day`,
  );
  const byKey = new Map<string, ApiKeyUsageView>();
  for (const r of rows) {
    let usage = byKey.get(r.api_key_id);
    if (!usage) byKey.set(r.api_key_id, (usage = { apiKeyId: r.api_key_id, days: [], total: 0 }));
    usage.days.push({ day: r.day, calls: r.calls });
    usage.total += r.calls;
  }
  return [...byKey.values()];
}

export type AuthenticatedKey = { id: string; name: string; scopes: ApiKeyScope[] };

/** A key check's outcome: the key, or why it was refused in words the calling app's developer can act on. */
export type KeyCheck = { ok: true; key: AuthenticatedKey } | { ok: false; message: string };

export const UNKNOWN_KEY = 'A valid API key is required (Authorization: Bearer <key>).';

/**
 * What a secret's hash finds in api_keys, with the times kept as times: expiry and a rotation's grace
 * are judged against the clock at each request (checkApiKey), never when this was read, so a cached
 * record can never outlive them.
 */
export type ApiKeyRecord = AuthenticatedKey & {
  revoked: boolean;
  expiresAt: Date | null;
  /** The hash is the key's replaced secret (a rotation's old one), accepted until previousExpiresAt. */
  replaced: boolean;
  previousExpiresAt: Date | null;
};

export const isApiKeySecret = (secret: string) => secret.startsWith(KEY_PREFIX);

const apiKeyHashRow = z.object({
  id: col.id,
  name: col.text,
  scopes: z.array(z.string()),
  revoked: col.bool,
  expires_at: col.textOrNull,
  replaced: col.bool,
  previous_expires_at: col.textOrNull,
});

/** The key whose current or replaced secret hashes to `hash`, or null. One indexed read, no writes. */
export async function findApiKeyByHash(db: DbOrTx, hash: string): Promise<ApiKeyRecord | null> {
  const row = await queryOne(
    db,
    apiKeyHashRow,
    sql`select id, name, scopes, revoked_at is not null as revoked, expires_at::text,
          key_hash <> ${hash} as replaced, previous_expires_at::text
        from api_keys where key_hash = ${hash} or previous_key_hash = ${hash}
        limit 1`,
  );
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes as ApiKeyScope[],
    revoked: row.revoked,
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    replaced: row.replaced,
    previousExpiresAt: row.previous_expires_at === null ? null : new Date(row.previous_expires_at),
  };
}

/** Whether a key found by its secret may be used at `now` (ms); refused keys say why. */
export function checkApiKey(k: ApiKeyRecord, now: number): KeyCheck {
  if (k.revoked) return { ok: false, message: 'This API key has been revoked.' };
  if (k.expiresAt && k.expiresAt.getTime() <= now) return { ok: false, message: `This API key expired at ${k.expiresAt.toISOString()}.` };
  if (k.replaced && k.previousExpiresAt && k.previousExpiresAt.getTime() <= now) {
    return { ok: false, message: `This API key secret was replaced by a rotation and stopped working at ${k.previousExpiresAt.toISOString()}; use the new secret.` };
  }
  return { ok: true, key: { id: k.id, name: k.name, scopes: k.scopes } };
}
