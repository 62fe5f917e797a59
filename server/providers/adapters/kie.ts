import type { Outbound } from '../../net/outbound';
import { z } from 'zod';
import { providerJson } from '../http';
import { enhancementPrompts, ProviderError, type AIProvider, type EnhanceRequest, type EnhanceResult, type ProviderConfig, type ProviderTask, type TaskState } from '../types';
import { apiUrl, awaitTask, imageUrlSchema, parseShape, probeHealth, requireKey, submitOnce, unwrap } from './common';

const DEFAULT_MODEL = 'google/nano-banana-edit';

const created = z.object({ taskId: z.string().min(1) });
const record = z.object({
  state: z.enum(['waiting', 'queuing', 'generating', 'success', 'fail']),
  resultJson: z.string().nullish(),
  failMsg: z.string().nullish(),
});
const resultJson = z.object({ resultUrls: z.array(imageUrlSchema).min(1) });
/** The jobs API's callback: the same record as recordInfo, in the { code, msg, data } envelope. */
const callback = z.object({ code: z.number(), msg: z.string().nullish(), data: record.extend({ taskId: z.string() }) });

/** Kie.ai's jobs API: create a task (optionally with `callBackUrl`), then poll its record until it succeeds or fails. */
export class KieProvider implements AIProvider {
  readonly name: string;

  constructor(
    private readonly config: ProviderConfig,
    private readonly http: Outbound,
  ) {
    this.name = config.name;
  }

  async enhanceImage(request: EnhanceRequest): Promise<EnhanceResult> {
    const { imageUrl, enhancementType, signal } = request;
    const headers = { authorization: `Bearer ${requireKey(this.name, this.config.apiKey)}`, 'content-type': 'application/json' };
    const { taskId } = await submitOnce(request, async () => {
      const callBackUrl = request.task?.callbackUrl;
      const body = JSON.stringify({
        model: this.config.model ?? DEFAULT_MODEL,
        ...(callBackUrl ? { callBackUrl } : {}),
        input: { prompt: enhancementPrompts[enhancementType], image_urls: [imageUrl], output_format: 'png' },
      });
      const answer = await providerJson(this.http, apiUrl(this.config.baseUrl, 'api/v1/jobs/createTask'), { method: 'POST', headers, body, signal });
      return parseShape(created, unwrap(answer, 'kie createTask'), 'kie createTask');
    });

    const recordUrl = apiUrl(this.config.baseUrl, `api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`);
    const outputUrl = await awaitTask(signal, `kie task ${taskId}`, async () =>
      stateOf(taskId, parseShape(record, unwrap(await providerJson(this.http, recordUrl, { headers, signal }), 'kie recordInfo'), 'kie recordInfo')),
    );
    return { outputUrl, providerRequestId: taskId };
  }

  parseCallback(task: ProviderTask, body: unknown): TaskState | null {
    const parsed = callback.safeParse(body);
    if (!parsed.success || parsed.data.data.taskId !== task.taskId) return null;
    try {
      return stateOf(task.taskId, parsed.data.data);
    } catch {
      return null; // a success without a readable result: the poll decides
    }
  }

  healthCheck(signal: AbortSignal) {
    return probeHealth(this.http, this.config.healthCheckUrl ?? this.config.baseUrl, signal);
  }
}

function stateOf(taskId: string, info: z.infer<typeof record>): TaskState {
  if (info.state === 'fail') return { state: 'failed', message: `kie task ${taskId} failed: ${info.failMsg || 'no reason given'}` };
  if (info.state !== 'success') return { state: 'pending' };
  return { state: 'done', outputUrl: parseShape(resultJson, parseJson(info.resultJson, taskId), 'kie resultJson').resultUrls[0]! };
}

/** resultJson is JSON inside a string, so it gets its own parse and a clear error. */
function parseJson(text: string | null | undefined, taskId: string): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    throw new ProviderError('malformed', `kie task ${taskId} succeeded with a resultJson that is not JSON: ${String(text).slice(0, 100)}`);
  }
}
