import { desc, eq, isNull, and, sql } from 'drizzle-orm';
import type { ApiKeyView } from '../../shared/auth';
import type { ApiKeyScope } from '../../shared/enums';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { audit, type Actor } from './audit';
import { apiKeys } from './tables';
import { newSecret, sha256 } from './tokens';

const KEY_PREFIX = 'cd_live_';

type ApiKeyRow = typeof apiKeys.$inferSelect;

const toView = (k: ApiKeyRow): ApiKeyView => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes as ApiKeyScope[],
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

/** Creates a key; its secret is returned this once and only its hash is kept. */
export async function createApiKey(
  db: DbOrTx,
  actor: Actor,
  input: { name: string; scopes: ApiKeyScope[] },
): Promise<{ apiKey: ApiKeyView; secret: string }> {
  const secret = newSecret(KEY_PREFIX);
  const scopes = [...new Set(input.scopes)].sort();
  const [row] = await db
    .insert(apiKeys)
    .values({ name: input.name, prefix: secret.slice(0, KEY_PREFIX.length + 6), keyHash: sha256(secret), scopes, createdBy: actor.adminId })
    .returning();
  const apiKey = toView(row!);
  await audit(db, actor, { action: 'apiKey.create', targetType: 'api_key', targetId: apiKey.id, after: apiKey });
  return { apiKey, secret };
}

export async function listApiKeys(db: DbOrTx): Promise<ApiKeyView[]> {
  const rows = await db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
  return rows.map(toView);
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

export type AuthenticatedKey = { id: string; name: string; scopes: ApiKeyScope[] };

/**
 * The active key behind a bearer secret, or null: one indexed read per request. last_used_at is
 * written at most once a minute per key, so a busy key does not turn every request into a write.
 */
export async function authenticateApiKey(db: DbOrTx, secret: string): Promise<AuthenticatedKey | null> {
  if (!secret.startsWith(KEY_PREFIX)) return null;
  const [row] = await db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      scopes: apiKeys.scopes,
      stale: sql<boolean>`(${apiKeys.lastUsedAt} is null or ${apiKeys.lastUsedAt} < now() - interval '1 minute')`,
    })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, sha256(secret)), isNull(apiKeys.revokedAt)));
  if (!row) return null;
  if (row.stale) await db.update(apiKeys).set({ lastUsedAt: sql`now()` }).where(eq(apiKeys.id, row.id));
  return { id: row.id, name: row.name, scopes: row.scopes as ApiKeyScope[] };
}
