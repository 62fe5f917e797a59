import type { Outbound } from '../../net/outbound';
import { z } from 'zod';
import { providerJson } from '../http';
import { enhancementPrompts, ProviderError, type AIProvider, type EnhanceRequest, type EnhanceResult, type ProviderConfig, type ProviderTask, type TaskState } from '../types';
import { apiUrl, awaitTask, imageUrlSchema, parseShape, probeHealth, requireKey, submitOnce, withQuery } from './common';

const DEFAULT_MODEL = 'fal-ai/nano-banana/edit';

const submitted = z.object({ request_id: z.string().min(1), status_url: z.url(), response_url: z.url(), cancel_url: z.url().optional() });
/** The cancel call's own bound: it runs after the attempt's deadline has passed. */
const CANCEL_TIMEOUT_MS = 3_000;
const status = z.object({ status: z.string(), error: z.string().nullish() });
const output = z.object({ images: z.array(z.object({ url: imageUrlSchema })).min(1) });
/** The queue's webhook body (`fal_webhook` on submit): the result inline as `payload`, or an error. */
const webhook = z.object({ request_id: z.string(), status: z.enum(['OK', 'ERROR']), payload: z.unknown().nullish(), error: z.string().nullish() });

/** fal.ai's queue API: submit, poll the status URL, then read the result. */
export class FalProvider implements AIProvider {
  readonly name: string;

  constructor(
    private readonly config: ProviderConfig,
    private readonly http: Outbound,
  ) {
    this.name = config.name;
  }

  async enhanceImage(request: EnhanceRequest): Promise<EnhanceResult> {
    const { imageUrl, enhancementType, signal } = request;
    const headers = { authorization: `Key ${requireKey(this.name, this.config.apiKey)}`, 'content-type': 'application/json' };
    const model = this.config.model ?? DEFAULT_MODEL;
    const task = await submitOnce(request, async () => {
      const body = JSON.stringify({ prompt: enhancementPrompts[enhancementType], image_urls: [imageUrl], num_images: 1 });
      const submitUrl = request.task?.callbackUrl ? withQuery(apiUrl(this.config.baseUrl, model), 'fal_webhook', request.task.callbackUrl) : apiUrl(this.config.baseUrl, model);
      const job = parseShape(submitted, await providerJson(this.http, submitUrl, { method: 'POST', headers, body, signal }), 'fal submit');
      return {
        taskId: job.request_id,
        statusUrl: job.status_url,
        responseUrl: job.response_url,
        // fal's queue API: PUT {cancel_url}; older answers without it follow the documented path.
        cancelUrl: job.cancel_url ?? `${job.response_url}/cancel`,
      };
    });
    // The key goes wherever these URLs point, so they must stay on the configured API's origin.
    const statusUrl = this.onOrigin(task.statusUrl ?? '', 'status_url');
    const responseUrl = this.onOrigin(task.responseUrl ?? '', 'response_url');
    const cancelUrl = this.onOrigin(task.cancelUrl ?? `${responseUrl}/cancel`, 'cancel_url');
    const id = task.taskId;

    try {
      const outputUrl = await awaitTask(signal, `fal request ${id}`, async () => {
        const s = parseShape(status, await providerJson(this.http, statusUrl, { headers, signal }), 'fal status');
        if (s.status === 'IN_QUEUE' || s.status === 'IN_PROGRESS') return { state: 'pending' };
        if (s.status !== 'COMPLETED') return { state: 'failed', message: `fal request ${id} ended with status ${s.status}${s.error ? `: ${s.error}` : ''}` };
        if (s.error) return { state: 'failed', message: `fal request ${id} failed: ${s.error}` };
        const result = parseShape(output, await providerJson(this.http, responseUrl, { headers, signal }), 'fal result');
        return { state: 'done', outputUrl: result.images[0]!.url };
      });
      return { outputUrl, providerRequestId: id };
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'timeout') throw await this.cancel(cancelUrl, headers, err);
      throw err;
    }
  }

  parseCallback(task: ProviderTask, body: unknown): TaskState | null {
    const parsed = webhook.safeParse(body);
    if (!parsed.success || parsed.data.request_id !== task.taskId) return null;
    if (parsed.data.status === 'ERROR') return { state: 'failed', message: `fal request ${task.taskId} failed: ${parsed.data.error || 'no reason given'}` };
    const result = output.safeParse(parsed.data.payload);
    return result.success ? { state: 'done', outputUrl: result.data.images[0]!.url } : null;
  }

  /**
   * A request we stopped waiting for is cancelled, so fal stops the work (and its billing) instead
   * of finishing an image nobody will read. The outcome joins the timeout's message, for admins.
   */
  private async cancel(cancelUrl: string, headers: Record<string, string>, timedOut: ProviderError): Promise<ProviderError> {
    const outcome = await providerJson(this.http, cancelUrl, { method: 'PUT', headers, signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) }).then(
      () => 'the request was cancelled',
      (err: unknown) => `cancelling it failed: ${err instanceof Error ? err.message : String(err)}`,
    );
    return new ProviderError('timeout', `${timedOut.message}; ${outcome}`, timedOut.httpStatus);
  }

  healthCheck(signal: AbortSignal) {
    return probeHealth(this.http, this.config.healthCheckUrl ?? this.config.baseUrl, signal);
  }

  private onOrigin(url: string, field: string): string {
    if (new URL(url).origin !== new URL(this.config.baseUrl).origin) {
      throw new ProviderError('malformed', `fal answered a ${field} on another origin (${new URL(url).origin}); refused`);
    }
    return url;
  }
}
