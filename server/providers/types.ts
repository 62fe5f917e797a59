import type { EnhancementType } from '../../shared/credits';

export type EnhanceRequest = {
  /** The input image, already checked against the URL policy. */
  imageUrl: string;
  enhancementType: EnhancementType;
  /** Our id for this attempt; adapters pass it on where the provider accepts one. */
  requestId: string;
  /** Aborted when the attempt's time is up: adapters must stop polling and fetching. */
  signal: AbortSignal;
  /** The input's bytes as the gateway already fetched and checked them, for adapters that send or process bytes. */
  image?: { bytes: Buffer; contentType: string };
  /** Task providers (NanoBanana, Kie, fal): callbacks, and resuming a task already submitted. */
  task?: TaskOptions;
};

/** A provider task as submitted: what it takes to poll it again, from any process. JSON only. */
export type ProviderTask = { taskId: string; statusUrl?: string; responseUrl?: string; cancelUrl?: string };

/** What a poll or a callback says of a task. */
export type TaskState = { state: 'pending' } | { state: 'done'; outputUrl: string } | { state: 'failed'; message: string };

export type TaskOptions = {
  /** Where the provider should report completion; null sends none (the poll alone settles). */
  callbackUrl?: string | null;
  /** A task this attempt already submitted: it is polled, never submitted again. */
  resume?: ProviderTask | null;
  /** Told the moment a task exists, before the first poll, so a retry or a restart can resume it. */
  onSubmitted?: (task: ProviderTask) => Promise<void> | void;
};

export type EnhanceResult = { outputUrl: string; providerRequestId: string | null };

export type HealthResult = { ok: boolean; latencyMs: number; detail: string | null };

/** One AI provider behind the gateway. */
export interface AIProvider {
  readonly name: string;
  enhanceImage(request: EnhanceRequest): Promise<EnhanceResult>;
  healthCheck(signal: AbortSignal): Promise<HealthResult>;
  /**
   * Providers that call back: reads a callback body for `task` (documented payload shape). A body
   * about another task, or one that does not parse, is null: it settles nothing.
   */
  parseCallback?(task: ProviderTask, body: unknown): TaskState | null;
}

export const providerKinds = ['nanobanana', 'fal', 'kie', 'google', 'local'] as const;
export type ProviderKind = (typeof providerKinds)[number];

/** What an adapter is built from: one api_providers row, its key decrypted. */
export type ProviderConfig = {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  apiKey: string | null;
  model: string | null;
  healthCheckUrl: string | null;
};

export type ProviderErrorKind = 'http' | 'timeout' | 'malformed' | 'failed' | 'network' | 'too_large' | 'redirect' | 'refused_url' | 'quota';

/** A failed attempt, with what went wrong in words an admin can act on. */
export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly httpStatus: number | null = null,
    /** A 429/503's Retry-After, in milliseconds: the provider's own minimum cool-down. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** One sentence per enhancement type, used as the prompt by providers that take one. */
export const enhancementPrompts: Record<EnhancementType, string> = {
  lighting: 'Improve the lighting of this image: balanced exposure, natural highlights and shadows. Keep the content unchanged.',
  upscale: 'Upscale this image to a higher resolution with crisp detail. Keep the content unchanged.',
  color: 'Enhance the colors of this image: vivid but natural saturation and accurate white balance. Keep the content unchanged.',
  sharpen: 'Sharpen this image: clear edges and fine detail without halos. Keep the content unchanged.',
  denoise: 'Remove noise and grain from this image while keeping detail. Keep the content unchanged.',
  style: 'Give this image a polished, editorial moodboard look. Keep the composition unchanged.',
};
