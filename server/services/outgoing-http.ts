import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import net, { BlockList } from 'node:net';
import { fieldError } from '../errors.js';

/*
 * Every HTTP request Affix itself sends (affiliate and source postbacks, webhooks, and any
 * integration) goes through this module, which applies SPEC §10a: no loopback, private,
 * link-local, CGNAT, multicast or otherwise reserved address, however the URL spells it (the
 * WHATWG parser already turns `127.1`, `0x7f000001` and `2130706433` into `127.0.0.1`), and no
 * redirects. URLs are checked when they are saved (the literal address, or what the name resolves
 * to now) and again at every send on the address actually connected to: the request's own DNS
 * lookup refuses a forbidden answer, so a name cannot resolve to a public address when saved and
 * to an internal one when called.
 */

const ranges = (type: 'ipv4' | 'ipv6', list: Array<[string, number, string]>) =>
  list.map(([network, prefix, kind]) => {
    const block = new BlockList();
    block.addSubnet(network, prefix, type);
    return { block, type, kind };
  });

const IPV4 = ranges('ipv4', [
  ['0.0.0.0', 8, 'an unspecified'],
  ['10.0.0.0', 8, 'a private'],
  ['100.64.0.0', 10, 'a shared (CGNAT)'],
  ['127.0.0.0', 8, 'a loopback'],
  ['169.254.0.0', 16, 'a link-local'],
  ['172.16.0.0', 12, 'a private'],
  ['192.0.0.0', 24, 'a reserved'],
  ['192.0.2.0', 24, 'a documentation'],
  ['192.168.0.0', 16, 'a private'],
  ['198.18.0.0', 15, 'a reserved'],
  ['198.51.100.0', 24, 'a documentation'],
  ['203.0.113.0', 24, 'a documentation'],
  ['224.0.0.0', 4, 'a multicast'],
  // Reserved, with the broadcast address 255.255.255.255.
  ['240.0.0.0', 4, 'a reserved (or broadcast)'],
]);

const IPV6 = ranges('ipv6', [
  ['::', 128, 'an unspecified'],
  ['::1', 128, 'a loopback'],
  // Local-use NAT64 (RFC 8215): the IPv4 address it carries sits where the operator's prefix puts it.
  ['64:ff9b:1::', 48, 'a translated (local NAT64)'],
  ['100::', 64, 'a discard-only'],
  // Teredo: the client's IPv4 address is hidden (inverted) in the address; no target of ours.
  ['2001::', 32, 'a tunnelled (Teredo)'],
  ['2001:db8::', 32, 'a documentation'],
  ['fc00::', 7, 'a private (unique local)'],
  ['fe80::', 10, 'a link-local'],
  ['fec0::', 10, 'a private (site-local)'],
  ['ff00::', 8, 'a multicast'],
]);

/** The eight 16-bit words of an IPv6 address (with or without brackets, zone, or a dotted IPv4 tail). */
function ipv6Words(address: string): number[] | null {
  let text = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    if (!net.isIPv4(dotted[2]!)) return null;
    const b = dotted[2]!.split('.').map(Number) as [number, number, number, number];
    tail.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
    text = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const words = (part: string) => (part ? part.split(':').map((w) => parseInt(w, 16)) : []);
  const head = words(halves[0]!);
  const rest = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - tail.length - head.length - rest.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
  const all = [...head, ...Array<number>(fill).fill(0), ...rest, ...tail];
  return all.length === 8 && all.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? all : null;
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** The IPv4 address an IPv6 address carries (mapped, translated, compatible, NAT64, 6to4), if any. */
function embeddedIpv4(address: string): string | null {
  const w = ipv6Words(address);
  if (!w) return null;
  const zero = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && w[5] === 0xffff) return v4(w[6]!, w[7]!); // ::ffff:a.b.c.d
  if (zero(0, 4) && w[4] === 0xffff && w[5] === 0) return v4(w[6]!, w[7]!); // ::ffff:0:a.b.c.d
  if (zero(0, 6)) return v4(w[6]!, w[7]!); // ::a.b.c.d (deprecated "compatible" form)
  if (w[0] === 0x64 && w[1] === 0xff9b && zero(2, 6)) return v4(w[6]!, w[7]!); // NAT64
  if (w[0] === 0x2002) return v4(w[1]!, w[2]!); // 6to4
  return null;
}

/** What kind of address `ip` is when Affix must not call it ("a loopback", …), or null for a public one. */
export function forbiddenAddressKind(ip: string): string | null {
  const address = ip.replace(/^\[|\]$/g, '').split('%')[0]!;
  if (net.isIPv4(address)) return IPV4.find((r) => r.block.check(address, 'ipv4'))?.kind ?? null;
  if (!net.isIPv6(address)) return 'an unrecognised';
  const kind = IPV6.find((r) => r.block.check(address, 'ipv6'))?.kind;
  if (kind) return kind;
  const inner = embeddedIpv4(address);
  return inner ? forbiddenAddressKind(inner) : null;
}

