import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { clientAddress, resolveTrust } from '../../server/http/client-ip.js';

const none = resolveTrust({ kind: 'none' });
const oneHop = resolveTrust({ kind: 'hops', hops: 1 });
const twoHops = resolveTrust({ kind: 'hops', hops: 2 });
const proxies = resolveTrust({ kind: 'proxies', proxies: ['10.0.0.0/8', '192.0.2.1'] });
const ip = (peer: string, xff: string | undefined, trust = oneHop) => clientAddress(peer, xff, trust).ip;

describe('the client address: the right-most hop no trusted proxy stands for', () => {
  test('without a trusted proxy the socket peer is the client, whatever X-Forwarded-For says', () => {
    assert.equal(ip('203.0.113.5', '198.51.100.1', none), '203.0.113.5');
    assert.equal(clientAddress('203.0.113.5', '198.51.100.1', none).viaProxy, false);
  });

  test('one hop: the entry the proxy appended (right-most), never a left-most one the client wrote', () => {
    assert.equal(ip('10.0.0.2', '198.51.100.9'), '198.51.100.9');
    assert.equal(ip('10.0.0.2', '1.2.3.4, 198.51.100.9'), '198.51.100.9');
    assert.equal(ip('10.0.0.2', '1.2.3.4,5.6.7.8 ,198.51.100.9'), '198.51.100.9');
    assert.equal(ip('10.0.0.2', undefined), '10.0.0.2', 'no header: the peer');
    assert.equal(ip('10.0.0.2', ''), '10.0.0.2');
  });

  test('a hop count: that many proxies from the right, the peer included', () => {
    assert.equal(ip('10.0.0.2', '1.2.3.4, 198.51.100.9, 172.16.0.5', twoHops), '198.51.100.9');
    assert.equal(ip('10.0.0.2', '198.51.100.9', twoHops), '198.51.100.9', 'a short chain: its left-most');
  });

  test('a proxy list: trusted hops are skipped from the right; an untrusted peer is the client', () => {
    assert.equal(ip('10.0.0.2', '1.2.3.4, 198.51.100.9, 10.1.1.1', proxies), '198.51.100.9');
    assert.equal(ip('192.0.2.1', '1.2.3.4, 198.51.100.9', proxies), '198.51.100.9');
    assert.equal(ip('203.0.113.5', '198.51.100.9', proxies), '203.0.113.5', 'not our proxy: the header is ignored');
    assert.equal(clientAddress('203.0.113.5', '198.51.100.9', proxies).viaProxy, false);
    assert.equal(ip('10.0.0.2', '10.0.0.3, 10.0.0.4', proxies), '10.0.0.3', 'only proxies: the left-most');
  });

  test('addresses are plain: IPv4-mapped IPv6, ports and brackets are removed; garbage is never the client', () => {
    assert.equal(ip('::ffff:10.0.0.2', undefined, none), '10.0.0.2');
    assert.equal(ip('10.0.0.2', '198.51.100.9:4711'), '198.51.100.9');
    assert.equal(ip('10.0.0.2', '[2001:db8::1]:443'), '2001:db8::1');
    assert.equal(ip('10.0.0.2', '2001:db8::1'), '2001:db8::1');
    assert.equal(ip('10.0.0.2', 'unknown'), '10.0.0.2');
    assert.equal(ip('10.0.0.2', "1.2.3.4' OR 1=1, <script>", twoHops), '10.0.0.2');
  });
});
