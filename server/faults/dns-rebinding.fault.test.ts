import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailChannel } from '../alerts/channels/email';
import { postJson } from '../alerts/channels/http-post';
import { SecretBox } from '../auth/secrets';
import { addressRefusal } from '../net/address-policy';
import { Outbound, outboundRefusal, OutboundRefusedError } from '../net/outbound';
import type { Resolver } from '../net/resolver';
import { HttpBilling } from '../pools/billing';
import { probeHealth } from '../providers/adapters/common';
import { fetchImage, providerJson } from '../providers/http';
import { ProviderError } from '../providers/types';
import { startCountingServer } from './lib/counting-server';

// A public address the checks may see but nothing ever connects to: every refusal happens before a socket opens.
const PUBLIC = '93.184.216.34';

let internal: Awaited<ReturnType<typeof startCountingServer>>;
beforeAll(async () => {
  internal = await startCountingServer();
});
afterAll(() => internal.close());

/** A hostile DNS server: the first answer for each name is public, every later one is 127.0.0.1. */
function rebindingResolver(): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (host: string) => {
    calls.push(host);
    return [{ address: calls.filter((h) => h === host).length === 1 ? PUBLIC : '127.0.0.1', family: 4 as const }];
  };
  return Object.assign(resolver, { calls });
}

const signal = () => AbortSignal.timeout(5_000);

describe('[SSRF] DNS rebinding is refused at connect time', () => {
  it('an image URL whose name answers public for the check and 127.0.0.1 for the connection is refused, and nothing connects', async () => {
    const resolver = rebindingResolver();
    const policy = new Outbound({ allowPrivate: false, resolver });
    const before = internal.state.connections;
    const err = await fetchImage(`http://rebind.test:${internal.port}/img.png`, policy, { maxBytes: 1e6, signal: signal() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'refused_url', message: expect.stringMatching(/rebind\.test \(127\.0\.0\.1\) is a loopback address/) });
    // Looked up twice: the URL check (public, passed) and the connection (loopback, refused).
    expect(resolver.calls).toEqual(['rebind.test', 'rebind.test']);
    expect(internal.state.connections).toBe(before);
    await policy.close();
  });

  it('a metadata address at connect time is refused even where private addresses are allowed', async () => {
    let n = 0;
    const policy = new Outbound({ allowPrivate: true, resolver: async () => [{ address: n++ === 0 ? PUBLIC : '169.254.169.254', family: 4 }] });
    const err = await fetchImage(`http://metadata.test:${internal.port}/img.png`, policy, { maxBytes: 1e6, signal: signal() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'refused_url', message: expect.stringContaining('169.254.169.254') });
    await policy.close();
  });

  it('the connection uses the injected resolver: a name only it knows reaches the loopback server when private addresses are allowed', async () => {
    const policy = new Outbound({ allowPrivate: true, resolver: async () => [{ address: '127.0.0.1', family: 4 }] });
    const image = await fetchImage(`http://images.only-in-the-test-resolver:${internal.port}/img.png`, policy, { maxBytes: 1e6, signal: signal() });
    expect(image.contentType).toBe('image/png');
    expect(image.bytes.length).toBeGreaterThan(0);
    await policy.close();
  });

  it('every admin-URL client (provider API, health check, billing, Slack/SMS, SMTP) goes through the checked lookup', async () => {
    const resolver = rebindingResolver();
    const outbound = new Outbound({ allowPrivate: false, resolver });
    // As at save time: the checks see the public address...
    await outbound.checkUrl(`http://api.rebind.test:${internal.port}/`);
    await outbound.resolveChecked('smtp.rebind.test');
    const before = internal.state.connections;
    const url = (path: string) => `http://api.rebind.test:${internal.port}${path}`;

    // ...and every connection afterwards sees 127.0.0.1 and is refused.
    await expect(providerJson(outbound, url('/v1/run'), { method: 'POST', body: '{}', signal: signal() })).rejects.toMatchObject({ kind: 'refused_url' });
    const health = await probeHealth(outbound, url('/health'), signal());
    expect(health).toMatchObject({ ok: false, detail: expect.stringMatching(/^refused: .*loopback/) });
    const secrets = new SecretBox(randomBytes(32));
    const billing = new HttpBilling(secrets, outbound, 2_000);
    await expect(billing.balance({ provider: 'p', billingUrl: url('/billing'), billingApiKeyEncrypted: secrets.encrypt('billing-key') })).rejects.toThrow(/billing endpoint refused: .*loopback/);
    await expect(postJson(outbound, url('/slack/T/B/x'), { text: 'hi' }, { timeoutMs: 2_000 })).rejects.toThrow(/^refused: .*loopback/);
    // SMTP: nodemailer is handed the checked address, so its one lookup is ours.
    await expect(
      emailChannel.send(
        { subject: 's', text: 't' },
        {
          channel: 'email',
          enabled: true,
          cooldownSeconds: 0,
          secretEncrypted: secrets.encrypt('smtp-password'),
          config: { host: 'smtp.rebind.test', port: internal.port, secure: false, from: 'a@example.com', to: ['b@example.com'], user: 'u', allowInsecureAuth: true, caPem: null },
        },
        { secrets, outbound, timeoutMs: 2_000 },
      ),
    ).rejects.toThrow(/refused: .*loopback/);
    expect(internal.state.connections).toBe(before);
    await outbound.close();
  });

  it('an address literal is checked at connect time too, including the IPv6 forms of 127.0.0.1', async () => {
    const outbound = new Outbound({ allowPrivate: false });
    const before = internal.state.connections;
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:ffff:127.0.0.1]']) {
      const err = await outbound.fetch(`http://${host}:${internal.port}/img.png`).catch((e: unknown) => e);
      expect(outboundRefusal(err), host).toBeInstanceOf(OutboundRefusedError);
    }
    expect(internal.state.connections).toBe(before);
    await outbound.close();
  });
});

describe('[SSRF] IPv6 forms that embed an IPv4 address are judged by that address', () => {
  const strict = { allowPrivate: false };
  const lenient = { allowPrivate: true };
  it.each([
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['::a9fe:a9fe', 'IPv4-compatible metadata'],
    ['::ffff:0:7f00:1', 'IPv4-translated loopback'],
    ['64:ff9b::7f00:1', 'NAT64 loopback'],
    ['64:ff9b::a00:1', 'NAT64 10.0.0.1'],
    ['2002:7f00:1::1', '6to4 loopback'],
    ['2002:c0a8:101::1', '6to4 192.168.1.1'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'Teredo with client 127.0.0.1'],
    ['2001:0:7f00:1::', 'Teredo with server 127.0.0.1'],
  ])('%s (%s) is refused under the strict policy', (address) => {
    expect(addressRefusal(address, strict)).toMatch(/IPv6 form of/);
  });

  it.each([['::ffff:169.254.169.254'], ['64:ff9b::a9fe:a9fe'], ['2002:a9fe:a9fe::'], ['fd00:ec2::254'], ['100.100.100.200'], ['0.0.0.0'], ['::']])(
    '%s is refused even where private addresses are allowed',
    (address) => {
      expect(addressRefusal(address, lenient)).not.toBeNull();
    },
  );

  it.each([['64:ff9b::808:808'], ['2002:808:808::1'], ['::ffff:8.8.8.8'], ['2606:4700::1111'], ['8.8.8.8']])('%s, a route to a public address, is allowed', (address) => {
    expect(addressRefusal(address, strict)).toBeNull();
  });
});
