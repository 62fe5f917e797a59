import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch, request as undiciRequest, type Dispatcher, type RequestInit, type Response } from 'undici';
import { addressRefusal, type AddressPolicy } from './address-policy';
import { systemResolver, type ResolvedAddress, type Resolver } from './resolver';

/** A destination the outbound policy refuses; the cause of the failed request or connection. */
export class OutboundRefusedError extends Error {
  override name = 'OutboundRefusedError';
  readonly code = 'OUTBOUND_REFUSED';
}

/** The refusal behind a failed fetch (undici wraps connect errors as `cause`), if that is what it was. */
export function outboundRefusal(err: unknown): OutboundRefusedError | null {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e instanceof OutboundRefusedError) return e;
  }
  return null;
}

const bare = (host: string) => host.replace(/^\[|\]$/g, '');

export type OutboundRequest = { method?: Dispatcher.HttpMethod; headers?: Record<string, string>; body?: string; signal: AbortSignal };

export type OutboundOptions = AddressPolicy & { resolver?: Resolver; connectTimeoutMs?: number };

/**
 * The one way out of the server over HTTP (and the address check for SMTP). Every connection its
 * agent opens looks its host up through the policy at connect time, so a name that resolved to a
 * public address when a URL was checked and to 127.0.0.1 a moment later (DNS rebinding) is refused
 * before a socket is opened. The process builds one per policy: image URLs follow
 * ALLOW_PRIVATE_IMAGE_URLS, admin-set URLs ALLOW_PRIVATE_OUTBOUND. Connections are pooled per agent,
 * so a connection opened under one policy is never reused under the other.
 */
export class Outbound {
  readonly allowPrivate: boolean;
  readonly dispatcher: Agent;
  private readonly resolver: Resolver;

  constructor(options: OutboundOptions) {
    this.allowPrivate = options.allowPrivate;
    this.resolver = options.resolver ?? systemResolver;
    const base = buildConnector({ timeout: options.connectTimeoutMs ?? 10_000, lookup: this.lookup });
    this.dispatcher = new Agent({
      connect: (opts, callback) => {
        // net.connect skips the lookup for an address literal, so literals are judged here.
        const host = bare(opts.hostname);
        if (isIP(host)) {
          const refused = this.refusal(host);
          if (refused) return void callback(refused, null);
        }
        base(opts, callback);
      },
    });
  }

  private refusal(address: string, host = address): OutboundRefusedError | null {
    const why = addressRefusal(address, this);
    if (!why) return null;
    const named = host === address ? address : `${host} (${address})`;
    return new OutboundRefusedError(`${named} is ${why}; private and reserved addresses are refused`);
  }

  /** The connect-time lookup: every address the name has must pass, or the connection is refused. */
  private readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolveChecked(hostname).then(
      (found) => {
        const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
        if (!wanted.length) return callback(Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: 'ENOTFOUND' }), '', 4);
        if (options.all) (callback as unknown as (err: null, all: ResolvedAddress[]) => void)(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 4),
    );
  };

  /** The host's addresses, each allowed by the policy; refused (or unresolvable) otherwise. */
  async resolveChecked(rawHost: string): Promise<ResolvedAddress[]> {
    const host = bare(rawHost);
    const family = isIP(host);
    const found: ResolvedAddress[] = family
      ? [{ address: host, family: family as 4 | 6 }]
      : await this.resolver(host).catch((err: NodeJS.ErrnoException) => {
          throw Object.assign(new Error(`cannot resolve ${host}: ${err.code ?? err.message}`), { code: err.code ?? 'ENOTFOUND' });
        });
    if (!found.length) throw Object.assign(new Error(`cannot resolve ${host}`), { code: 'ENOTFOUND' });
    for (const a of found) {
      const refused = this.refusal(a.address, host);
      if (refused) throw refused;
    }
    return found;
  }

  /**
   * Checks a URL before anything is sent: http(s) only, no credentials in it, and (unless
   * `resolve` is false) every address of its host allowed. The connect-time lookup checks again.
   */
  async checkUrl(raw: string | URL, { resolve = true } = {}): Promise<URL> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new OutboundRefusedError(`not a URL: ${String(raw).slice(0, 100)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefusedError(`only http(s) URLs are fetched, not ${url.protocol}`);
    if (url.username || url.password) throw new OutboundRefusedError('URLs with credentials are refused');
    if (resolve) {
      try {
        await this.resolveChecked(url.hostname);
      } catch (err) {
        throw err instanceof OutboundRefusedError ? err : new OutboundRefusedError((err as Error).message);
      }
    }
    return url;
  }

  /** fetch through the checked agent; a refused destination rejects with OutboundRefusedError as the cause. */
  async fetch(raw: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = await this.checkUrl(raw, { resolve: false });
    return undiciFetch(url, { ...init, dispatcher: this.dispatcher });
  }

  /**
   * The same through undici's request API: no WHATWG Request, Response, Headers or web stream per
   * call (fetch's were a sixth of the server's busy time in an enhancement's profile, four calls
   * each). Redirects are never followed; headers come back lower-cased, the body as a Node stream.
   */
  async request(raw: string | URL, options: OutboundRequest): Promise<Dispatcher.ResponseData> {
    const url = await this.checkUrl(raw, { resolve: false });
    return undiciRequest(url, { method: options.method ?? 'GET', headers: options.headers, body: options.body, signal: options.signal, dispatcher: this.dispatcher });
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
