/**
 * The admin in a real browser (headless Chromium): an operator signs in at /admin/, creates a user,
 * finds them in the list, and deactivates another user, whose session ends at once. With
 * ADMIN_SCREENSHOTS_DIR set (`npm run screenshots`) the main pages are saved there for docs/admin.md.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { readEnv } from '../../src/config.ts';
import { adminSignIn, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { DEFAULT_PASSWORD, startTestServer, type TestServer } from '../support/server.ts';
import { connectSocket, disconnected, eventually } from '../support/socket.ts';

const SHOTS = readEnv().ADMIN_SCREENSHOTS_DIR;

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

describe('admin in headless Chromium', () => {
  let srv: TestServer;
  let browser: TestBrowser;
  let page: Page;

  before(async () => {
    srv = await startTestServer();
    browser = await launchBrowser();
    page = await browser.page();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('signs in at /admin/ through the sign-in page and sees the dashboard', async () => {
    const admin = await srv.createUser({ email: 'operator@example.test', superuser: true, staff: true, firstName: 'Olga', lastName: 'Operator' });
    await page.goto(`${srv.url}/admin/`);
    assert.match(page.url(), /\/admin\/login\/\?next=%2Fadmin%2F$/);
    await shot(page, 'admin-sign-in');
    await adminSignIn(page, srv, admin.email, DEFAULT_PASSWORD);
    assert.equal(await page.locator('h1').textContent(), 'MessageBridge administration');
    assert.equal(await page.locator('[data-stat="users"] .n').textContent(), '1');
  });

  it('creates a user from the form, shows field errors first, then finds them in the list', async () => {
    await page.click('.admin-nav >> text=Users');
    await page.click('text=Add user');
    await page.fill('#f-email', 'not an email');
    await page.fill('#f-phone_number', 'call me');
    await page.click('button:has-text("Create user")');
    assert.match((await page.locator('#email-error').textContent()) ?? '', /valid email/);
    assert.match((await page.locator('#phone_number-error').textContent()) ?? '', /international format/);
    await shot(page, 'admin-user-form-errors');
    await page.fill('#f-email', 'dana@example.test');
    await page.fill('#f-first_name', 'Dana');
    await page.fill('#f-last_name', 'Device-Owner');
    await page.fill('#f-phone_number', '+14155550100');
    await page.fill('#f-password', 'purple lanterns over the harbour');
    await page.click('button:has-text("Create user")');
    assert.match((await page.locator('.notice').textContent()) ?? '', /dana@example\.test created/);
    await page.click('text=← Users');
    await page.fill('input[name=q]', 'dana');
    await page.click('button:has-text("Search")');
    assert.equal(await page.locator('tbody tr').count(), 1);
    assert.equal(await page.locator('tbody tr a').first().textContent(), 'dana@example.test');
    await page.fill('input[name=q]', '');
    await page.click('button:has-text("Search")');
    await shot(page, 'admin-users');
  });

  it('deactivates a user after confirmation; their session ends and their socket disconnects at once', async () => {
    const victim = await srv.createUser({ email: 'leaving@example.test' });
    const { client } = await srv.signedIn(victim);
    const socket = await connectSocket(srv.url, { client });
    const gone = disconnected(socket, 10_000);
    await page.goto(`${srv.url}/admin/`);
    assert.equal(await page.locator('[data-stat="sockets"] .n').textContent(), '1');
    await page.goto(`${srv.url}/admin/users/?q=leaving`);
    await page.click('text=leaving@example.test');
    assert.equal(await page.locator('[data-presence]').getAttribute('data-presence'), 'online');
    await shot(page, 'admin-user-edit');
    await page.click('text=Deactivate…');
    assert.match((await page.locator('h1').textContent()) ?? '', /Deactivate leaving@example\.test\?/);
    await shot(page, 'admin-confirm');
    await page.click('button:has-text("Yes, deactivate")');
    assert.match((await page.locator('.notice').textContent()) ?? '', /deactivated/);
    assert.equal(await gone, 'io server disconnect');
    assert.equal((await client.get('/api/me')).status, 401);
    await eventually(async () => (await srv.app.presence.online([victim.id])).size === 0, 5000, 'presence to drop the socket');
    await page.reload();
    assert.equal(await page.locator('[data-presence]').getAttribute('data-presence'), 'offline');
    assert.equal((await srv.app.services.users.findById(victim.id))!.isActive, false);
    await page.click('.admin-nav >> text=Audit log');
    assert.ok((await page.locator('code:has-text("user.deactivate")').count()) >= 1);
    await page.click('.admin-nav >> text=Dashboard');
    assert.equal(await page.locator('[data-stat="sockets"] .n').textContent(), '0');
    await shot(page, 'admin-dashboard');
  });

  it('is usable on a phone-sized screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${srv.url}/admin/users/`);
    // Runs in the page (no DOM types in this project's lib): compare scroll width to the viewport.
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    assert.ok(overflow <= 1, `no horizontal page scroll (${overflow}px)`);
    await shot(page, 'admin-users-phone');
    await page.setViewportSize({ width: 1280, height: 860 });
  });
});
