/**
 * Where webhooks may be sent: public unicast addresses only, unless the operator allows loopback
 * (the embedded `npm start`, so a local receiver works) or private ranges. Checked at registration
 * and again before every delivery, so a name that later resolves inward is refused too (docs/rules.md §6.6).
 */
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { DomainError } from '../domain/errors';
import { WEBHOOK_URL_MAX_LENGTH } from '../domain/webhooks';

export interface NetworkPolicy {
  allowLoopback: boolean;
  allowPrivate: boolean;
}

const forbidden = (message: string) => new DomainError('webhook_url_forbidden', message, 400);

function classify(address: string): string {
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range();
}

function allowed(range: string, policy: NetworkPolicy): boolean {
  if (range === 'unicast') return true;
  if (range === 'loopback') return policy.allowLoopback;
  if (['private', 'uniqueLocal', 'carrierGradeNat'].includes(range)) return policy.allowPrivate;
  return false; // linkLocal (cloud metadata), unspecified, multicast, broadcast, reserved, …
}

/** Parses and checks a webhook URL; throws webhook_url_invalid / webhook_url_forbidden. Answers the resolved addresses. */
export async function assertDeliverableUrl(raw: string, policy: NetworkPolicy): Promise<string[]> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DomainError('webhook_url_invalid', 'url must be an absolute http(s) URL', 400);
  }
  if (raw.length > WEBHOOK_URL_MAX_LENGTH)
    throw new DomainError('webhook_url_invalid', `url must be at most ${WEBHOOK_URL_MAX_LENGTH} characters`, 400);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DomainError('webhook_url_invalid', 'url must use http or https', 400);
  if (url.username || url.password) throw new DomainError('webhook_url_invalid', 'url must not carry credentials', 400);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (ipaddr.isValid(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new DomainError('webhook_url_unresolvable', `the host ${host} does not resolve`, 400);
    }
  }
  for (const address of addresses) {
    const range = classify(address);
    if (!allowed(range, policy)) throw forbidden(`url resolves to ${address} (${range}), which webhooks may not reach`);
  }
  return addresses;
}
