import type { SQL } from 'drizzle-orm';
import type { CreditSource } from '../../shared/credits';
import { compileSql, type CompiledStatement, type Slots, type SlotValues } from '../db/compiled-sql';

/**
 * Which one-statement charge to send (charge-sql's chargeCtes): the allowance debit alone, the
 * platform's overflow alone, or either in one statement. Either costs more to run than the
 * allowance debit alone (measured: 17–20% slower for a user with allowance left), so it is sent only
 * for a user whose last charge the platform paid; everyone else sends the allowance debit, and an
 * overflow after it on a miss (docs/decisions/024-charge-shapes.md).
 */
const CHARGE_SHAPES = ['allowance', 'overflow', 'either'] as const;
export type ChargeShape = (typeof CHARGE_SHAPES)[number];

/** A one-statement charge compiled once per shape (compileSql): a call only binds its values. */
export function compileEachShape<S extends Slots>(slots: S, build: (values: SlotValues<S>, shape: ChargeShape) => SQL): Record<ChargeShape, CompiledStatement<S>> {
  return Object.fromEntries(CHARGE_SHAPES.map((shape) => [shape, compileSql(slots, (values) => build(values, shape))])) as Record<ChargeShape, CompiledStatement<S>>;
}

/**
 * The users of this process whose last one-statement charge the platform paid. A hint only: each
 * shape re-checks every condition on the row it locks, so a stale or lost hint costs a round trip,
 * never a wrong charge. Bounded, so a process never grows with its user count.
 */
const overflowing = new Set<string>();
const MAX_HINTED = 100_000;

/** The shapes to try in turn before the slow path; `overflowAllowed` is false when a caller's gate must decide an overflow. */
export function chargeShapesFor(userId: string, overflowAllowed: boolean): readonly ChargeShape[] {
  if (!overflowAllowed) return ['allowance'];
  return overflowing.has(userId) ? ['either'] : ['allowance', 'overflow'];
}

/** Remembers where a one-statement charge came from, for the user's next charge. */
export function noteChargeSource(userId: string, source: CreditSource): void {
  if (source === 'user_credits') {
    overflowing.delete(userId);
    return;
  }
  if (overflowing.size >= MAX_HINTED) overflowing.clear();
  overflowing.add(userId);
}
