import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { providerKindSchema, type ProviderInput, type ProviderView } from '../../shared/providers';
import { audit, type Actor } from '../auth/audit';
import type { SecretBox } from '../auth/secrets';
import type { DbOrTx } from '../db/client';
import { col, queryRows } from '../db/rows';
import { DomainError } from '../errors';
import { sameOrigin } from '../net/destination';
import { callStats24h, successRate } from './call-stats';
import type { CircuitBreaker } from './circuit-breaker';
import type { ProviderRegistry } from './registry';
import { apiProviders } from './tables';

/** A provider with its 24 h call figures, last failure and pool balance, as `listProviders` selects it. */
const providerRow = z.object({
  name: col.text,
  kind: providerKindSchema,
  base_url: col.text,
  key_set: col.bool,
  model: col.textOrNull,
  cost_per_request: col.decimal,
  rate_limit_per_minute: col.integer,
  priority: col.integer,
  timeout_ms: col.integer,
  is_active: col.bool,
  health_check_url: col.textOrNull,
  last_health_check: col.textOrNull,
  last_health_ok: col.bool.nullable(),
  last_health_detail: col.textOrNull,
  last_health_error: col.textOrNull,
  last_health_error_at: col.textOrNull,
  archived_at: col.textOrNull,
  calls: col.integer,
  successes: col.integer,
  p50: col.integerOrNull,
  last_error: col.textOrNull,
  last_error_at: col.textOrNull,
  pool_balance: col.integerOrNull,
});

