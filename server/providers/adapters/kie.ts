import type { Outbound } from '../../net/outbound';
import { z } from 'zod';
import { providerJson } from '../http';
import { enhancementPrompts, ProviderError, type AIProvider, type EnhanceRequest, type EnhanceResult, type ProviderConfig } from '../types';
import { apiUrl, imageUrlSchema, parseShape, pollUntil, probeHealth, requireKey, unwrap } from './common';

const DEFAULT_MODEL = 'google/nano-banana-edit';

const created = z.object({ taskId: z.string().min(1) });
const record = z.object({
  state: z.enum(['waiting', 'queuing', 'generating', 'success', 'fail']),
  resultJson: z.string().nullish(),
  failMsg: z.string().nullish(),
});
const resultJson = z.object({ resultUrls: z.array(imageUrlSchema).min(1) });

/** Kie.ai's jobs API: create a task, then poll its record until it succeeds or fails. */
export class KieProvider implements AIProvider {
  readonly name: string;

  constructor(
    private readonly config: ProviderConfig,
    private readonly http: Outbound,
  ) {
    this.name = config.name;
  }

  async enhanceImage({ imageUrl, enhancementType, signal }: EnhanceRequest): Promise<EnhanceResult> {
    const headers = { authorization: `Bearer ${requireKey(this.name, this.config.apiKey)}`, 'content-type': 'application/json' };
    const body = JSON.stringify({
      model: this.config.model ?? DEFAULT_MODEL,
      input: { prompt: enhancementPrompts[enhancementType], image_urls: [imageUrl], output_format: 'png' },
    });
    const answer = await providerJson(this.http, apiUrl(this.config.baseUrl, 'api/v1/jobs/createTask'), { method: 'POST', headers, body, signal });
    const { taskId } = parseShape(created, unwrap(answer, 'kie createTask'), 'kie createTask');

    const recordUrl = apiUrl(this.config.baseUrl, `api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`);
    const outputUrl = await pollUntil(signal, `kie task ${taskId}`, async () => {
      const info = parseShape(record, unwrap(await providerJson(this.http, recordUrl, { headers, signal }), 'kie recordInfo'), 'kie recordInfo');
      if (info.state === 'fail') throw new ProviderError('failed', `kie task ${taskId} failed: ${info.failMsg || 'no reason given'}`);
      if (info.state !== 'success') return undefined;
      return parseShape(resultJson, parseJson(info.resultJson, taskId), 'kie resultJson').resultUrls[0]!;
    });
    return { outputUrl, providerRequestId: taskId };
  }

  healthCheck(signal: AbortSignal) {
    return probeHealth(this.http, this.config.healthCheckUrl ?? this.config.baseUrl, signal);
  }
}

/** resultJson is JSON inside a string, so it gets its own parse and a clear error. */
function parseJson(text: string | null | undefined, taskId: string): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    throw new ProviderError('malformed', `kie task ${taskId} succeeded with a resultJson that is not JSON: ${String(text).slice(0, 100)}`);
  }
}
