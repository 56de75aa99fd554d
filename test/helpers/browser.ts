import fs from 'node:fs';
import { describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

/*
 * Chromium for the browser tests. Outside CI a missing Chromium skips them with the reason; in
 * CI (`CI` set) it fails, so a broken runner cannot pass by skipping.
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const inCi = () => Boolean(process.env.CI) && !/^(false|0)$/i.test(process.env.CI ?? '');

/**
 * `describe` for a suite that runs in Chromium. Without Chromium the suite is replaced by one
 * test that gives the reason: skipped (the runner counts skipped tests, not skipped suites),
 * or failed under CI.
 */
export function describeInBrowser(name: string, body: () => void): void {
  if (fs.existsSync(CHROMIUM)) {
    describe(name, body);
    return;
  }
  const reason = `Chromium not found at ${CHROMIUM}; install it (apt-get install -y chromium) to run the browser tests`;
  describe(name, () => {
    if (inCi()) {
      test('Chromium is installed', () => {
        throw new Error(`Chromium is required in CI but ${CHROMIUM} does not exist (apt-get install -y chromium)`);
      });
    } else {
      test('runs in Chromium', { skip: reason }, () => {});
    }
  });
}

/**
 * Names that resolve to this machine: `shop.affix.localhost` and `track.affix.localhost` are two
 * hosts of one site (affix.localhost), like shop.example.com and track.example.com, so each keeps
 * its own cookies while same-site requests carry them.
 */
export const LOOPBACK_HOSTS = 'MAP *.affix.localhost 127.0.0.1';

export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      `--host-resolver-rules=${LOOPBACK_HOSTS}`,
      ...extraArgs,
    ],
  });
}

/** A desktop Chrome user agent without "Headless", so bot rules treat the test as a person. */
export function personUserAgent(browser: Browser): string {
  return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${browser.version()} Safari/537.36`;
}

export { poll, sleep } from './async.js';