/** Thrown (at send time) when the rule refuses the target: a permanent failure, not worth a retry. */
export class ForbiddenTarget extends Error {
  override name = 'ForbiddenTarget';
}

const ONLY_PUBLIC =
  'Affix calls only public addresses (AFFIX_ALLOW_PRIVATE_TARGETS=true allows others on a closed network)';

export interface OutgoingRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  timeoutMs: number;
}

export interface OutgoingAnswer {
  status: number;
  statusText: string;
  /** The Location header of a redirect (never followed). */
  location: string | null;
}

export interface OutgoingHttpOptions {
  /** AFFIX_ALLOW_PRIVATE_TARGETS: the rule is off (a closed network). */
  allowPrivate: boolean;
  /** How long the save-time check waits for DNS (ms). */
  resolveTimeoutMs?: number;
}

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, '');

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

export class OutgoingHttp {
  readonly allowPrivate: boolean;
  private readonly resolveTimeoutMs: number;

  constructor(opts: OutgoingHttpOptions) {
    this.allowPrivate = opts.allowPrivate;
    this.resolveTimeoutMs = opts.resolveTimeoutMs ?? 3000;
  }

  /**
   * Null when the address rule lets Affix call `url`, else why not (for a field error). A name is
   * resolved now; one that does not resolve (yet) reaches nothing and is accepted: every send
   * checks again. Whether the value is an http(s) URL at all is for the field's schema to say.
   */
  async problem(url: string): Promise<string | null> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return null;
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || this.allowPrivate) return null;
    const host = bare(u.hostname);
    if (net.isIP(host)) {
      const kind = forbiddenAddressKind(host);
      return kind ? `must be a public address: ${host} is ${kind} address` : null;
    }
    // RFC 6761: localhost and its subdomains are loopback names, whatever a DNS server answers.
    if (/^(.+\.)?localhost\.?$/i.test(host)) return `must be a public address: ${host} is a loopback name`;
    let addresses: dns.LookupAddress[];
    try {
      addresses = await this.resolve(host);
    } catch {
      return null;
    }
    for (const { address } of addresses) {
      const kind = forbiddenAddressKind(address);
      if (kind) return `must be a public address: ${host} resolves to ${address}, ${kind} address`;
    }
    return null;
  }

  /** Throws a 422 naming `field` when Affix may not call `url` (nothing to check for an empty value). */
  async check(field: string, url: string | null | undefined): Promise<void> {
    if (!url) return;
    const problem = await this.problem(url);
    if (problem) throw fieldError(field, problem);
  }

  /**
   * Sends one request and answers its status; redirects are answered, never followed. Rejects
   * with ForbiddenTarget when the rule refuses the address, or with the network error.
   */
  send(req: OutgoingRequest): Promise<OutgoingAnswer> {
    let u: URL;
    try {
      u = new URL(req.url);
    } catch {
      return Promise.reject(new ForbiddenTarget('the URL is not valid'));
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      return Promise.reject(new ForbiddenTarget(`unsupported URL scheme ${u.protocol}`));
    }
    const host = bare(u.hostname);
    // An IP literal is connected to without a lookup, so it is checked here; names in `lookup`.
    if (!this.allowPrivate && net.isIP(host)) {
      const kind = forbiddenAddressKind(host);
      if (kind) return Promise.reject(new ForbiddenTarget(`${host} is ${kind} address; ${ONLY_PUBLIC}`));
    }
    const client = u.protocol === 'https:' ? https : http;
    return new Promise<OutgoingAnswer>((resolve, reject) => {
      const outgoing = client.request(
        u,
        {
          method: req.method,
          headers: req.headers,
          ...(this.allowPrivate ? {} : { lookup: this.checkedLookup }),
        },
        (res) => {
          // The answer's body is not needed; release the connection.
          res.resume();
          clearTimeout(timer);
          const location = res.headers.location;
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', location: location ?? null });
        },
      );
      const timer = setTimeout(() => {
        const err = new Error(`no answer within ${req.timeoutMs / 1000} s`);
        err.name = 'TimeoutError';
        outgoing.destroy(err);
      }, req.timeoutMs);
      outgoing.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      outgoing.end(req.body ?? undefined);
    });
  }

  /** The connection's DNS lookup: every address the name has must be allowed, and one of those is used. */
  private readonly checkedLookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      for (const { address } of addresses) {
        const kind = forbiddenAddressKind(address);
        if (kind) {
          return callback(
            new ForbiddenTarget(`${hostname} resolves to ${address}, ${kind} address; ${ONLY_PUBLIC}`),
            '',
          );
        }
      }
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
      callback(null, first.address, first.family);
    });
  };

  private resolve(host: string): Promise<dns.LookupAddress[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('DNS timeout')), this.resolveTimeoutMs);
      dns.lookup(host, { all: true }, (err, addresses) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(addresses);
      });
    });
  }
}
