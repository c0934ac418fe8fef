import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, type AdminClient } from '../support/admin.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const LIGHT = 'action.devices.types.LIGHT';
const ONOFF = 'action.devices.traits.OnOff';
const BRIGHTNESS = 'action.devices.traits.Brightness';

describe('admin devices and command messages', () => {
  let srv: TestServer;
  let staff: AdminClient;
  let plain: AdminClient;

  before(async () => {
    srv = await startTestServer();
    staff = await adminClient(srv, { staff: true });
    plain = await adminClient(srv, { staff: false });
  });
  after(() => srv.close());

  async function device(ownerId?: string, id = `dev-${Math.random().toString(36).slice(2, 8)}`) {
    const owner = ownerId ?? (await srv.createUser()).id;
    return srv.app.services.devices.create(owner, { id, type: LIGHT, traits: [ONOFF], name: `Lamp ${id}` });
  }

  async function pages(): Promise<string[]> {
    const d = await device();
    return ['/admin/devices/', '/admin/devices/?q=lamp&online=yes&type=' + LIGHT, '/admin/devices/new/', `/admin/devices/${d.ownerId}/${d.id}/`, `/admin/devices/${d.ownerId}/${d.id}/delete/`, '/admin/device-messages/', '/admin/device-messages/?status=pending&device=x&topic=y&sort=topic'];
  }

  async function actions(): Promise<Array<[string, Record<string, string | string[]>]>> {
    const d = await device();
    const m = await srv.app.services.deviceMessages.createCommand(d.ownerId, d.id, { command: 'action.devices.commands.OnOff', params: { on: true } });
    return [
      ['/admin/devices/new/', { owner_email: 'x@example.test', name: 'X', type: LIGHT, traits: ONOFF }],
      [`/admin/devices/${d.ownerId}/${d.id}/`, { name: 'Renamed', type: LIGHT, traits: ONOFF, attributes: '{}', state: '{}' }],
      [`/admin/devices/${d.ownerId}/${d.id}/security/`, { challenge: 'pin', pin: '1234' }],
      [`/admin/devices/${d.ownerId}/${d.id}/delete/`, { confirm: 'yes' }],
      ['/admin/device-messages/bulk/', { bulk: 'requeue', ids: [m.id] }],
      ['/admin/device-messages/bulk/', { bulk: 'delete', ids: [m.id], confirm: 'yes' }],
    ];
  }

  it('guards every page and action: anonymous → sign-in, non-staff → 403, no CSRF token → 403', async () => {
    const anon = srv.client();
    for (const p of await pages()) {
      const res = await anon.get(p);
      assert.equal(res.status, 303, p);
      assert.match(res.headers.get('location') ?? '', /^\/admin\/login\/\?next=/);
      assert.equal((await plain.client.get(p)).status, 403, p);
      assert.equal((await staff.client.get(p)).status, 200, p);
    }
    for (const [p, form] of await actions()) {
      assert.equal((await anon.request('POST', p, { form: form as Record<string, string> })).status, 303, p);
      assert.equal((await plain.post(p, form)).status, 403, p);
      const noToken = await staff.post(p, form, { noCsrf: true });
      assert.equal(noToken.status, 403, p);
      assert.match(noToken.text, /data-code="csrf_token"/);
    }
    assert.equal((await staff.client.get('/admin/devices/not-a-uuid/x/')).status, 404);
    assert.equal((await staff.client.get(`/admin/devices/${staff.user.id}/no-such-device/`)).status, 404);
  });

  it('creates a device with type and trait pickers and JSON attributes/state, with field errors first', async () => {
    const owner = await srv.createUser({ email: `owner-${Date.now()}@example.test` });
    const bad = await staff.post('/admin/devices/new/', {
      owner_email: 'nobody@example.test',
      id: 'has/slash',
      name: '',
      type: 'action.devices.types.TOASTER9000',
      attributes: '{not json',
      state: '[1,2]',
    });
    assert.equal(bad.status, 400);
    for (const f of ['owner_email', 'id', 'name', 'type', 'traits', 'attributes', 'state']) assert.match(bad.text, new RegExp(`id="${f}-error"`), f);
    assert.match(bad.text, /id="attributes-error"[^>]*>must be valid JSON/);
    assert.match(bad.text, /id="state-error"[^>]*>must be a JSON object/);

    const ok = await staff.post('/admin/devices/new/', {
      owner_email: owner.email,
      id: 'kitchen-light',
      name: 'Kitchen light',
      type: LIGHT,
      traits: [ONOFF, BRIGHTNESS],
      room: 'Kitchen',
      nicknames: 'ceiling, big lamp',
      attributes: '{"commandOnlyOnOff": false}',
      state: '{"on": false, "brightness": 40}',
      will_report_state: 'true',
    });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), `/admin/devices/${owner.id}/kitchen-light/`);
    const d = await srv.app.services.devices.get(owner.id, 'kitchen-light');
    assert.deepEqual(d.traits, [ONOFF, BRIGHTNESS]);
    assert.deepEqual(d.nicknames, ['ceiling', 'big lamp']);
    assert.deepEqual(d.state, { on: false, brightness: 40 });
    assert.deepEqual(d.attributes, { commandOnlyOnOff: false });

    const dup = await staff.post('/admin/devices/new/', { owner_email: owner.email, id: 'kitchen-light', name: 'Again', type: LIGHT, traits: ONOFF });
    assert.equal(dup.status, 409);
    assert.match(dup.text, /id="id-error"[^>]*>already in use/);

    const list = await staff.client.get(`/admin/devices/?q=kitchen`);
    assert.match(list.text, /Kitchen light/);
    assert.match(list.text, new RegExp(owner.email));
    assert.match((await staff.client.get(`/admin/devices/?owner=${owner.id}`)).text, /kitchen-light/);
    assert.doesNotMatch((await staff.client.get('/admin/devices/?online=yes&q=kitchen')).text, /Kitchen light/);
    assert.match((await staff.client.get('/admin/users/' + owner.id + '/')).text, /kitchen-light/);
    const log = await srv.app.services.audit.list({ q: 'device.create', target_type: 'device', target_id: '', sort: '-at', page: 1 });
    assert.ok(log.entries.some((e) => e.targetId === `${owner.id}/kitchen-light` && e.actorEmail === staff.user.email));
  });

  it('edits a device (JSON validated) and sets or clears the PIN without ever showing it', async () => {
    const d = await device();
    const path = `/admin/devices/${d.ownerId}/${d.id}/`;
    const bad = await staff.post(path, { name: 'Lamp', type: LIGHT, traits: ONOFF, attributes: '{}', state: '{"on": ' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="state-error"/);
    const ok = await staff.post(path, { name: 'Desk lamp', type: LIGHT, traits: [ONOFF, BRIGHTNESS], room: 'Office', attributes: '{}', state: '{"on": true}', will_report_state: 'true' });
    assert.equal(ok.status, 303);
    let now = await srv.app.services.devices.get(d.ownerId, d.id);
    assert.equal(now.name, 'Desk lamp');
    assert.deepEqual(now.state, { on: true });
    assert.deepEqual(now.traits, [ONOFF, BRIGHTNESS]);

    const needPin = await staff.post(`${path}security/`, { challenge: 'pin' });
    assert.equal(needPin.status, 400);
    assert.match(needPin.text, /id="pin-error"/);
    const setPin = await staff.post(`${path}security/`, { challenge: 'pin', pin: '4321' });
    assert.equal(setPin.status, 303);
    const page = await staff.client.get(path);
    assert.match(page.text, /data-pin="set"/);
    assert.doesNotMatch(page.text, /4321/);
    assert.equal((await srv.app.services.smarthome.settings.get(d.ownerId, d.id)).hasPin, true);
    const cleared = await staff.post(`${path}security/`, { challenge: 'ack', clear_pin: 'true' });
    assert.equal(cleared.status, 303);
    assert.equal((await srv.app.services.smarthome.settings.get(d.ownerId, d.id)).hasPin, false);
    const log = await staff.client.get(`/admin/audit/?q=device.security`);
    assert.doesNotMatch(log.text, /4321/);

    const confirm = await staff.post(`${path}delete/`, {});
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /Yes, delete/);
    now = await srv.app.services.devices.get(d.ownerId, d.id);
    assert.ok(now);
    assert.equal((await staff.post(`${path}delete/`, { confirm: 'yes' })).status, 303);
    await assert.rejects(srv.app.services.devices.get(d.ownerId, d.id), { code: 'device_not_found' });
  });

  it('lists command messages with filters, re-queues selected ones and deletes after confirmation', async () => {
    const d = await device();
    const svc = srv.app.services.deviceMessages;
    const on = await svc.createCommand(d.ownerId, d.id, { command: 'action.devices.commands.OnOff', params: { on: true } });
    const bright = await svc.createCommand(d.ownerId, d.id, { command: 'action.devices.commands.BrightnessAbsolute', params: { brightness: 65 } });
    const expired = await svc.createCommand(d.ownerId, d.id, { command: 'action.devices.commands.OnOff', params: { on: false } }, { ttlSeconds: 1 });
    await svc.poll(d.ownerId, { deviceId: d.id });
    await svc.ack(d.ownerId, [on.id]);
    await new Promise((r) => setTimeout(r, 1100));

    const byDevice = await staff.client.get(`/admin/device-messages/?device=${d.id}`);
    for (const m of [on, bright, expired]) assert.match(byDevice.text, new RegExp(m.id));
    const read = await staff.client.get(`/admin/device-messages/?device=${d.id}&status=read`);
    assert.match(read.text, new RegExp(on.id));
    assert.doesNotMatch(read.text, new RegExp(bright.id));
    const pending = await staff.client.get(`/admin/device-messages/?device=${d.id}&status=pending`);
    assert.match(pending.text, new RegExp(bright.id));
    assert.doesNotMatch(pending.text, new RegExp(expired.id));
    const exp = await staff.client.get(`/admin/device-messages/?device=${d.id}&status=expired`);
    assert.match(exp.text, new RegExp(expired.id));
    const topic = await staff.client.get(`/admin/device-messages/?topic=${encodeURIComponent(`${d.id}/action.devices.commands.BrightnessAbsolute`)}`);
    assert.match(topic.text, new RegExp(bright.id));
    assert.doesNotMatch(topic.text, new RegExp(on.id));
    assert.match((await staff.client.get(`/admin/device-messages/?q=65&device=${d.id}`)).text, new RegExp(bright.id));

    // Re-queue: the read one and the expired one come back in the next poll.
    const requeue = await staff.post('/admin/device-messages/bulk/', { bulk: 'requeue', ids: [on.id, expired.id] });
    assert.equal(requeue.status, 303);
    const polled = (await svc.poll(d.ownerId, { deviceId: d.id })).map((m) => m.id).sort();
    assert.deepEqual(polled, [on.id, bright.id, expired.id].sort());

    const none = await staff.post('/admin/device-messages/bulk/', { bulk: 'requeue' });
    assert.equal(none.status, 303);
    assert.match((await staff.client.get('/admin/device-messages/')).text, /Select at least one message first/);
    assert.equal((await staff.post('/admin/device-messages/bulk/', { bulk: 'requeue', ids: ['not-a-uuid'] })).status, 303);
    assert.equal((await staff.post('/admin/device-messages/bulk/', { bulk: 'explode', ids: [on.id] })).status, 400);

    const ask = await staff.post('/admin/device-messages/bulk/', { bulk: 'delete', ids: [on.id, bright.id] });
    assert.equal(ask.status, 200);
    assert.match(ask.text, /Delete 2 command message/);
    assert.match(ask.text, new RegExp(`name="ids" value="${on.id}"`));
    assert.equal((await svc.fetchUnread(d.ownerId, { deviceId: d.id })).length, 3, 'nothing deleted before confirmation');
    const del = await staff.post('/admin/device-messages/bulk/', { bulk: 'delete', ids: [on.id, bright.id], confirm: 'yes' });
    assert.equal(del.status, 303);
    assert.deepEqual((await svc.fetchUnread(d.ownerId, { deviceId: d.id })).map((m) => m.id), [expired.id]);
    const log = await srv.app.services.audit.list({ q: '', target_type: 'device_message', target_id: '', sort: '-at', page: 1 });
    assert.deepEqual(log.entries.slice(0, 2).map((e) => e.action), ['device_message.delete', 'device_message.requeue']);
  });

  it('counts devices online and pending commands on the dashboard', async () => {
    const before = await staff.client.get('/admin/');
    const online0 = Number(/data-stat="devices-online"><div class="n"><a[^>]*>(\d+)</.exec(before.text)?.[1]);
    const d = await device();
    await srv.app.services.deviceMessages.createCommand(d.ownerId, d.id, { command: 'action.devices.commands.OnOff', params: { on: true } });
    await srv.app.services.deviceMessages.poll(d.ownerId, { deviceId: d.id, messagesRead: [] });
    const after = await staff.client.get('/admin/');
    assert.equal(Number(/data-stat="devices-online"><div class="n"><a[^>]*>(\d+)</.exec(after.text)?.[1]), online0 + 1);
    assert.equal(Number(/data-stat="pending-commands"><div class="n"><a[^>]*>(\d+)</.exec(after.text)?.[1]), await srv.app.services.deviceStaff.countPending());
  });
});
