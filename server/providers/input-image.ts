import sharp from 'sharp';
import { fetchImage, type FetchLimits } from './http';
import { ProviderError, type ProviderErrorKind } from './types';
import type { UrlPolicy } from './url-policy';

/**
 * The caller's input image is at fault: it cannot be fetched, is too large or is not an image, or a
 * provider refused it with a 4xx about the input. Never a provider failure (a caller must not be
 * able to open a provider's circuit with bad URLs): the request is refused with BAD_REQUEST.
 */
export class InputImageError extends ProviderError {
  constructor(kind: ProviderErrorKind, message: string, httpStatus: number | null = null) {
    super(kind, message, httpStatus);
    this.name = 'InputImageError';
  }
}

/** A provider's answers that mean "your input is wrong", as opposed to auth, quota or its own trouble. */
const INPUT_STATUSES = new Set([400, 413, 415, 422]);

export type InputImage = { bytes: Buffer; contentType: string };

/** What the gateway accepts as an input: the largest download and, since decoding grows with pixels, the largest canvas. */
export const MAX_INPUT_BYTES = 20 * 1024 * 1024;
export const MAX_INPUT_PIXELS = 40_000_000;
const CHECK_TIMEOUT_MS = 10_000;

/**
 * Fetches the caller's image once and checks it decodes within the pixel limit, before anything is
 * claimed or held: a bad input is refused with nothing written. Adapters that need the bytes reuse them.
 */
export async function checkInputImage(url: string, policy: UrlPolicy): Promise<InputImage> {
  const image = await fetchInputImage(url, policy, { maxBytes: MAX_INPUT_BYTES, signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
  const meta = await sharp(image.bytes)
    .metadata()
    .catch(() => {
      throw new InputImageError('malformed', 'the input could not be decoded as an image');
    });
  const { width, height } = meta.autoOrient;
  if (width * height > MAX_INPUT_PIXELS) throw new InputImageError('too_large', `the image is ${width}×${height}, over the ${MAX_INPUT_PIXELS / 1e6}-megapixel limit`);
  return image;
}

/** Fetches the caller's image; whatever goes wrong is the caller's error. */
export async function fetchInputImage(url: string, policy: UrlPolicy, limits: FetchLimits): Promise<{ bytes: Buffer; contentType: string }> {
  try {
    return await fetchImage(url, policy, limits);
  } catch (err) {
    throw err instanceof ProviderError ? new InputImageError(err.kind, err.message, err.httpStatus) : err;
  }
}

/** The input refusal an attempt's error amounts to, or null when it is the provider's failure. */
export function inputRefusal(err: unknown): InputImageError | null {
  if (err instanceof InputImageError) return err;
  if (err instanceof ProviderError && err.kind === 'http' && err.httpStatus !== null && INPUT_STATUSES.has(err.httpStatus)) {
    return new InputImageError('http', `the provider refused the input: ${err.message}`, err.httpStatus);
  }
  return null;
}
