import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkDestination, withLinkParams } from '../../server/domain/destinations.js';

test('a link leads to the banner URL, else the campaign URL, else the site URL, else nowhere', () => {
  const all = {
    banner: 'https://shop.example/b',
    campaign: 'https://shop.example/c',
    siteUrl: 'https://shop.example/',
  };
  assert.equal(linkDestination(all), 'https://shop.example/b');
  assert.equal(linkDestination({ ...all, banner: null }), 'https://shop.example/c');
  assert.equal(linkDestination({ ...all, banner: undefined, campaign: null }), 'https://shop.example/');
  assert.equal(linkDestination({ banner: undefined, campaign: undefined, siteUrl: null }), null);
});

test("the link's parameters are added without replacing the stored URL's own, and the visitor id rides along", () => {
  const href = withLinkParams('https://shop.example/p?a_aid=keep&x=1#top', { a_aid: 'other', a_bid: '7' }, 'v123');
  const url = new URL(href);
  assert.equal(url.origin + url.pathname, 'https://shop.example/p');
  assert.equal(url.searchParams.get('a_aid'), 'keep');
  assert.equal(url.searchParams.get('x'), '1');
  assert.equal(url.searchParams.get('a_bid'), '7');
  assert.equal(url.searchParams.get('affix_vid'), 'v123');
  assert.equal(url.hash, '#top');
});

test('a parameter cannot change where the link leads', () => {
  const href = withLinkParams('https://shop.example/', { url: 'https://evil.example/', host: 'evil.example' }, 'v');
  assert.equal(new URL(href).host, 'shop.example');
});
