import sharp, { type Sharp } from 'sharp';
import type { EnhancementType } from '../../../shared/credits';
import { fetchInputImage, InputImageError, MAX_INPUT_BYTES, MAX_INPUT_PIXELS } from '../input-image';
import type { MediaStore } from '../media-store';
import { ProviderError, type AIProvider, type EnhanceRequest, type EnhanceResult, type HealthResult } from '../types';
import type { UrlPolicy } from '../url-policy';

/** Decoding cost grows with pixels, not bytes: a small PNG can hold a huge canvas. */
const MAX_PIXELS = MAX_INPUT_PIXELS;
/** Every image this server writes to /media is at most this long on its long side (disk is not free). */
export const MAX_OUTPUT_EDGE = 2048;

/** CSS saturate(s) as its colour matrix (Filter Effects spec), so the server look matches the browser's. */
function saturateMatrix(s: number): [[number, number, number], [number, number, number], [number, number, number]] {
  return [
    [0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s],
    [0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s],
    [0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s],
  ];
}

/**
 * brightness(1.2) contrast(1.1) saturate(1.1): brightness multiplies by 1.2, contrast maps v to
 * 1.1·(v − 127.5) + 127.5, together 1.32·v − 12.75. The saturate matrix keeps greys and its rows sum
 * to 1, so it commutes with that per-channel map and sharp's fixed operation order does not matter.
 */
function cssLook(image: Sharp): Sharp {
  return image.recomb(saturateMatrix(1.1)).linear(1.32, -12.75);
}

/** Decodes with the pixel limit checked up front, so an oversized image is refused before it is decoded. */
async function decode(bytes: Buffer): Promise<{ image: Sharp; width: number; height: number }> {
  const meta = await sharp(bytes)
    .metadata()
    .catch(() => {
      throw new InputImageError('malformed', 'the input could not be decoded as an image');
    });
  const { width, height } = meta.autoOrient;
  if (width * height > MAX_PIXELS) throw new InputImageError('too_large', `the image is ${width}×${height}, over the ${MAX_PIXELS / 1e6}-megapixel limit`);
  return { image: sharp(bytes, { limitInputPixels: MAX_PIXELS, autoOrient: true }), width, height };
}

/** Shrinks to the output bound; never enlarges. */
function bounded(image: Sharp): Sharp {
  return image.resize(MAX_OUTPUT_EDGE, MAX_OUTPUT_EDGE, { fit: 'inside', withoutEnlargement: true });
}

/** The degraded `lighting` look, for when no provider could serve: the same filter the client would apply in CSS. */
export async function applyCssFilterLook(bytes: Buffer): Promise<Buffer> {
  const { image } = await decode(bytes);
  return cssLook(bounded(image)).png().toBuffer();
}

function enhance(image: Sharp, type: EnhancementType, width: number, height: number): Sharp {
  switch (type) {
    case 'lighting':
      return cssLook(image);
    case 'color':
      return image.modulate({ saturation: 1.25 }).normalise();
    case 'sharpen':
      return image.sharpen();
    case 'denoise':
      return image.median(3);
    case 'upscale': {
      // Twice the size, but never past the output bound on the long edge (an image already past it is shrunk to it).
      const factor = Math.min(2, MAX_OUTPUT_EDGE / Math.max(width, height));
      return image.resize(Math.max(1, Math.round(width * factor)), Math.max(1, Math.round(height * factor)), { kernel: 'lanczos3' }).sharpen({ sigma: 0.5 });
    }
    case 'style':
      // A muted, slightly lifted editorial tone.
      return image.modulate({ saturation: 0.9, brightness: 1.04 }).linear(1.06, -6);
  }
}

/** The built-in provider: enhances on this server with sharp, costs nothing and needs no network. */
export class LocalProvider implements AIProvider {
  constructor(
    readonly name: string,
    private readonly media: MediaStore,
    private readonly policy: UrlPolicy,
  ) {}

  async enhanceImage({ imageUrl, enhancementType, signal, image: fetched }: EnhanceRequest): Promise<EnhanceResult> {
    // Refuse before fetching: a full disk is this provider's failure, whatever the input.
    await this.media.assertRoom();
    // Our own images (the built-in sample, an earlier result) are read from disk, not fetched from ourselves.
    const input = fetched ?? (await this.media.readOwn(imageUrl)) ?? (await fetchInputImage(imageUrl, this.policy, { maxBytes: MAX_INPUT_BYTES, signal }));
    const { image, width, height } = await decode(input.bytes);
    const shaped = enhancementType === 'upscale' ? enhance(image, enhancementType, width, height) : enhance(bounded(image), enhancementType, width, height);
    const png = await shaped
      .png()
      .toBuffer()
      .catch((err: Error) => {
        throw new ProviderError('failed', `local ${enhancementType} failed: ${err.message}`);
      });
    return { outputUrl: await this.media.save(png, 'png'), providerRequestId: null };
  }

  async healthCheck(): Promise<HealthResult> {
    const started = performance.now();
    try {
      await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
        .png()
        .toBuffer();
      return { ok: true, latencyMs: Math.round(performance.now() - started), detail: null };
    } catch (err) {
      return { ok: false, latencyMs: Math.round(performance.now() - started), detail: `sharp is not usable: ${(err as Error).message}` };
    }
  }
}
