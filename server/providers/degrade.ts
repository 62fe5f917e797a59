import type { Logger } from 'pino';
import { enhancements } from '../ops/metrics';
import type { EnhanceInput, EnhanceResult } from '../../shared/enhance';
import { notify } from '../alerts/alert-service';
import type { DbOrTx } from '../db/client';
import { applyCssFilterLook } from './adapters/local';
import type { InputImage } from './input-image';
import type { MediaStore } from './media-store';
import { userNotifications } from './tables';
import { withArticle } from '../../shared/wording';

export const CSS_FILTER = 'brightness(1.2) contrast(1.1) saturate(1.1)';
export const RETRY_AFTER_SECONDS = 30 * 60;
/** The degradationReason when the user's allowance is spent and no platform pool can pay the overflow. */
export const PLATFORM_DEPLETED_REASON = "PLATFORM_CREDITS_DEPLETED: the platform's credit pools cannot pay for an enhancement past this user's allowance";

/**
 * What the user gets when no provider could serve: for `lighting` the CSS filter, plus the image with
 * that filter baked in by the local code when it can be fetched; for anything else a suggestion to
 * retry in 30 minutes. The user is notified and an admin alert raised, in one transaction; a depleted
 * platform raises its own critical alert. With the media store full, the CSS filter alone is given.
 */
export async function degrade(
  deps: { db: DbOrTx; media: MediaStore; log: Logger },
  input: EnhanceInput,
  /** The input as the gateway fetched and checked it (null: not fetched, so no baked image). */
  image: InputImage | null,
  reason: string,
  cause: 'no_provider' | 'platform_depleted' = 'no_provider',
): Promise<EnhanceResult> {
  let result: EnhanceResult;
  if (input.enhancementType === 'lighting') {
    let enhancedUrl = input.inputImageUrl;
    try {
      if (!image) throw new Error('no input bytes');
      // Checked before decoding: a full store must not cost a decode.
      await deps.media.assertRoom();
      enhancedUrl = await deps.media.save(await applyCssFilterLook(image.bytes), 'png');
    } catch (err) {
      // The CSS filter alone still gives the user the look; the baked image is a bonus. Logged, since a
      // full media store or a failing decode is an operator's business even when the user is served.
      if (image) deps.log.warn({ err, enhancementType: input.enhancementType }, 'baking the degraded lighting look failed; the CSS filter alone is returned');
    }
    result = {
      status: 'degraded',
      type: 'css_filter_fallback',
      originalUrl: input.inputImageUrl,
      enhancedUrl,
      cssFilter: CSS_FILTER,
      message: 'AI enhancement is busy right now, so a basic lighting correction was applied. No credit was charged.',
      degradationReason: reason,
    };
  } else {
    result = {
      status: 'degraded',
      type: 'suggestion_fallback',
      originalUrl: input.inputImageUrl,
      enhancedUrl: input.inputImageUrl,
      suggestion: 'AI enhancement is temporarily unavailable. Please try again in 30 minutes.',
      retryAfter: RETRY_AFTER_SECONDS,
      message: 'No credit was charged.',
      degradationReason: reason,
    };
  }
  await deps.db.transaction(async (tx) => {
    await tx.insert(userNotifications).values({
      userId: input.userId,
      type: 'enhancement_degraded',
      title: input.enhancementType === 'lighting' ? 'Basic lighting correction applied' : 'Enhancement unavailable',
      message: result.status === 'degraded' ? [result.suggestion, result.message].filter(Boolean).join(' ') : '',
      // What the product offers the user: run the AI enhancement again once providers are back.
      action: { kind: 'retry', label: 'Try the AI enhancement again', retryAfterSeconds: RETRY_AFTER_SECONDS },
      metadata: { enhancementType: input.enhancementType, originalUrl: input.inputImageUrl, degradation: result.status === 'degraded' ? result.type : null, cause },
    });
    if (cause === 'platform_depleted') {
      await notify(tx, {
        type: 'platform_credits_depleted',
        level: 'critical',
        subject: 'platform',
        message: `The platform's credit pools are depleted: ${withArticle(input.enhancementType)} enhancement past a user's allowance was degraded. Refill a pool.`,
        metadata: { userId: input.userId, enhancementType: input.enhancementType, reason },
      });
      return;
    }
    await notify(tx, {
      type: 'enhancement_degraded',
      level: 'error',
      subject: 'gateway',
      message: `No provider could serve ${withArticle(input.enhancementType)} enhancement: ${reason}`,
      metadata: { userId: input.userId, enhancementType: input.enhancementType, reason },
    });
  });
  enhancements.inc({ provider: 'none', outcome: cause === 'platform_depleted' ? 'degraded_platform_depleted' : 'degraded' });
  return result;
}
