import type { Outbound } from '../../net/outbound';
import { z } from 'zod';
import { providerJson } from '../http';
import { enhancementPrompts, ProviderError, type AIProvider, type EnhanceRequest, type EnhanceResult, type ProviderConfig, type ProviderTask, type TaskState } from '../types';
import { apiUrl, awaitTask, imageUrlSchema, parseShape, probeHealth, requireKey, submitOnce, unwrap } from './common';

const created = z.object({ taskId: z.string().min(1) });
/** While a task runs the API fills the fields it has not got yet with empty strings (or leaves `response` empty). */
const emptyOr = <S extends z.ZodType>(schema: S) => z.union([z.literal(''), schema]).nullish();
const record = z.object({
  // 0 generating, 1 success, 2 task creation failed, 3 generation failed.
  successFlag: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  response: z.union([z.literal(''), z.object({ resultImageUrl: emptyOr(imageUrlSchema), originImageUrl: z.string().nullish() })]).nullish(),
  errorMessage: z.string().nullish(),
});
/** The callback: `code` 200 is success; 400 (content policy), 500 and 501 (generation failed) are failures. */
const callback = z.object({
  code: z.number(),
  msg: z.string().nullish(),
  data: z.object({ taskId: z.string(), info: z.object({ resultImageUrl: emptyOr(imageUrlSchema) }).nullish() }),
});

/** nanobananaapi.ai: submit a generate task (its API requires `callBackUrl`), then poll its record-info. */
export class NanoBananaProvider implements AIProvider {
  readonly name: string;

  /**
   * `callBackUrl` is required by the API. Submitted work gets its own per-request URL; an
   * enhance.run call, which polls, names `{callbackBase}/nanobanana`, which acknowledges and changes nothing.
   */
  constructor(
    private readonly config: ProviderConfig,
    private readonly http: Outbound,
    private readonly callbackBase: string,
  ) {
    this.name = config.name;
  }

  async enhanceImage(request: EnhanceRequest): Promise<EnhanceResult> {
    const { imageUrl, enhancementType, signal } = request;
    const headers = { authorization: `Bearer ${requireKey(this.name, this.config.apiKey)}`, 'content-type': 'application/json' };
    const task = await submitOnce(request, async () => {
      const body = JSON.stringify({
        prompt: enhancementPrompts[enhancementType],
        // Sic: the API spells the type this way.
        type: 'IMAGETOIAMGE',
        imageUrls: [imageUrl],
        numImages: 1,
        callBackUrl: request.task?.callbackUrl ?? `${this.callbackBase}/nanobanana`,
      });
      const answer = await providerJson(this.http, apiUrl(this.config.baseUrl, 'api/v1/nanobanana/generate'), { method: 'POST', headers, body, signal });
      return parseShape(created, unwrap(answer, 'nanobanana generate'), 'nanobanana generate');
    });
    const { taskId } = task;
    const recordUrl = apiUrl(this.config.baseUrl, `api/v1/nanobanana/record-info?taskId=${encodeURIComponent(taskId)}`);
    const outputUrl = await awaitTask(signal, `nanobanana task ${taskId}`, async () => {
      const info = parseShape(record, unwrap(await providerJson(this.http, recordUrl, { headers, signal }), 'nanobanana record-info'), 'nanobanana record-info');
      if (info.successFlag === 0) return { state: 'pending' };
      if (info.successFlag !== 1) {
        const stage = info.successFlag === 2 ? 'task creation failed' : 'generation failed';
        return { state: 'failed', message: `nanobanana task ${taskId}: ${stage}: ${info.errorMessage || 'no reason given'}` };
      }
      const url = info.response ? info.response.resultImageUrl : null;
      if (!url) throw new ProviderError('malformed', `nanobanana task ${taskId} succeeded without a resultImageUrl`);
      return { state: 'done', outputUrl: url };
    });
    return { outputUrl, providerRequestId: taskId };
  }

  parseCallback(task: ProviderTask, body: unknown): TaskState | null {
    const parsed = callback.safeParse(body);
    if (!parsed.success || parsed.data.data.taskId !== task.taskId) return null;
    const { code, msg, data } = parsed.data;
    if (code !== 200) return { state: 'failed', message: `nanobanana task ${task.taskId}: generation failed (code ${code}): ${msg || 'no reason given'}` };
    const url = data.info?.resultImageUrl;
    return url ? { state: 'done', outputUrl: url } : null;
  }

  healthCheck(signal: AbortSignal) {
    return probeHealth(this.http, this.config.healthCheckUrl ?? this.config.baseUrl, signal);
  }
}
