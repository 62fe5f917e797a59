import type { Outbound } from '../../net/outbound';
import sharp from 'sharp';
import { z } from 'zod';
import { providerJson } from '../http';
import { fetchInputImage, InputImageError } from '../input-image';
import type { MediaExt, MediaStore } from '../media-store';
import { enhancementPrompts, ProviderError, type AIProvider, type EnhanceRequest, type EnhanceResult, type ProviderConfig } from '../types';
import type { UrlPolicy } from '../url-policy';
import { apiUrl, parseShape, probeHealth, requireKey } from './common';

const DEFAULT_MODEL = 'gemini-2.5-flash-image';
const MAX_INPUT_BYTES = 10 * 1024 * 1024;
/** The edited image comes back base64-encoded inside the JSON, hence a far larger limit than other APIs. */
const MAX_RESPONSE_BYTES = 25 * 1024 * 1024;
/** Input types Gemini takes inline; anything else fetchImage allows (gif, avif) is sent as PNG. */
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);

const part = z.object({
  inlineData: z.object({ mimeType: z.string(), data: z.string().min(1) }).optional(),
  text: z.string().optional(),
});
const generated = z.object({
  candidates: z.array(z.object({ content: z.object({ parts: z.array(part).optional() }).optional(), finishReason: z.string().optional() })).optional(),
  promptFeedback: z.object({ blockReason: z.string().optional() }).optional(),
  responseId: z.string().optional(),
});

/** Gemini image editing: the image goes inline, the edited one comes back inline and is stored locally. */
export class GoogleProvider implements AIProvider {
  readonly name: string;

  constructor(
    private readonly config: ProviderConfig,
    private readonly media: MediaStore,
    private readonly policy: UrlPolicy,
    private readonly http: Outbound,
  ) {
    this.name = config.name;
  }

  async enhanceImage({ imageUrl, enhancementType, signal, image: fetched }: EnhanceRequest): Promise<EnhanceResult> {
    const apiKey = requireKey(this.name, this.config.apiKey);
    if (fetched && fetched.bytes.length > MAX_INPUT_BYTES) throw new InputImageError('too_large', `the image is over Gemini's ${MAX_INPUT_BYTES}-byte limit`);
    const input = fetched ?? (await fetchInputImage(imageUrl, this.policy, { maxBytes: MAX_INPUT_BYTES, signal }));
    const inline = await inlineImage(input.bytes, input.contentType);

    const url = apiUrl(this.config.baseUrl, `v1beta/models/${this.config.model ?? DEFAULT_MODEL}:generateContent`);
    const body = JSON.stringify({
      contents: [{ parts: [{ text: enhancementPrompts[enhancementType] }, { inline_data: inline }] }],
      generationConfig: { responseModalities: ['IMAGE'] },
    });
    const headers = { 'x-goog-api-key': apiKey, 'content-type': 'application/json' };
    const answer = parseShape(generated, await providerJson(this.http, url, { method: 'POST', headers, body, signal }, MAX_RESPONSE_BYTES), 'gemini generateContent');

    const candidate = answer.candidates?.[0];
    const parts = candidate?.content?.parts ?? [];
    const image = parts.find((p) => p.inlineData)?.inlineData;
    if (!image) {
      const why = [
        candidate?.finishReason && `finishReason ${candidate.finishReason}`,
        answer.promptFeedback?.blockReason && `blocked: ${answer.promptFeedback.blockReason}`,
        ...parts.filter((p) => p.text).map((p) => `"${p.text!.slice(0, 200)}"`),
      ].filter(Boolean);
      throw new ProviderError('failed', `the model returned no image${why.length ? ` (${why.join('; ')})` : ''}`);
    }
    const bytes = Buffer.from(image.data, 'base64');
    return { outputUrl: await this.media.save(bytes, await imageExt(bytes)), providerRequestId: answer.responseId ?? null };
  }

  healthCheck(signal: AbortSignal) {
    return probeHealth(this.http, this.config.healthCheckUrl ?? this.config.baseUrl, signal);
  }
}

async function inlineImage(bytes: Buffer, contentType: string) {
  if (INLINE_TYPES.has(contentType)) return { mime_type: contentType, data: bytes.toString('base64') };
  const png = await sharp(bytes)
    .png()
    .toBuffer()
    .catch(() => {
      throw new InputImageError('malformed', `the input image (${contentType}) could not be decoded`);
    });
  return { mime_type: 'image/png', data: png.toString('base64') };
}

/** The file's extension comes from the decoded bytes, not the claimed mimeType, so /media serves what it says. */
async function imageExt(bytes: Buffer): Promise<MediaExt> {
  const format = await sharp(bytes)
    .metadata()
    .then((m) => m.format)
    .catch(() => undefined);
  if (format === 'png' || format === 'jpeg' || format === 'webp') return format;
  throw new ProviderError('malformed', `the model returned inline data that is not a PNG, JPEG or WebP image (${format ?? 'undecodable'})`);
}
