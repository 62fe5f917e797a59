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
  urlPolicy: UrlPolicy;
  /** A public URL answering 2xx, for NanoBanana's callBackUrl (its API documents it as required). */
  nanobananaCallbackUrl?: string;
};

/** Builds the adapter for one api_providers row. */
export function createProvider(config: ProviderConfig, deps: ProviderDeps): AIProvider {
  switch (config.kind) {
    case 'fal':
      return new FalProvider(config);
    case 'kie':
      return new KieProvider(config);
    case 'nanobanana':
      return new NanoBananaProvider(config, deps.nanobananaCallbackUrl);
    case 'google':
      return new GoogleProvider(config, deps.media, deps.urlPolicy);
    case 'local':
      return new LocalProvider(config.name, deps.media, deps.urlPolicy);
  }
}
