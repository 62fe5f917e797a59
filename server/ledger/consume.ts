import { and, eq, sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import { pgErrorCode, UNIQUE_VIOLATION } from '../db/errors';
import { col, queryOne } from '../db/rows';
import { chargeCtes, chargedRow } from './charge-sql';
import { chargeShapesFor, compileEachShape, noteChargeSource, type ChargeShape } from './charge-shapes';
import type { ConsumeInput, ConsumeResult } from '../../shared/credits';
import type { DbOrTx } from '../db/client';
import { debitEntryColumns, debitUser, type OverflowGate } from './debit';
import { drawProviderLeg } from './provider-leg';
import { idempotencyConflict, idempotencyKeyTaken, ReplayDetected } from './errors';
import { boundToCaller, requestHash, sameRequest } from './request-hash';
import { creditTransactions } from './tables';
import { creditsConsumed } from '../ops/metrics';
import { DomainError } from '../errors';

const ZERO_USD = '0.000000';

/** What a one-statement charge returns: its entry's id, the balance after, the tier, where it came from. */
const chargedEntryRow = chargedRow.pick({ balance_after: true, tier: true, source: true }).extend({ id: col.id });

/**
 * Looks up the first result recorded under an idempotency key; a different input, or another API
 * key (its entry's fingerprint is bound to the key that made it), is a conflict.
 */
async function priorConsume(db: DbOrTx, key: string, hash: string, bound: string): Promise<ConsumeResult | null> {
  const [prior] = await db
    .select()
    .from(creditTransactions)
    .where(and(eq(creditTransactions.idempotencyKey, key), eq(creditTransactions.transactionType, 'consumption')));
  if (!prior) {
    const [other] = await db.select({ id: creditTransactions.id }).from(creditTransactions).where(eq(creditTransactions.idempotencyKey, key));
    if (other) throw idempotencyConflict();
    return null;
  }
  if (!sameRequest(prior, hash, bound)) throw idempotencyKeyTaken();
  return {
    transactionId: String(prior.id),
    source: prior.source as ConsumeResult['source'],
    creditsConsumed: prior.creditsUsed,
    remainingBalance: prior.balanceAfter,
    costUsd: prior.costUsd ?? ZERO_USD,
  };
}

/** What the one-statement consume binds: every value of the statement is one of these. */
const chargeSlots = { userId: 'text', credits: 'int', enhancementType: 'text', moodboardId: 'text?', idempotencyKey: 'text', hash: 'text' } as const;
type ChargeStatementInput = { userId: string; credits: number; enhancementType: string; moodboardId?: string | null; idempotencyKey: string };

/**
 * The common charge as one statement: the allowance debit (or, with `overflow`, the platform's
 * overflow when the allowance does not pay: chargeCtes) and its `consumption` entry as
 * data-modifying CTEs. Exported so the HTTP benchmark's floors run this very statement.
 */
export const consumeStatementSql = (input: ChargeStatementInput, hash: string, shape: ChargeShape) =>
  sql`
    with ${chargeCtes(input.userId, input.credits, shape)}
    , entry as (
      insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, bonus_credits, balance_after,
        source, tier, cost_usd, enhancement_type, moodboard_id, idempotency_key, request_hash)
      select ${input.userId}, 'consumption', ${input.credits}, case when source = 'user_credits' then -${input.credits}::int else 0 end, bonus_used, balance_after,
        source, tier, ${ZERO_USD}, ${input.enhancementType}, ${input.moodboardId ?? null}, ${input.idempotencyKey}, ${hash}
      from charged
      returning id
    )
    select entry.id::text as id, charged.balance_after, charged.tier, charged.source from charged, entry`;

const consumeStatements = compileEachShape(chargeSlots, (v, shape) => consumeStatementSql(v, v.hash, shape));

/**
 * The common cases in one statement (so one round trip, atomic without an explicit transaction):
 * the conditional debit, or the overflow the platform's own rule allows (the allowance spent, the
 * tier with pool access, the month's overflow within the tier's cap, some unsuspended pool able to
 * pay: the usage and overflow counters move, the user pays nothing), and its ledger entry, as
 * data-modifying CTEs. Each condition is re-checked on the row it locks, so concurrent charges
 * cannot pass it together. No row means the slow path must decide (first sight, due reset, grants
 * to spend, refusal); a unique violation on the idempotency key fails the whole statement, debit
 * included — a replay. The user_credits trigger adds the credits.low / credits.depleted webhook
 * event to this same statement when the debit crosses (ADR 012).
 */
async function consumeInOneStatement(db: DbOrTx, input: ConsumeInput, hash: string, shape: ChargeShape): Promise<ConsumeResult | null> {
  const { userId, credits, enhancementType, idempotencyKey } = input;
  const row = await queryOne(db, chargedEntryRow, consumeStatements[shape]({ userId, credits, enhancementType, moodboardId: input.moodboardId ?? null, idempotencyKey, hash }));
  if (!row) return null;
  noteChargeSource(input.userId, row.source);
  creditsConsumed.inc({ source: row.source, tier: row.tier }, input.credits);
  return { transactionId: row.id, source: row.source, creditsConsumed: input.credits, remainingBalance: row.balance_after, costUsd: ZERO_USD };
}

/** A charge and the API key asking for it (none: the server's own callers). */
export type ConsumeRequest = ConsumeInput & { apiKeyId?: string | null };

/** With a provider named, its pool decides whether the platform can pay: no second, looser check. */
const drawDecides: OverflowGate = async () => {};

/**
 * Charges credits at once (no hold). Without a `provider` it is the user leg only; with one, that
 * provider's pool pays the provider leg in the same transaction and the entry carries its cost, so
 * either both legs happen or neither does. A replayed key returns the first result and charges
 * nothing more, under any concurrency: the unique key makes a second insert roll back its charges.
 * The key belongs to the API key that first used it: another key's replay is IDEMPOTENCY_CONFLICT.
 */
export async function consumeCredits(db: DbOrTx, input: ConsumeRequest, overflowGate?: OverflowGate): Promise<ConsumeResult> {
  const inputHash = requestHash('consume', {
    userId: input.userId,
    credits: input.credits,
    enhancementType: input.enhancementType,
    moodboardId: input.moodboardId,
    // Only when named, so the keys of charges without one hash as they always have.
    ...(input.provider ? { provider: input.provider } : {}),
  });
  // The entry has no column for the API key: its fingerprint carries it, so another key's replay is a conflict.
  const hash = boundToCaller(inputHash, input.apiKeyId);
  try {
    // Inside a caller's transaction a unique violation would abort that transaction: go the savepoint way.
    // A provider leg needs the transaction too; the one-statement paths charge the user leg alone.
    if (!(db instanceof PgTransaction) && !input.provider) {
      // The one-statement overflow applies the platform's own rule; a caller's gate takes the slow path.
      for (const shape of chargeShapesFor(input.userId, !overflowGate)) {
        const fast = await consumeInOneStatement(db, input, hash, shape);
        if (fast) return fast;
      }
    }
    const charged = await db.transaction(async (tx) => {
      const debit = await debitUser(tx, input.userId, input.credits, overflowGate ?? (input.provider ? drawDecides : undefined));
      const costUsd = input.provider ? (await drawProviderLeg(tx, input.provider, input.credits)).costUsd : ZERO_USD;
      const [row] = await tx
        .insert(creditTransactions)
        .values({
          userId: input.userId,
          transactionType: 'consumption',
          ...debitEntryColumns(debit, input.credits),
          costUsd,
          provider: input.provider ?? null,
          enhancementType: input.enhancementType,
          moodboardId: input.moodboardId ?? null,
          idempotencyKey: input.idempotencyKey,
          requestHash: hash,
        })
        .onConflictDoNothing({ target: creditTransactions.idempotencyKey })
        .returning({ id: creditTransactions.id, costUsd: creditTransactions.costUsd });
      if (!row) throw new ReplayDetected();
      const result: ConsumeResult = {
        transactionId: String(row.id),
        source: debit.source,
        creditsConsumed: input.credits,
        remainingBalance: debit.balanceAfter,
        costUsd: row.costUsd ?? ZERO_USD,
      };
      return { result, tier: debit.tier };
    });
    // Counted once the charge's transaction has returned (every caller passes the pool, not a transaction).
    creditsConsumed.inc({ source: charged.result.source, tier: charged.tier }, input.credits);
    return charged.result;
  } catch (err) {
    // A replay whose first run already spent the balance is refused by the debit: the key decides.
    if (err instanceof ReplayDetected || err instanceof DomainError || pgErrorCode(err) === UNIQUE_VIOLATION) {
      const prior = await priorConsume(db, input.idempotencyKey, inputHash, hash);
      if (prior) return prior;
    }
    throw err;
  }
}
