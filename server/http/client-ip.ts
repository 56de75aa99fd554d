import { BlockList, isIP } from 'node:net';
import type { Next } from 'koa';
import type { AppContext } from './context.js';
import type { ProxyTrust } from '../config.js';

/** `::ffff:1.2.3.4` → `1.2.3.4`; a port or IPv6 brackets that some proxies add are removed. */
function plainAddress(raw: string): string | null {
  let value = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) value = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
  value = value.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return isIP(value) ? value : null;
}

// Socket peers repeat (keep-alive connections, a load balancer's few addresses): their plain
// form is remembered instead of parsed with three patterns on every request.
const PEER_MEMO_LIMIT = 10_000;
const peerMemo = new Map<string, string>();
function peerAddress(peer: string): string {
  let address = peerMemo.get(peer);
  if (address === undefined) {
    if (peerMemo.size >= PEER_MEMO_LIMIT) peerMemo.clear();
    peerMemo.set(peer, (address = plainAddress(peer) ?? peer));
  }
  return address;
}

/** A BlockList of trusted proxy addresses and ranges (entries already validated by the config). */
export function trustedProxies(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

export type ResolvedTrust = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'proxies'; list: BlockList };

export function resolveTrust(trust: ProxyTrust): ResolvedTrust {
  return trust.kind === 'proxies' ? { kind: 'proxies', list: trustedProxies(trust.proxies) } : trust;
}

const isTrusted = (list: BlockList, address: string) => list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');

/**
 * The client's address: the right-most hop that no trusted proxy stands for. Each proxy appends
 * the address it saw to `X-Forwarded-For`, so entries left of the trusted ones are whatever the
 * client chose to send and are never believed. With a hop count the last `hops` addresses of the
 * chain (the socket peer included) are proxies; with a list, trusted addresses are skipped from
 * the right. Also says whether the peer is a trusted proxy (then X-Forwarded-Proto/Host count).
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | undefined,
  trust: ResolvedTrust,
): { ip: string; viaProxy: boolean } {
  const socket = peerAddress(peer);
  if (trust.kind === 'none') return { ip: socket, viaProxy: false };
  if (trust.kind === 'proxies' && !(isIP(socket) && isTrusted(trust.list, socket)))
    return { ip: socket, viaProxy: false };
  const chain = [...(forwardedFor ? forwardedFor.split(',') : []).map((s) => s.trim()), socket];
  let index: number;
  if (trust.kind === 'hops') {
    index = Math.max(0, chain.length - 1 - trust.hops);
  } else {
    index = chain.length - 1;
    while (index > 0) {
      const address = plainAddress(chain[index]!);
      if (!address || !isTrusted(trust.list, address)) break;
      index--;
    }
  }
  // A hop that is not an address (garbage a client sent, or "unknown") stands for nobody: the
  // nearest address to its right, which a proxy of ours appended, is used instead.
  for (let i = index; i < chain.length; i++) {
    const address = plainAddress(chain[i]!);
    if (address) return { ip: address, viaProxy: true };
  }
  return { ip: socket, viaProxy: true };
}

/**
 * Sets `ctx.ip` once per request, before anything reads it: tracking, fraud rules, GeoIP, the
 * sign-in brake and the audit all use this one answer. Forwarded protocol and host headers from
 * a peer that is not a trusted proxy are dropped, so Koa does not believe them either.
 */
export function clientIp(trust: ProxyTrust) {
  const resolved = resolveTrust(trust);
  return (ctx: AppContext, next: Next) => {
    const { ip, viaProxy } = clientAddress(ctx.req.socket.remoteAddress ?? '', ctx.get('X-Forwarded-For'), resolved);
    ctx.request.ip = ip;
    if (!viaProxy && resolved.kind !== 'none') {
      delete ctx.req.headers['x-forwarded-proto'];
      delete ctx.req.headers['x-forwarded-host'];
    }
    return next();
  };
}
