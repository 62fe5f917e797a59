import { randomUUID } from 'node:crypto';
import type { EnhanceInput, EnhanceResult } from '../../shared/enhance';
import type { Db } from '../db/client';
import { DomainError } from '../errors';
import { requestHash } from '../ledger/request-hash';
import { captureReservation, releaseReservation, reserveCredits } from '../ledger/reservations';
import { attemptProvider, type AttemptDeps } from './attempt';
import { degrade } from './degrade';
import { attachReservation, claimEnhancement, completeEnhancement, releaseClaim } from './enhancement-claims';
import type { MediaStore } from './media-store';
import { candidateProviders } from './registry';
import { ProviderError } from './types';
import { assertFetchableUrl, type UrlPolicy } from './url-policy';

export type GatewayDeps = AttemptDeps & { db: Db; media: MediaStore; urlPolicy: UrlPolicy; holdGraceSeconds: number };

const MAX_HOLD_SECONDS = 3600;

/**
 * enhance.run: one credit held before the first attempt, the providers tried in order (each at most
 * once), the hold captured once with the provider that served, or released when none did — then the
 * graceful degradation. A replayed idempotency key returns the first result.
 */
export async function runEnhancement(deps: GatewayDeps, input: EnhanceInput, caller: { apiKeyId?: string } = {}): Promise<EnhanceResult> {
  try {
    await assertFetchableUrl(input.inputImageUrl, deps.urlPolicy);
  } catch (err) {
    if (err instanceof ProviderError) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `inputImageUrl: ${err.message}`);
    throw err;
  }
  const hash = requestHash('enhance', {
    userId: input.userId,
    inputImageUrl: input.inputImageUrl,
    enhancementType: input.enhancementType,
    moodboardId: input.moodboardId,
  });
  const claim = await claimEnhancement(deps.db, input.idempotencyKey, hash, input.userId, {
    waitMs: 60_000,
    staleAfterMs: (MAX_HOLD_SECONDS + 120) * 1000,
  });
  if (claim.kind === 'done') return claim.result;
  if (claim.kind === 'interrupted') {
    // Its hold has expired and been released by now (or is released here); the user pays nothing.
    if (claim.reservationId) {
      await releaseReservation(deps.db, { reservationId: claim.reservationId, reason: 'interrupted' }).catch((err: unknown) => {
        // Already settled by the expiry job: exactly what should have happened.
        if (!(err instanceof DomainError)) throw err;
      });
    }
    const result = await degrade(deps, input, 'the first attempt of this request was interrupted');
    await completeEnhancement(deps.db, claim.id, claim.reservationId, result);
    return result;
  }

  const candidates = await candidateProviders(deps.db);
  const ttlSeconds = Math.min(MAX_HOLD_SECONDS, Math.ceil(candidates.reduce((s, c) => s + c.timeout_ms, 0) / 1000) + deps.holdGraceSeconds);
  let hold;
  try {
    hold = await reserveCredits(deps.db, {
      userId: input.userId,
      credits: 1,
      enhancementType: input.enhancementType,
      idempotencyKey: `enhance:${input.idempotencyKey}`,
      ttlSeconds,
      moodboardId: input.moodboardId,
      // The calling key owns the hold, as if it had reserved it itself.
      apiKeyId: caller.apiKeyId,
    });
  } catch (err) {
    await releaseClaim(deps.db, claim.id);
    throw err;
  }

  await attachReservation(deps.db, claim.id, hold.reservationId);
  const requestId = randomUUID();
  const failures: string[] = [];
  for (const row of candidates) {
    const outcome = await attemptProvider(deps, row, {
      imageUrl: input.inputImageUrl,
      enhancementType: input.enhancementType,
      requestId,
      reservationId: hold.reservationId,
    });
    if (outcome.ok) {
      await captureReservation(
        deps.db,
        { reservationId: hold.reservationId, provider: row.name, apiRequestId: outcome.output.providerRequestId ?? requestId },
        // The pool was drawn before the call; the capture records that cost and draws nothing more.
        async () => ({ costUsd: outcome.costUsd }),
      );
      const result: EnhanceResult = {
        status: 'enhanced',
        provider: row.name,
        outputUrl: outcome.output.outputUrl,
        costUsd: outcome.costUsd,
        creditSource: hold.source,
      };
      await completeEnhancement(deps.db, claim.id, hold.reservationId, result);
      return result;
    }
    failures.push(`${row.name}: ${outcome.reason}`);
  }

  await releaseReservation(deps.db, { reservationId: hold.reservationId, reason: 'no provider could serve' });
  const reason = failures.length ? failures.join('; ') : 'no active provider is configured';
  const result = await degrade(deps, input, reason);
  await completeEnhancement(deps.db, claim.id, hold.reservationId, result);
  return result;
}
