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
