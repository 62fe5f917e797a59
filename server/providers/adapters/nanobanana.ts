import type { Outbound } from '../../net/outbound';
import { z } from 'zod';
import { providerJson } from '../http';
import { enhancementPrompts, ProviderError, type AIProvider, type EnhanceRequest, type EnhanceResult, type ProviderConfig } from '../types';
import { apiUrl, imageUrlSchema, parseShape, pollUntil, probeHealth, requireKey, unwrap } from './common';

const created = z.object({ taskId: z.string().min(1) });
const record = z.object({
  // 0 generating, 1 success, 2 task creation failed, 3 generation failed.
  successFlag: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  response: z.object({ resultImageUrl: imageUrlSchema.nullish() }).nullish(),
  errorMessage: z.string().nullish(),
});

/** nanobananaapi.ai: submit a generate task, then poll its record-info. */
export class NanoBananaProvider implements AIProvider {
  readonly name: string;

  /**
   * `callBackUrl`: the API documents it as required although the gateway polls; when the
   * deployment has a public URL that answers 2xx, pass it, otherwise it is left out.
   */
  constructor(
    private readonly config: ProviderConfig,
    private readonly http: Outbound,
    private readonly callBackUrl?: string,
  ) {
    this.name = config.name;
  }

  async enhanceImage({ imageUrl, enhancementType, signal }: EnhanceRequest): Promise<EnhanceResult> {
    const headers = { authorization: `Bearer ${requireKey(this.name, this.config.apiKey)}`, 'content-type': 'application/json' };
    const body = JSON.stringify({
      prompt: enhancementPrompts[enhancementType],
      // Sic: the API spells the type this way.
      type: 'IMAGETOIAMGE',
      imageUrls: [imageUrl],
      numImages: 1,
      ...(this.callBackUrl ? { callBackUrl: this.callBackUrl } : {}),
    });
    const answer = await providerJson(this.http, apiUrl(this.config.baseUrl, 'api/v1/nanobanana/generate'), { method: 'POST', headers, body, signal });
    const { taskId } = parseShape(created, unwrap(answer, 'nanobanana generate'), 'nanobanana generate');

    const recordUrl = apiUrl(this.config.baseUrl, `api/v1/nanobanana/record-info?taskId=${encodeURIComponent(taskId)}`);
    const outputUrl = await pollUntil(signal, `nanobanana task ${taskId}`, async () => {
      const info = parseShape(record, unwrap(await providerJson(this.http, recordUrl, { headers, signal }), 'nanobanana record-info'), 'nanobanana record-info');
      if (info.successFlag === 0) return undefined;
      if (info.successFlag !== 1) {
        const stage = info.successFlag === 2 ? 'task creation failed' : 'generation failed';
        throw new ProviderError('failed', `nanobanana task ${taskId}: ${stage}: ${info.errorMessage || 'no reason given'}`);
      }
      const url = info.response?.resultImageUrl;
      if (!url) throw new ProviderError('malformed', `nanobanana task ${taskId} succeeded without a resultImageUrl`);
      return url;
    });
    return { outputUrl, providerRequestId: taskId };
  }

  healthCheck(signal: AbortSignal) {
    return probeHealth(this.http, this.config.healthCheckUrl ?? this.config.baseUrl, signal);
  }
}