const iso = (c: string) => sql.raw(`to_char(${c} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/**
 * Providers with success rate, median latency and last error over 24 h from provider_calls;
 * archived ones only when asked for.
 */
export async function listProviders(db: DbOrTx, breaker: CircuitBreaker, opts: { includeArchived?: boolean } = {}): Promise<ProviderView[]> {
  const rows = await queryRows(
    db,
    providerRow,
    sql`
    select a.name, a.kind, a.base_url, a.api_key_encrypted is not null as key_set, a.model, a.cost_per_request::text,
      a.rate_limit_per_minute, a.priority, a.timeout_ms, a.is_active, a.health_check_url,
      ${iso('a.last_health_check')} as last_health_check, a.last_health_ok, a.last_health_detail,
      a.last_health_error, ${iso('a.last_health_error_at')} as last_health_error_at, ${iso('a.archived_at')} as archived_at,
      coalesce(c.calls, 0)::int as calls, coalesce(c.successes, 0)::int as successes, c.p50::int as p50,
      e.error as last_error, ${iso('e.created_at')} as last_error_at,
      (select sum(balance)::text from credit_pool_stripes s where s.provider = a.name) as pool_balance
    from api_providers a
    left join lateral (${callStats24h(sql`a.name`)}) c on true
    left join lateral (
      select error, created_at from provider_calls where provider = a.name and outcome = 'failure'
      order by created_at desc limit 1) e on true
    ${opts.includeArchived ? sql`` : sql`where a.archived_at is null`}
    order by (a.archived_at is not null), a.priority, a.cost_per_request, a.name`,
  );
  return Promise.all(
    rows.map(async (r) => ({
      name: r.name,
      kind: r.kind,
      baseUrl: r.base_url,
      apiKeySet: r.key_set,
      model: r.model,
      costPerRequest: r.cost_per_request,
      rateLimitPerMinute: r.rate_limit_per_minute,
      priority: r.priority,
      timeoutMs: r.timeout_ms,
      isActive: r.is_active,
      healthCheckUrl: r.health_check_url,
      lastHealthCheck: r.last_health_check,
      lastHealthOk: r.last_health_ok,
      lastHealthDetail: r.last_health_detail,
      lastHealthError: r.last_health_error,
      lastHealthErrorAt: r.last_health_error_at,
      archivedAt: r.archived_at,
      successRate24h: successRate(r.successes, r.calls),
      calls24h: r.calls,
      latencyP50Ms: r.p50,
      lastError: r.last_error,
      lastErrorAt: r.last_error_at,
      circuit: await breaker.state(r.name),
      poolBalance: r.pool_balance,
    })),
  );
}

/**
 * The key column after a save: a new key replaces it, null removes it, omitted keeps it, except
 * when the base URL moves to another origin: the key is then removed unless entered again, so it
 * is never sent to a destination it was not entered for.
 */
function nextKey(input: ProviderInput, secrets: SecretBox, before: { baseUrl: string; apiKeyEncrypted: string | null } | undefined) {
  if (input.apiKey !== undefined) return { apiKeyEncrypted: input.apiKey === null ? null : secrets.encrypt(input.apiKey) };
  if (before && before.apiKeyEncrypted !== null && !sameOrigin(before.baseUrl, input.baseUrl)) return { apiKeyEncrypted: null };
  return {};
}

function values(input: ProviderInput, secrets: SecretBox, before?: { baseUrl: string; apiKeyEncrypted: string | null }) {
  return {
    kind: input.kind,
    baseUrl: input.baseUrl,
    model: input.model,
    costPerRequest: input.costPerRequest,
    rateLimitPerMinute: input.rateLimitPerMinute,
    priority: input.priority,
    timeoutMs: input.timeoutMs,
    isActive: input.isActive,
    healthCheckUrl: input.healthCheckUrl,
    ...nextKey(input, secrets, before),
  };
}

export const archivedProvider = (name: string) => new DomainError('BAD_REQUEST', 'BAD_REQUEST', `Provider ${name} is archived: restore it first.`);

/** What the audit log keeps of a provider: everything but the key, which it only says is set. */
const auditView = (r: typeof apiProviders.$inferSelect) => {
  const { apiKeyEncrypted, ...rest } = r;
  return { ...rest, apiKeySet: apiKeyEncrypted !== null };
};

export async function saveProvider(db: DbOrTx, secrets: SecretBox, actor: Actor, input: ProviderInput, mode: 'create' | 'update') {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(apiProviders).where(eq(apiProviders.name, input.name)).for('update');
    if (mode === 'create' && before) throw new DomainError('CONFLICT', 'CONFLICT', `A provider named ${input.name} already exists.`);
    if (mode === 'update' && !before) throw new DomainError('NOT_FOUND', 'NOT_FOUND', `No provider named ${input.name}.`);
    if (mode === 'update' && before!.archivedAt) throw archivedProvider(input.name);
    const [after] = before
      ? await tx
          .update(apiProviders)
          .set({ ...values(input, secrets, before), updatedAt: sql`now()` })
          .where(eq(apiProviders.name, input.name))
          .returning()
      : await tx
          .insert(apiProviders)
          .values({ name: input.name, ...values(input, secrets) })
          .returning();
    await audit(tx, actor, {
      action: `provider.${mode}`,
      targetType: 'provider',
      targetId: input.name,
      before: before ? auditView(before) : null,
      after: auditView(after!),
    });
  });
}

/**
 * New priorities from the complete ordered list of the providers not archived: 10, 20, 30…
 * Archived ones are not in the fallback order (a restore puts a provider back at its end).
 */
export async function reorderProviders(db: DbOrTx, actor: Actor, names: string[], reason?: string) {
  return db.transaction(async (tx) => {
    // Locks every provider row: two reorders (or a reorder and an archive) at once apply one after the other.
    const rows = await tx.select({ name: apiProviders.name, priority: apiProviders.priority, archivedAt: apiProviders.archivedAt }).from(apiProviders).for('update');
    const existing = rows.filter((r) => !r.archivedAt).map(({ name, priority }) => ({ name, priority }));
    const known = new Set(existing.map((e) => e.name));
    if (names.length !== existing.length || new Set(names).size !== names.length || !names.every((n) => known.has(n))) {
      throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'names must list every provider that is not archived exactly once, in the new order.');
    }
    for (const [i, name] of names.entries()) {
      await tx
        .update(apiProviders)
        .set({ priority: (i + 1) * 10, updatedAt: sql`now()` })
        .where(eq(apiProviders.name, name));
    }
    await audit(tx, actor, {
      action: 'provider.reorder',
      targetType: 'provider',
      targetId: null,
      before: existing.sort((a, b) => a.priority - b.priority).map((e) => e.name),
      after: names,
      reason: reason ?? null,
    });
  });
}

export async function setProviderActive(db: DbOrTx, actor: Actor, input: { name: string; isActive: boolean; reason?: string }) {
  return db.transaction(async (tx) => {
    const [current] = await tx.select({ archivedAt: apiProviders.archivedAt }).from(apiProviders).where(eq(apiProviders.name, input.name)).for('update');
    if (!current) throw new DomainError('NOT_FOUND', 'NOT_FOUND', `No provider named ${input.name}.`);
    if (current.archivedAt) throw archivedProvider(input.name);
    await tx
      .update(apiProviders)
      .set({ isActive: input.isActive, updatedAt: sql`now()` })
      .where(eq(apiProviders.name, input.name));
    await audit(tx, actor, {
      action: input.isActive ? 'provider.enable' : 'provider.disable',
      targetType: 'provider',
      targetId: input.name,
      after: { isActive: input.isActive },
      reason: input.reason ?? null,
    });
  });
}

/**
 * Runs the provider's health check now and stores the outcome; the circuit breaker hears it too, so
 * routing skips a provider whose check failed until a check (or a trial request) passes.
 */
export async function checkProviderHealth(db: DbOrTx, gateway: { registry: ProviderRegistry; breaker: CircuitBreaker; now: () => number }, name: string) {
  const { registry } = gateway;
  const [row] = await db.select().from(apiProviders).where(eq(apiProviders.name, name));
  if (!row) throw new DomainError('NOT_FOUND', 'NOT_FOUND', `No provider named ${name}.`);
  const adapter = registry.adapterFor({
    name: row.name,
    kind: row.kind as ProviderView['kind'],
    base_url: row.baseUrl,
    api_key_encrypted: row.apiKeyEncrypted,
    model: row.model,
    health_check_url: row.healthCheckUrl,
    updated_at: row.updatedAt.toISOString(),
  });
  const result = await adapter.healthCheck(AbortSignal.timeout(Math.min(row.timeoutMs, 10_000))).catch((err: Error) => ({
    ok: false,
    latencyMs: 0,
    detail: err.message,
  }));
  await db
    .update(apiProviders)
    .set({
      lastHealthCheck: sql`now()`,
      lastHealthOk: result.ok,
      lastHealthDetail: result.detail,
      // A failure is kept with its time until the next failure, so a passing check does not hide it.
      ...(result.ok ? {} : { lastHealthError: result.detail ?? 'no answer', lastHealthErrorAt: sql`now()` }),
    })
    .where(eq(apiProviders.name, name));
  await gateway.breaker.onHealthCheck(name, result.ok, gateway.now());
  return { name, ok: result.ok, latencyMs: Math.round(result.latencyMs), detail: result.detail };
}
