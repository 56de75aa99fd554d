import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { launchBrowser, describeInBrowser } from '../helpers/browser.js';
import { TestSmtp, linkIn } from '../helpers/smtp.js';

/*
 * An affiliate who forgot the password, in Chromium (SPEC §13): sign-in page → "Forgot your
 * password?" → the mail, read from a real SMTP server → the link → a new password → signed in.
 */

const EMAIL = 'fay@aff.example';

describeInBrowser('affiliate password reset in a browser', () => {
  const smtp = new TestSmtp();
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  before(async () => {
    await smtp.start();
    app = await startTestApp({ env: { SMTP_URL: smtp.url }, outbox: { pollMs: 50 } });
    app.services.config.publicUrl = app.url;
    app.services.outboxWorker.start();
    await setupOwner(app.url);
    const owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const res = await owner.post('/affiliates', {
      name: 'Fay',
      email: EMAIL,
      status: 'approved',
      password: 'the old password 1',
    });
    assert.equal(res.status, 201, res.text);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await smtp.stop();
  });

  test('forgot password → mail → reset → sign in with the new password', async () => {
    await page.goto(`${app.url}/portal/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL(`${app.url}/portal/forgot-password`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByRole('button', { name: 'Send the reset link' }).click();
    await page.waitForLoadState();
    assert.match(await page.locator('[data-reset-requested]').innerText(), /a mail with a link/);

    const mail = await smtp.waitFor(EMAIL, /Reset your .* password/);
    const link = linkIn(mail, '/portal/reset-password');
    await page.goto(link.toString());
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Choose a new password');
    await page.getByLabel('New password').fill('the new password 2');
    await page.getByRole('button', { name: 'Change my password' }).click();
    await page.waitForURL(`${app.url}/portal/login`);
    assert.match(await page.locator('.flash').innerText(), /password has been changed/);

    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('the old password 1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    assert.match(await page.locator('.flash-error').innerText(), /Wrong email or password/);

    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('the new password 2');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${app.url}/portal`);
    assert.match(await page.content(), /Fay/);

    // The link worked once.
    await page.goto(link.toString());
    assert.match(await page.locator('[data-token-refused]').innerText(), /already been used/);
  });
});
