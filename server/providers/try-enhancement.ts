import { randomUUID } from 'node:crypto';
import type { TryEnhancementInput, TryEnhancementResult } from '../../shared/providers';
import { audit, type Actor } from '../auth/audit';
import { DomainError } from '../errors';
import { attemptProvider } from './attempt';
import type { GatewayDeps } from './gateway';
import { candidateProviders } from './registry';
import { ProviderError } from './types';
import { assertFetchableUrl } from './url-policy';

/**
 * An admin's trial of the provider chain from the Providers page: the active providers in the
 * gateway's order, each at most once, on the built-in sample (read from disk by the local provider)
 * or a given image. It charges no user — there may be none yet — but a paid provider that serves
 * draws its pool like any call, so the trial is recorded in the audit log with what it cost.
 */
export async function tryEnhancement(deps: GatewayDeps, actor: Actor, input: TryEnhancementInput): Promise<TryEnhancementResult> {
  const inputUrl = input.imageUrl ?? (await deps.media.sampleUrl());
  if (input.imageUrl && !(await deps.media.readOwn(input.imageUrl))) {
    try {
      await assertFetchableUrl(input.imageUrl, deps.urlPolicy);
    } catch (err) {
      if (err instanceof ProviderError) throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', `This image address cannot be used: ${err.message}.`, { fields: ['imageUrl'] });
      throw err;
    }
  }
  const requestId = randomUUID();
  const attempts: TryEnhancementResult['attempts'] = [];
  let result: TryEnhancementResult | null = null;
  for (const row of await candidateProviders(deps.db)) {
    const outcome = await attemptProvider(deps, row, {
      imageUrl: inputUrl,
      enhancementType: input.enhancementType,
      requestId,
      reservationId: `admin-try:${requestId}`,
    });
    if (outcome.ok) {
      attempts.push({ provider: row.name, outcome: 'success', detail: null });
      result = { status: 'enhanced', inputUrl, provider: row.name, outputUrl: outcome.output.outputUrl, costUsd: outcome.costUsd, attempts };
      break;
    }
    attempts.push({ provider: row.name, outcome: outcome.attempted ? 'failure' : 'skipped', detail: outcome.reason });
  }
  result ??= { status: 'failed', inputUrl, provider: null, outputUrl: null, costUsd: '0', attempts };
  await audit(deps.db, actor, {
    action: 'provider.try',
    targetType: 'provider',
    targetId: result.provider,
    after: { enhancementType: input.enhancementType, inputUrl, status: result.status, costUsd: result.costUsd, attempts },
  });
  return result;
}
