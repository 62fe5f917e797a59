import type { Outbound } from '../../net/outbound';
import type { MediaStore } from '../media-store';
import type { AIProvider, ProviderConfig } from '../types';
import type { UrlPolicy } from '../url-policy';
import { FalProvider } from './fal';
import { GoogleProvider } from './google';
import { KieProvider } from './kie';
import { LocalProvider } from './local';
import { NanoBananaProvider } from './nanobanana';

export type ProviderDeps = {
  media: MediaStore;
  /** Input images are fetched under this policy (ALLOW_PRIVATE_IMAGE_URLS). */
  urlPolicy: UrlPolicy;
  /** Provider APIs and health checks go out through this one (ALLOW_PRIVATE_OUTBOUND). */
  outbound: Outbound;
  /** `{PUBLIC_URL}/callbacks`: where providers that call back are pointed (NanoBanana requires a callBackUrl). */
  callbackBase: string;
};

/** Builds the adapter for one api_providers row. */
export function createProvider(config: ProviderConfig, deps: ProviderDeps): AIProvider {
  switch (config.kind) {
    case 'fal':
      return new FalProvider(config, deps.outbound);
    case 'kie':
      return new KieProvider(config, deps.outbound);
    case 'nanobanana':
      return new NanoBananaProvider(config, deps.outbound, deps.callbackBase);
    case 'google':
      return new GoogleProvider(config, deps.media, deps.urlPolicy, deps.outbound);
    case 'local':
      return new LocalProvider(config.name, deps.media, deps.urlPolicy);
  }
}
