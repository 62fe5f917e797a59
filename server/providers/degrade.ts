import type { EnhanceInput, EnhanceResult } from '../../shared/enhance';
import { recordAlert } from '../alerts/alert-sink';
import type { Db } from '../db/client';
import { applyCssFilterLook } from './adapters/local';
import { fetchImage } from './http';
import type { MediaStore } from './media-store';
import { userNotifications } from './tables';
import type { UrlPolicy } from './url-policy';

export const CSS_FILTER = 'brightness(1.2) contrast(1.1) saturate(1.1)';
export const RETRY_AFTER_SECONDS = 30 * 60;

/**
 * What the user gets when no provider could serve: for `lighting` the CSS filter, plus the image with
 * that filter baked in by the local code when it can be fetched; for anything else a suggestion to
 * retry in 30 minutes. The user is notified and an admin alert raised, in one transaction.
 */
export async function degrade(
  deps: { db: Db; media: MediaStore; urlPolicy: UrlPolicy },
  input: EnhanceInput,
  reason: string,
): Promise<EnhanceResult> {
  let result: EnhanceResult;
  if (input.enhancementType === 'lighting') {
    let enhancedUrl = input.inputImageUrl;
    try {
      const image = await fetchImage(input.inputImageUrl, deps.urlPolicy, { maxBytes: 20 * 1024 * 1024, signal: AbortSignal.timeout(10_000) });
      enhancedUrl = await deps.media.save(await applyCssFilterLook(image.bytes), 'png');
    } catch {
      // The CSS filter alone still gives the user the look; the baked image is a bonus.
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
      title: 'Enhancement unavailable',
      message: result.status === 'degraded' ? `${result.suggestion ?? result.message ?? ''}`.trim() : '',
      metadata: { enhancementType: input.enhancementType, originalUrl: input.inputImageUrl, degradation: result.status === 'degraded' ? result.type : null },
    });
    await recordAlert(tx, {
      type: 'enhancement_degraded',
      level: 'error',
      subject: 'gateway',
      message: `No provider could serve a ${input.enhancementType} enhancement: ${reason}`,
      metadata: { userId: input.userId, enhancementType: input.enhancementType, reason },
    });
  });
  return result;
}
