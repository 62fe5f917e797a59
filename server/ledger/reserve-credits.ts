import { eq, sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { creditSourceSchema, type ReserveInput, type ReserveResult } from '../../shared/credits';
import type { DbOrTx } from '../db/client';
import { pgErrorCode, UNIQUE_VIOLATION } from '../db/errors';
import { col, queryOne } from '../db/rows';
import { isoUtc } from '../db/sql-helpers';
import { DomainError } from '../errors';
import { chargeCtes } from './charge-sql';
import { chargeShapesFor, compileEachShape, noteChargeSource, type ChargeShape } from './charge-shapes';
import { debitEntryColumns, debitUser, type OverflowGate } from './debit';
import { idempotencyConflict, ReplayDetected } from './errors';
import { requestHash } from './request-hash';
import { creditReservations, creditTransactions } from './tables';

export const DEFAULT_HOLD_SECONDS = 300;

async function priorReserve(db: DbOrTx, key: string, hash: string, apiKeyId: string | null): Promise<ReserveResult | null> {
  const [prior] = await db.select().from(creditReservations).where(eq(creditReservations.idempotencyKey, key));
  if (!prior) return null;
  // Another key's idempotency key does not reveal that key's hold.
  if (prior.requestHash !== hash || prior.apiKeyId !== apiKeyId) throw idempotencyConflict();
  return { reservationId: prior.id, source: prior.source as ReserveResult['source'], expiresAt: prior.expiresAt.toISOString() };
}

type HoldRequest = ReserveInput & { apiKeyId?: string | null };

/** What the one-statement hold binds: every value of the statement is one of these. */
export const holdSlots = {
  userId: 'text',
  credits: 'int',
  ttl: 'int',
  idempotencyKey: 'text',
  hash: 'text',
  enhancementType: 'text',
  moodboardId: 'text?',
  apiKeyId: 'text?',
} as const;
type HoldStatementInput = { userId: string; credits: number; idempotencyKey: string; enhancementType: string; moodboardId?: string | null; apiKeyId?: string | null };

/**
 * The one-statement hold's CTEs, ending in `hold` (id, expires_at, source) and its `entry`, for a
 * statement that does more in the same round trip (the gateway's opening statement) to build on.
 */
export function holdCtes(input: HoldStatementInput, ttl: number, hash: string, shape: ChargeShape) {
  return sql`${chargeCtes(input.userId, input.credits, shape)}
    , hold as (
      insert into credit_reservations (user_id, credits, bonus_credits, source, tier, expires_at, idempotency_key, request_hash,
        enhancement_type, moodboard_id, api_key_id)
      select ${input.userId}, ${input.credits}, bonus_used, source, tier, now() + make_interval(secs => ${ttl}), ${input.idempotencyKey}, ${hash},
        ${input.enhancementType}, ${input.moodboardId ?? null}, ${input.apiKeyId ?? null}
      from charged
      returning id, expires_at, source
    ), entry as (
      insert into credit_transactions (user_id, transaction_type, credits_used, credits_delta, bonus_credits, balance_after, source, tier,
        enhancement_type, moodboard_id, reservation_id, status)
      select ${input.userId}, 'hold', ${input.credits}, case when charged.source = 'user_credits' then -${input.credits}::int else 0 end,
        charged.bonus_used, charged.balance_after, charged.source, charged.tier,
        ${input.enhancementType}, ${input.moodboardId ?? null}, hold.id, 'pending'
      from charged, hold
    )`;
}

/** The hold's answer columns, from `hold`. */
export const heldColumns = sql`hold.id, hold.source, ${isoUtc(sql`hold.expires_at`)} as expires_at`;

/** The one-statement hold (below). */
function holdStatementSql(input: HoldStatementInput, ttl: number, hash: string, shape: ChargeShape) {
  return sql`with ${holdCtes(input, ttl, hash, shape)} select ${heldColumns} from hold`;
}

const holdStatements = compileEachShape(holdSlots, (v, shape) => holdStatementSql(v, v.ttl, v.hash, shape));

export const heldRow = z.object({ id: col.text, source: creditSourceSchema, expires_at: col.text });

/** What a hold's idempotency key is bound to: the same key with another request is a conflict. */
export const holdRequestHash = (input: ReserveInput, ttl: number) =>
  requestHash('reserve', { userId: input.userId, credits: input.credits, enhancementType: input.enhancementType, moodboardId: input.moodboardId, ttlSeconds: ttl });

/**
 * A hold in one statement (one round trip, atomic without an explicit transaction): the charge
 * (chargeCtes: the allowance, or with `overflow` the platform's own overflow rule) and, from its row,
 * the reservation and its `hold` entry, as data-modifying CTEs. No row means the charge did not
 * apply; a taken idempotency key fails the whole statement, charge included — a replay.
 */
async function holdInOneStatement(db: DbOrTx, input: HoldRequest, ttl: number, hash: string, shape: ChargeShape): Promise<ReserveResult | null> {
  const { userId, credits, idempotencyKey, enhancementType } = input;
  const statement = holdStatements[shape]({ userId, credits, ttl, idempotencyKey, hash, enhancementType, moodboardId: input.moodboardId ?? null, apiKeyId: input.apiKeyId ?? null });
  const row = await queryOne(db, heldRow, statement);
  if (!row) return null;
  noteChargeSource(input.userId, row.source);
  return { reservationId: row.id, source: row.source, expiresAt: row.expires_at };
}

export type ReserveOptions = {
  /** A caller's own rule for an overflow, decided on the slow path. */
  overflowGate?: OverflowGate;
  /** The caller already sent the one-statement hold (a statement of its own built on holdCtes) and it missed. */
  oneStatementTried?: boolean;
};

/**
 * Takes the credits at once into a hold that capture settles, release returns, or expiry returns.
 * Its common cases (from the allowance; an overflow the platform's own rule allows) are one
 * statement each; a first-seen user, a due reset, a refusal or a caller's own gate take the
 * transaction with the row lock.
 */
export async function reserveCredits(db: DbOrTx, input: HoldRequest, opts: ReserveOptions = {}): Promise<ReserveResult> {
  const { overflowGate } = opts;
  const ttl = input.ttlSeconds ?? DEFAULT_HOLD_SECONDS;
  const hash = holdRequestHash(input, ttl);
  try {
    // Inside a caller's transaction a unique violation would abort that transaction: the savepoint way.
    if (!(db instanceof PgTransaction) && !opts.oneStatementTried) {
      // A caller's own gate decides an overflow on the slow path.
      for (const shape of chargeShapesFor(input.userId, !overflowGate)) {
        const fast = await holdInOneStatement(db, input, ttl, hash, shape);
        if (fast) return fast;
      }
    }
    return await db.transaction(async (tx) => {
      const debit = await debitUser(tx, input.userId, input.credits, overflowGate);
      const [hold] = await tx
        .insert(creditReservations)
        .values({
          userId: input.userId,
          credits: input.credits,
          bonusCredits: debit.bonusUsed,
          grantDraws: debit.grantDraws.length ? debit.grantDraws : null,
          source: debit.source,
          tier: debit.tier,
          expiresAt: sql`now() + make_interval(secs => ${ttl})`,
          idempotencyKey: input.idempotencyKey,
          requestHash: hash,
          enhancementType: input.enhancementType,
          moodboardId: input.moodboardId ?? null,
          apiKeyId: input.apiKeyId ?? null,
        })
        .onConflictDoNothing({ target: creditReservations.idempotencyKey })
        .returning();
      if (!hold) throw new ReplayDetected();
      await tx.insert(creditTransactions).values({
        userId: input.userId,
        transactionType: 'hold',
        ...debitEntryColumns(debit, input.credits),
        enhancementType: input.enhancementType,
        moodboardId: input.moodboardId ?? null,
        reservationId: hold.id,
        status: 'pending',
      });
      return { reservationId: hold.id, source: debit.source, expiresAt: hold.expiresAt.toISOString() };
    });
  } catch (err) {
    // A replay whose first run already spent the balance is refused by the debit: the key decides.
    if (err instanceof ReplayDetected || err instanceof DomainError || pgErrorCode(err) === UNIQUE_VIOLATION) {
      const prior = await priorReserve(db, input.idempotencyKey, hash, input.apiKeyId ?? null);
      if (prior) return prior;
    }
    throw err;
  }
}
