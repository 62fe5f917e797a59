import type { Outbound } from '../../net/outbound';
import { z } from 'zod';
import { providerJson } from '../http';
import { enhancementPrompts, ProviderError, type AIProvider, type EnhanceRequest, type EnhanceResult, type ProviderConfig } from '../types';
import { apiUrl, imageUrlSchema, parseShape, pollUntil, probeHealth, requireKey } from './common';

const DEFAULT_MODEL = 'fal-ai/nano-banana/edit';

const submitted = z.object({ request_id: z.string().min(1), status_url: z.url(), response_url: z.url(), cancel_url: z.url().optional() });
/** The cancel call's own bound: it runs after the attempt's deadline has passed. */
const CANCEL_TIMEOUT_MS = 3_000;
const status = z.object({ status: z.string(), error: z.string().nullish() });
const output = z.object({ images: z.array(z.object({ url: imageUrlSchema })).min(1) });

/** fal.ai's queue API: submit, poll the status URL, then read the result. */
export class FalProvider implements AIProvider {
  readonly name: string;

  constructor(
    private readonly config: ProviderConfig,
    private readonly http: Outbound,
  ) {
    this.name = config.name;
  }

  async enhanceImage({ imageUrl, enhancementType, signal }: EnhanceRequest): Promise<EnhanceResult> {
    const headers = { authorization: `Key ${requireKey(this.name, this.config.apiKey)}`, 'content-type': 'application/json' };
    const model = this.config.model ?? DEFAULT_MODEL;
    const body = JSON.stringify({ prompt: enhancementPrompts[enhancementType], image_urls: [imageUrl], num_images: 1 });
    const job = parseShape(submitted, await providerJson(this.http, apiUrl(this.config.baseUrl, model), { method: 'POST', headers, body, signal }), 'fal submit');
    // The key goes wherever these URLs point, so they must stay on the configured API's origin.
    const statusUrl = this.onOrigin(job.status_url, 'status_url');
    const responseUrl = this.onOrigin(job.response_url, 'response_url');
    // fal's queue API: PUT {cancel_url}; older answers without it follow the documented path.
    const cancelUrl = this.onOrigin(job.cancel_url ?? `${job.response_url}/cancel`, 'cancel_url');

    try {
      await pollUntil(signal, `fal request ${job.request_id}`, async () => {
        const s = parseShape(status, await providerJson(this.http, statusUrl, { headers, signal }), 'fal status');
        if (s.status === 'IN_QUEUE' || s.status === 'IN_PROGRESS') return undefined;
        if (s.status !== 'COMPLETED') throw new ProviderError('failed', `fal request ${job.request_id} ended with status ${s.status}${s.error ? `: ${s.error}` : ''}`);
        if (s.error) throw new ProviderError('failed', `fal request ${job.request_id} failed: ${s.error}`);
        return true;
      });
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'timeout') throw await this.cancel(cancelUrl, headers, err);
      throw err;
    }

    const result = parseShape(output, await providerJson(this.http, responseUrl, { headers, signal }), 'fal result');
    return { outputUrl: result.images[0]!.url, providerRequestId: job.request_id };
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
