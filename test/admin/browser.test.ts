/**
 * The admin in a real browser (headless Chromium), the operator journey: sign in at /admin/, create a
 * user, register an OAuth client for Google, create a device for the user and watch the dashboard count it
 * online once it polls, re-queue a command message, and deactivate another user, whose session ends and
 * socket disconnects at once. With
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
import { issueAccessToken } from '../support/oauth.ts';
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

  it('registers an OAuth client for Google and shows its secret once', async () => {
    await page.click('.admin-nav >> text=OAuth clients');
    await page.click('text=Register client');
    await page.fill('#f-name', 'Google Home');
    await page.fill('#f-redirect_uris', 'https://oauth-redirect.googleusercontent.com/r/my-project');
    await page.selectOption('#f-grant_types', ['authorization_code', 'refresh_token']);
    await page.selectOption('#f-scopes', ['smarthome', 'devices']);
    await page.selectOption('#f-default_scopes', ['smarthome']);
    await shot(page, 'admin-oauth-client-form');
    await page.click('button:has-text("Register client")');
    const clientId = await page.locator('[data-client-id]').textContent();
    const secret = await page.locator('[data-client-secret]').textContent();
    assert.ok(clientId && secret && secret.length >= 40);
    await shot(page, 'admin-oauth-client-secret');
    const c = (await srv.app.services.oauth.findClient(clientId))!;
    assert.deepEqual(c.redirectUris, ['https://oauth-redirect.googleusercontent.com/r/my-project']);
    await page.click('text=Continue to the client');
    assert.equal(await page.locator('[data-client-secret]').count(), 0, 'the secret is not shown again');
  });

  it('creates a device for a user, sees it in the list, and the dashboard counts it online once it polls', async () => {
    const dana = (await srv.app.services.users.findByEmail('dana@example.test'))!;
    await page.goto(`${srv.url}/admin/users/${dana.id}/`);
    await page.click('text=Add a device for this user');
    assert.equal(await page.inputValue('#f-owner_email'), 'dana@example.test');
    await page.fill('#f-id', 'porch-light');
    await page.fill('#f-name', 'Porch light');
    await page.selectOption('#f-type', 'action.devices.types.LIGHT');
    await page.selectOption('#f-traits', ['action.devices.traits.OnOff', 'action.devices.traits.Brightness']);
    await page.fill('#f-room', 'Porch');
    await page.fill('#f-state', '{"on": false');
    await page.click('button:has-text("Create device")');
    assert.match((await page.locator('#state-error').textContent()) ?? '', /valid JSON/);
    await page.fill('#f-state', '{"on": false, "brightness": 30}');
    await shot(page, 'admin-device-form');
    await page.click('button:has-text("Create device")');
    assert.match((await page.locator('.notice').textContent()) ?? '', /Porch light created/);
    assert.equal(await page.locator('[data-online]').getAttribute('data-online'), 'no');
    await page.click('.admin-nav >> text=Devices');
    assert.equal(await page.locator('tbody tr:has-text("porch-light")').count(), 1);
    await shot(page, 'admin-devices');
    await page.click('.admin-nav >> text=Dashboard');
    assert.equal(await page.locator('[data-stat="devices-online"] .n').textContent(), '0');

    // The device polls with a token of its owner (as the seed's hubs do).
    const token = await issueAccessToken(srv, { user: dana, scopes: ['devices'] });
    const poll = await srv.client().post('/api/poll-messages/', { deviceId: 'porch-light', messagesRead: [] }, { bearer: token, origin: false, csrfHeader: false });
    assert.equal(poll.status, 200);
    await page.reload();
    assert.equal(await page.locator('[data-stat="devices-online"] .n').textContent(), '1');
  });

  it('re-queues a command message the device already acknowledged ("mark selected as unread")', async () => {
    const dana = (await srv.app.services.users.findByEmail('dana@example.test'))!;
    const svc = srv.app.services.deviceMessages;
    const m = await svc.createCommand(dana.id, 'porch-light', { command: 'action.devices.commands.OnOff', params: { on: true } });
    assert.deepEqual((await svc.poll(dana.id, { deviceId: 'porch-light' })).map((x) => x.id), [m.id]);
    await svc.ack(dana.id, [m.id]);
    assert.deepEqual(await svc.fetchUnread(dana.id, { deviceId: 'porch-light' }), []);

    await page.click('.admin-nav >> text=Command messages');
    await page.fill('input[name=device]', 'porch-light');
    await page.selectOption('select[name=status]', 'read');
    await page.click('button:has-text("Search")');
    const row = page.locator(`tbody tr:has-text("porch-light/action.devices.commands.OnOff")`);
    assert.equal(await row.count(), 1);
    await row.locator('input[type=checkbox]').check();
    await shot(page, 'admin-command-messages');
    await page.click('button:has-text("Mark selected as unread")');
    assert.match((await page.locator('.notice').textContent()) ?? '', /1 message\(s\) marked as unread/);
    assert.deepEqual((await svc.poll(dana.id, { deviceId: 'porch-light' })).map((x) => x.id), [m.id]);
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

  it('moderates a conversation: sees participants and messages, deletes a message after confirmation', async () => {
    const dana = (await srv.app.services.users.findByEmail('dana@example.test'))!;
    const olga = (await srv.app.services.users.findByEmail('operator@example.test'))!;
    const actor = { user: dana, via: 'session' as const, scopes: null };
    const { conversation } = await srv.app.services.conversations.create(actor, { participants: [olga.id], title: 'Porch light schedule' });
    await srv.app.services.messages.send(actor, { conversationId: conversation.id, body: 'Can the porch light turn on at 7pm?' });
    const spam = (await srv.app.services.messages.send(actor, { conversationId: conversation.id, body: 'BUY CHEAP LAMPS' })).message;
    await page.click('.admin-nav >> text=Conversations');
    await page.click('text=Porch light schedule');
    assert.equal(await page.locator('tbody tr[data-message]').count(), 2);
    await page.locator(`tr[data-message="${spam.id}"] button:has-text("Delete…")`).click();
    await page.click('button:has-text("Yes, delete")');
    assert.match((await page.locator('.notice').textContent()) ?? '', /Message deleted/);
    assert.match((await page.locator(`tr[data-message="${spam.id}"]`).textContent()) ?? '', /deleted/);
    await shot(page, 'admin-conversation');
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
