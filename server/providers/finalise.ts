import type { Logger } from 'pino';
import { eq, sql } from 'drizzle-orm';
import type { CreditSource } from '../../shared/credits';
import type { EnhanceInput, EnhanceResult } from '../../shared/enhance';
import type { EnhancementFailure } from '../../shared/enhance-async';
import { z } from 'zod';
import type { DbOrTx } from '../db/client';
import { inTransaction } from '../db/in-transaction';
import { col, queryOne } from '../db/rows';
import { DomainError } from '../errors';
import { captureReservation } from '../ledger/capture-reservation';
import { releaseReservation } from '../ledger/release-reservation';
import { creditsConsumed, enhancements } from '../ops/metrics';
import { degrade } from './degrade';
import { completeEnhancement, OPEN_STATUSES } from './enhancement-claims';
import { lockRequestStatement } from './enhancement-statements';
import type { InputImage } from './input-image';
import type { MediaStore } from './media-store';
import { settleServedInOneStatement } from './settle-served';
import { enhancementRequests } from './tables';

export type Settlement =
  /** A provider served: the hold is captured with it (the pool was drawn before the call). */
  | { kind: 'served'; provider: string; outputUrl: string; providerRequestId: string | null; requestId: string; costUsd: string }
  /** No provider could: the hold is released and the answer degrades (the user and an admin told). */
  | { kind: 'unserved'; reason: string; cause?: 'no_provider' | 'platform_depleted' }
  /** The caller's input was refused (asynchronous work only; enhance.run throws BAD_REQUEST instead). */
  | { kind: 'refused'; message: string };

export type Finalised = { result: EnhanceResult | EnhancementFailure; settledNow: boolean };

const servedResult = (o: Extract<Settlement, { kind: 'served' }>, creditSource: CreditSource) =>
  ({ status: 'enhanced', provider: o.provider, outputUrl: o.outputUrl, costUsd: o.costUsd, creditSource }) satisfies EnhanceResult;
const lockedRow = z.object({ status: col.text, result: col.json });

/**
 * The one way an enhancement ends — enhance.run, the async workers and provider callbacks alike: the
 * hold captured with the provider that served, or released, the degradation notice, and the stored
 * result, in one transaction under a lock on the enhancement's row. So a callback and a poll racing
 * settle once: the second finds the row settled and gets the first's result (`settledNow` false).
 * A served enhancement tries all of it as one statement first (settle-served.ts, ADR 027); when that
 * misses it changed nothing, and the transaction below settles it or says why it cannot.
 */
export async function finaliseEnhancement(
  deps: { db: DbOrTx; media: MediaStore; log: Logger },
  e: { claimId: number; input: EnhanceInput; image: InputImage | null; hold: { reservationId: string; source: CreditSource } | null },
  outcome: Settlement,
): Promise<Finalised> {
  if (outcome.kind === 'served' && e.hold) {
    const result = servedResult(outcome, e.hold.source);
    const apiRequestId = outcome.providerRequestId ?? outcome.requestId;
    const settled = await settleServedInOneStatement(deps.db, { claimId: e.claimId, reservationId: e.hold.reservationId, provider: outcome.provider, apiRequestId, result });
    if (settled) {
      creditsConsumed.inc({ source: settled.source ?? 'user_credits', tier: settled.tier ?? 'unknown' }, settled.credits_used);
      enhancements.inc({ provider: outcome.provider, outcome: 'enhanced' });
      return { result, settledNow: true };
    }
    // Nothing was changed: the transaction below finds out why (settled elsewhere, or a hold that cannot be captured).
  }
  // In a caller's transaction (a callback's, which holds the row's lock already) it runs in that one.
  const finalised = await inTransaction(deps.db, async (tx): Promise<Finalised> => {
    const row = await queryOne(tx, lockedRow, lockRequestStatement({ id: e.claimId }));
    if (!row || !OPEN_STATUSES.includes(row.status)) return { result: row?.result as EnhanceResult | EnhancementFailure, settledNow: false };

    if (outcome.kind === 'served') {
      if (!e.hold) throw new Error('a served enhancement has a hold');
      await captureReservation(
        tx,
        { reservationId: e.hold.reservationId, provider: outcome.provider, apiRequestId: outcome.providerRequestId ?? outcome.requestId },
        // The pool was drawn before the call; the capture records that cost and draws nothing more.
        { drawn: { costUsd: outcome.costUsd } },
      );
      const result = servedResult(outcome, e.hold.source);
      await completeEnhancement(tx, e.claimId, e.hold.reservationId, result);
      return { result, settledNow: true };
    }

    if (e.hold) {
      await releaseReservation(tx, { reservationId: e.hold.reservationId, reason: outcome.kind === 'refused' ? 'the input image was refused' : 'no provider could serve' }).catch((err: unknown) => {
        // Expired (and so released by the expiry job) already: the credit is back either way.
        if (!(err instanceof DomainError)) throw err;
      });
    }
    if (outcome.kind === 'refused') {
      const failure: EnhancementFailure = { status: 'failed', reason: 'BAD_REQUEST', message: `inputImageUrl: ${outcome.message}` };
      await tx
        .update(enhancementRequests)
        .set({ status: 'failed', result: failure, reservationId: e.hold?.reservationId ?? null, completedAt: sql`now()`, leaseUntil: null })
        .where(eq(enhancementRequests.id, e.claimId));
      return { result: failure, settledNow: true };
    }
    const result = await degrade({ db: tx, media: deps.media, log: deps.log }, e.input, e.image, outcome.reason, outcome.cause);
    await completeEnhancement(tx, e.claimId, e.hold?.reservationId ?? null, result);
    return { result, settledNow: true };
  });
  // Counted once committed, by the settler that settled it (degradations are counted by degrade()).
  if (finalised.settledNow && outcome.kind === 'served') enhancements.inc({ provider: outcome.provider, outcome: 'enhanced' });
  return finalised;
}
