import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forbiddenAddressKind } from '../../server/services/outgoing-http.js';

/* SPEC §10a: which addresses Affix's own requests may reach, whatever form the address takes. */

test('internal addresses are refused in every form, with what they are', () => {
  const cases: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['127.255.0.9', /loopback/],
    ['10.1.2.3', /private/],
    ['172.31.255.255', /private/],
    ['192.168.0.1', /private/],
    ['100.64.0.1', /CGNAT/],
    ['100.127.255.254', /CGNAT/],
    ['169.254.169.254', /link-local/],
    ['0.0.0.0', /unspecified/],
    ['224.0.0.251', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['::1', /loopback/],
    ['[::1]', /loopback/],
    ['::', /unspecified/],
    ['fd12:3456::1', /private/],
    ['fe80::1%eth0', /link-local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:0:a00:1', /private/],
    ['::127.0.0.1', /loopback/],
    ['64:ff9b::a9fe:a9fe', /link-local/],
    ['2002:c0a8:0101::1', /private/],
    ['[64:ff9b:1::7f00:1]', /NAT64/],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', /Teredo/],
    ['2001:db8::1', /documentation/],
    ['100::1', /discard/],
    ['192.0.2.10', /documentation/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.99', /documentation/],
  ];
  for (const [address, kind] of cases) assert.match(forbiddenAddressKind(address) ?? 'allowed', kind, address);
});

test('public addresses are allowed, IPv4-mapped ones too', () => {
  for (const address of [
    '8.8.8.8',
    '93.184.216.34',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
  ]) {
    assert.equal(forbiddenAddressKind(address), null, address);
  }
});
