import { lookup } from 'node:dns/promises';

export type ResolvedAddress = { address: string; family: 4 | 6 };

/** Turns a host name into addresses. Injectable so tests can answer what a hostile DNS would. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system's resolver (getaddrinfo: /etc/hosts, then DNS), every address it knows. */
export const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
