import { randomUUID } from 'node:crypto';
import type { ReserveResult } from '../../shared/credits';
import type { EnhanceInput, EnhanceResult } from '../../shared/enhance';
import type { Db } from '../db/client';
import { DomainError } from '../errors';
import { requestHash } from '../ledger/request-hash';
import { releaseReservation } from '../ledger/release-reservation';
import { admitAhead, attemptProvider, type Ahead, type AttemptDeps } from './attempt';
import { checkInputImage, type InputImage } from './input-image';
import { degrade, PLATFORM_DEPLETED_REASON } from './degrade';
import { claimEnhancement, completeEnhancement, releaseClaim } from './enhancement-claims';
import { openEnhancement, type Opened } from './open-enhancement';
import { finaliseEnhancement } from './finalise';
import type { EnhanceRequestLimit } from './enhance-rate-limit';
import type { MediaStore } from './media-store';
import { candidateProviders, type CandidateRow } from './registry';
import { ProviderError } from './types';
import { assertFetchableUrl, type UrlPolicy } from './url-policy';

export type GatewayDeps = AttemptDeps & {
  db: Db;
  media: MediaStore;
  urlPolicy: UrlPolicy;
  holdGraceSeconds: number;
  requestLimit: EnhanceRequestLimit;
  /** `{PUBLIC_URL}/callbacks`: submitted work gives providers a per-request URL under it. */
  callbackBase: string;
  /** How long a worker's claim on submitted work lasts without a heartbeat before another may take it over. */
  asyncLeaseSeconds: number;
};

export const MAX_HOLD_SECONDS = 3600;

/**
 * enhance.run: one credit held before the first attempt, the providers tried in order (each at most
 * once), the hold captured once with the provider that served, or released when none did — then the
 * graceful degradation. A replayed idempotency key returns the first result. Every way out settles
 * both the hold and the claim: a result is stored, or the claim is released and the hold returned.
 */
export async function runEnhancement(deps: GatewayDeps, input: EnhanceInput, caller: { apiKeyId?: string } = {}): Promise<EnhanceResult> {
  let image: InputImage;
  try {
    await assertFetchableUrl(input.inputImageUrl, deps.urlPolicy);
    // The caller's bad image is refused here, before anything is claimed, held or counted against a provider.
    image = await checkInputImage(input.inputImageUrl, deps.urlPolicy);
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
    // Another key's replay of this key is a conflict, never this one's result.
    apiKeyId: caller.apiKeyId,
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
    const result = await degrade(deps, input, image, 'the first attempt of this request was interrupted');
    await completeEnhancement(deps.db, claim.id, claim.reservationId, result);
    return result;
  }

  try {
    return await serveClaim(deps, input, image, claim.id, caller);
  } catch (err) {
    // Whatever failed, the claim must not stay "processing" (replays would wait an hour): a replay runs afresh.
    await releaseClaim(deps.db, claim.id).catch((e: unknown) => deps.log.error({ err: e, idempotencyKey: input.idempotencyKey }, 'releasing an enhancement claim failed'));
    throw err;
  }
}

/**
 * Holds the credit (or degrades when the platform cannot pay an overflow), then tries the providers.
 * The first provider is admitted before the hold, so that the hold's statement draws its pool too.
 */
async function serveClaim(deps: GatewayDeps, input: EnhanceInput, image: InputImage, claimId: number, caller: { apiKeyId?: string }): Promise<EnhanceResult> {
  const candidates = await candidateProviders(deps.db);
  const ttlSeconds = Math.min(MAX_HOLD_SECONDS, Math.ceil(candidates.reduce((s, c) => s + c.timeout_ms, 0) / 1000) + deps.holdGraceSeconds);
  const first = candidates[0];
  const admission = first ? await admitAhead(deps, first) : null;
  let opened: Opened;
  try {
    opened = await openEnhancement(
      deps.db,
      {
        userId: input.userId,
        credits: 1,
        enhancementType: input.enhancementType,
        // One hold per claim: a claim released after a failure is claimed again with a fresh hold.
        idempotencyKey: `enhance:${input.idempotencyKey}:${claimId}`,
        ttlSeconds,
        moodboardId: input.moodboardId,
        // The calling key owns the hold, as if it had reserved it itself.
        apiKeyId: caller.apiKeyId,
        claimId,
      },
      admission && first ? first.name : null,
    );
  } catch (err) {
    if (admission && first) await deps.breaker.onNeutral(first.name, admission);
    if (!(err instanceof DomainError && err.reason === 'PLATFORM_CREDITS_DEPLETED')) throw err;
    // Nothing was charged; the user and an admin are told, like any other degradation.
    const result = await degrade(deps, input, image, PLATFORM_DEPLETED_REASON, 'platform_depleted');
    await completeEnhancement(deps.db, claimId, null, result);
    return result;
  }

  const { hold, drawn } = opened;
  try {
    return await tryProviders(deps, input, image, claimId, hold, candidates, admission ? { admission, drawn } : undefined);
  } catch (err) {
    await releaseReservation(deps.db, { reservationId: hold.reservationId, reason: 'the enhancement failed' }).catch((e: unknown) => {
      // Already settled (captured before the failure, or released): nothing more to return.
      if (!(e instanceof DomainError)) deps.log.error({ err: e, reservationId: hold.reservationId }, 'releasing an enhancement hold failed');
    });
    throw err;
  }
}

async function tryProviders(
  deps: GatewayDeps,
  input: EnhanceInput,
  image: InputImage,
  claimId: number,
  hold: ReserveResult,
  candidates: CandidateRow[],
  ahead: Ahead | undefined,
): Promise<EnhanceResult> {
  const requestId = randomUUID();
  const failures: string[] = [];
  for (const [i, row] of candidates.entries()) {
    const outcome = await attemptProvider(deps, row, {
      imageUrl: input.inputImageUrl,
      image,
      enhancementType: input.enhancementType,
      requestId,
      reservationId: hold.reservationId,
      ahead: i === 0 ? ahead : undefined,
    });
    if ('inputRefused' in outcome) {
      // The caller's error: the hold is released (by the caller of this function) and nothing is charged.
      throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `inputImageUrl: ${outcome.inputRefused.message}`);
    }
    if (outcome.ok) {
      const settled = await finaliseEnhancement(
        deps,
        { claimId, input, image, hold },
        {
          kind: 'served',
          provider: row.name,
          outputUrl: outcome.output.outputUrl,
          providerRequestId: outcome.output.providerRequestId,
          requestId,
          costUsd: outcome.costUsd,
        },
      );
      return settled.result as EnhanceResult;
    }
    failures.push(`${row.name}: ${outcome.reason}`);
  }

  const reason = failures.length ? failures.join('; ') : 'no active provider is configured';
  return (await finaliseEnhancement(deps, { claimId, input, image, hold }, { kind: 'unserved', reason })).result as EnhanceResult;
}
