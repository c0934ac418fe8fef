/**
 * The intent layer on its own, with in-memory stand-ins for the device registry, security store and link
 * store: the fixtures of google-smart-home.md §8 and the edge cases around them. The HTTP tests repeat the
 * fixtures end to end against PostgreSQL.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { hashPin, type DeviceSecurity, type SecurityStore } from '../../src/domain/smarthome/challenge.ts';
import { createSmartHomeService, type ExecutedCommand, type SmartHomeService } from '../../src/domain/smarthome/fulfillment.service.ts';
import type { JsonObject, SmartDevice } from '../../src/domain/smarthome/smarthome.types.ts';

const USER = 'user-7f3a';

function device(p: Partial<SmartDevice> & Pick<SmartDevice, 'id' | 'type' | 'traits'>): SmartDevice {
  return {
    userId: USER,
    name: p.id,
    nicknames: [],
    defaultNames: [],
    roomHint: null,
    attributes: {},
    state: {},
    online: true,
    willReportState: true,
    deviceInfo: null,
    customData: null,
    ...p,
    type: `action.devices.types.${p.type}`,
    traits: p.traits.map((t) => `action.devices.traits.${t}`),
  };
}

const fixtures = (): SmartDevice[] => [
  device({
    id: 'light-1',
    type: 'LIGHT',
    traits: ['OnOff', 'Brightness', 'ColorSetting'],
    name: 'Desk lamp',
    nicknames: ['reading lamp'],
    defaultNames: ['Acme Color Bulb'],
    roomHint: 'Office',
    attributes: { colorModel: 'rgb', colorTemperatureRange: { temperatureMinK: 2000, temperatureMaxK: 9000 }, commandOnlyColorSetting: false },
    deviceInfo: { manufacturer: 'Acme', model: 'CB-1', hwVersion: '1.0', swVersion: '2.3.1' },
    customData: { hubId: 'hub-9' },
    state: { on: true, brightness: 65, color: { temperatureK: 2700 } },
  }),
  device({
    id: 'thermo-1',
    type: 'THERMOSTAT',
    traits: ['TemperatureSetting'],
    name: 'Hall thermostat',
    defaultNames: ['Acme Thermostat'],
    roomHint: 'Hallway',
    attributes: { availableThermostatModes: ['off', 'heat', 'cool', 'heatcool'], thermostatTemperatureRange: { minThresholdCelsius: 10, maxThresholdCelsius: 32 }, thermostatTemperatureUnit: 'C', bufferRangeCelsius: 2 },
    deviceInfo: { manufacturer: 'Acme', model: 'T-2', hwVersion: '2.0', swVersion: '5.0.0' },
    state: { thermostatMode: 'heat', thermostatTemperatureSetpoint: 20 },
  }),
  device({ id: 'light-2', type: 'LIGHT', traits: ['OnOff'], online: false, state: { on: true } }),
  device({ id: 'lock-1', type: 'LOCK', traits: ['LockUnlock'], state: { isLocked: true, isJammed: false } }),
  device({ id: 'garage-1', type: 'GARAGE', traits: ['OpenClose'], state: { openPercent: 0 } }),
  device({ id: 'scene-1', type: 'SCENE', traits: ['Scene'] }),
];

class MemorySecurity implements SecurityStore {
  rows = new Map<string, DeviceSecurity>();
  async get(_userId: string, ids: readonly string[]) {
    return new Map(ids.flatMap((id) => (this.rows.has(id) ? [[id, { ...this.rows.get(id)! }] as [string, DeviceSecurity]] : [])));
  }
  async recordFailure(_u: string, id: string, max: number, until: Date) {
    const r = this.rows.get(id)!;
    r.failedAttempts++;
    if (r.failedAttempts >= max) {
      r.failedAttempts = 0;
      r.lockedUntil = until;
      return { locked: true };
    }
    return { locked: false };
  }
  async reset(_u: string, id: string) {
    const r = this.rows.get(id)!;
    r.failedAttempts = 0;
    r.lockedUntil = null;
  }
}

interface World {
  svc: SmartHomeService;
  devices: Map<string, SmartDevice>;
  applied: Array<{ deviceId: string; state: JsonObject; commands: readonly ExecutedCommand[] }>;
  revoked: string[];
  links: string[];
  security: MemorySecurity;
  clock: { now: Date };
  failApply: Set<string>;
}

function world(opts: { reporting?: boolean; throwOnList?: boolean } = {}): World {
  const devices = new Map(fixtures().map((d) => [d.id, d]));
  const w: World = {
    svc: undefined as never,
    devices,
    applied: [],
    revoked: [],
    links: [],
    security: new MemorySecurity(),
    clock: { now: new Date('2026-11-21T12:00:00Z') },
    failApply: new Set(),
  };
  w.svc = createSmartHomeService({
    devices: {
      async listForUser(userId) {
        if (opts.throwOnList) throw new Error('database down');
        return [...devices.values()].filter((d) => d.userId === userId);
      },
      async findForUser(userId, ids) {
        return ids.flatMap((id) => (devices.get(id)?.userId === userId ? [devices.get(id)!] : []));
      },
      async applyCommands(_userId, changes) {
        if (changes.some((c) => w.failApply.has(c.deviceId))) throw new Error('write failed');
        for (const { deviceId, state, commands } of changes) {
          w.applied.push({ deviceId, state, commands });
          devices.set(deviceId, { ...devices.get(deviceId)!, state });
        }
      },
    },
    security: w.security,
    links: {
      linked: async (u, g) => void w.links.push(`linked:${u}:${g}`),
      unlinked: async (u, g) => void w.links.push(`unlinked:${u}:${g}`),
    },
    reporter: { enabled: opts.reporting ?? true },
    revokeGrant: async (g) => void w.revoked.push(g),
    challengeLimits: { maxAttempts: 3, lockoutMs: 60_000 },
    logger: pino({ level: 'silent' }),
    now: () => w.clock.now,
  });
  return w;
}

const caller = { userId: USER, grantId: 'grant-1' };
const exec = (requestId: string, commands: unknown) => ({ requestId, inputs: [{ intent: 'action.devices.EXECUTE', payload: { commands } }] });

describe('SYNC', () => {
  it('F1: every device with names, attributes, deviceInfo, customData, agentUserId = user id', async () => {
    const w = world();
    const res = await w.svc.fulfill(caller, { requestId: 'req-sync-1', inputs: [{ intent: 'action.devices.SYNC' }] });
    const payload = res.payload as any;
    assert.equal(res.requestId, 'req-sync-1');
    assert.equal(payload.agentUserId, USER);
    assert.deepEqual(payload.devices[0], {
      id: 'light-1',
      type: 'action.devices.types.LIGHT',
      traits: ['action.devices.traits.OnOff', 'action.devices.traits.Brightness', 'action.devices.traits.ColorSetting'],
      name: { defaultNames: ['Acme Color Bulb'], name: 'Desk lamp', nicknames: ['reading lamp'] },
      willReportState: true,
      roomHint: 'Office',
      attributes: { colorModel: 'rgb', colorTemperatureRange: { temperatureMinK: 2000, temperatureMaxK: 9000 }, commandOnlyColorSetting: false },
      deviceInfo: { manufacturer: 'Acme', model: 'CB-1', hwVersion: '1.0', swVersion: '2.3.1' },
      customData: { hubId: 'hub-9' },
    });
    assert.deepEqual(payload.devices[1], {
      id: 'thermo-1',
      type: 'action.devices.types.THERMOSTAT',
      traits: ['action.devices.traits.TemperatureSetting'],
      name: { defaultNames: ['Acme Thermostat'], name: 'Hall thermostat', nicknames: [] },
      willReportState: true,
      roomHint: 'Hallway',
      attributes: { availableThermostatModes: ['off', 'heat', 'cool', 'heatcool'], thermostatTemperatureRange: { minThresholdCelsius: 10, maxThresholdCelsius: 32 }, thermostatTemperatureUnit: 'C', bufferRangeCelsius: 2 },
      deviceInfo: { manufacturer: 'Acme', model: 'T-2', hwVersion: '2.0', swVersion: '5.0.0' },
    });
    assert.equal(payload.devices.length, 6);
    assert.equal(payload.devices.find((d: any) => d.id === 'scene-1').willReportState, false, 'scenes never report state');
    assert.deepEqual(w.links, [`linked:${USER}:grant-1`]);
  });

  it('says willReportState false for every device when Report State is not configured', async () => {
    const w = world({ reporting: false });
    const res = await w.svc.fulfill(caller, { requestId: 'r', inputs: [{ intent: 'action.devices.SYNC' }] });
    assert.ok((res.payload as any).devices.every((d: any) => d.willReportState === false));
  });

  it('F10-style global error when the backend fails, never an exception', async () => {
    const w = world({ throwOnList: true });
    const res = await w.svc.fulfill(caller, { requestId: 'req-sync-2', inputs: [{ intent: 'action.devices.SYNC' }] });
    assert.deepEqual(res, { requestId: 'req-sync-2', payload: { errorCode: 'transientError', status: 'ERROR' } });
  });
});

describe('QUERY', () => {
  it('F2: online device with its full trait state, offline device as deviceOffline', async () => {
    const w = world();
    w.devices.set('thermo-1', { ...w.devices.get('thermo-1')!, online: false });
    const res = await w.svc.fulfill(caller, {
      requestId: 'req-query-1',
      inputs: [{ intent: 'action.devices.QUERY', payload: { devices: [{ id: 'light-1', customData: { hubId: 'hub-9' } }, { id: 'thermo-1' }] } }],
    });
    assert.deepEqual(res, {
      requestId: 'req-query-1',
      payload: {
        devices: {
          'light-1': { online: true, status: 'SUCCESS', on: true, brightness: 65, color: { temperatureK: 2700 } },
          'thermo-1': { online: false, status: 'ERROR', errorCode: 'deviceOffline' },
        },
      },
    });
  });

  it('unknown and foreign ids → deviceNotFound (never dropped)', async () => {
    const w = world();
    w.devices.set('other', { ...device({ id: 'other', type: 'LIGHT', traits: ['OnOff'] }), userId: 'someone-else' });
    const res = await w.svc.fulfill(caller, { requestId: 'q', inputs: [{ intent: 'action.devices.QUERY', payload: { devices: [{ id: 'nope' }, { id: 'other' }, { id: 'scene-1' }] } }] });
    assert.deepEqual((res.payload as any).devices, {
      nope: { online: false, status: 'ERROR', errorCode: 'deviceNotFound' },
      other: { online: false, status: 'ERROR', errorCode: 'deviceNotFound' },
      'scene-1': { online: true, status: 'SUCCESS' },
    });
  });

  it('malformed payload → hardError with an empty devices map', async () => {
    const w = world();
    const res = await w.svc.fulfill(caller, { requestId: 'q2', inputs: [{ intent: 'action.devices.QUERY', payload: { devices: 'light-1' } }] });
    assert.deepEqual(res, { requestId: 'q2', payload: { errorCode: 'hardError', status: 'ERROR', debugString: 'malformed QUERY payload', devices: {} } });
  });
});

describe('EXECUTE', () => {
  it('F3: two executions on one device → one SUCCESS with touched states, two command messages, one report', async () => {
    const w = world();
    const res = await w.svc.fulfill(caller, exec('req-exec-1', [{
      devices: [{ id: 'light-1', customData: { hubId: 'hub-9' } }],
      execution: [
        { command: 'action.devices.commands.OnOff', params: { on: true } },
        { command: 'action.devices.commands.BrightnessAbsolute', params: { brightness: 40 } },
      ],
    }]));
    assert.deepEqual(res, { requestId: 'req-exec-1', payload: { commands: [{ ids: ['light-1'], status: 'SUCCESS', states: { online: true, on: true, brightness: 40 } }] } });
    assert.deepEqual(w.applied, [{
      deviceId: 'light-1',
      state: { on: true, brightness: 40, color: { temperatureK: 2700 } },
      commands: [
        { command: 'action.devices.commands.OnOff', params: { on: true } },
        { command: 'action.devices.commands.BrightnessAbsolute', params: { brightness: 40 } },
      ],
    }]);
  });

  it('F4: partial failure, one device offline', async () => {
    const w = world();
    const res = await w.svc.fulfill(caller, exec('req-exec-2', [{ devices: [{ id: 'light-1' }, { id: 'light-2' }], execution: [{ command: 'action.devices.commands.OnOff', params: { on: false } }] }]));
    assert.deepEqual(res, { requestId: 'req-exec-2', payload: { commands: [
      { ids: ['light-1'], status: 'SUCCESS', states: { online: true, on: false } },
      { ids: ['light-2'], status: 'ERROR', errorCode: 'deviceOffline' },
    ] } });
    assert.deepEqual(w.applied.map((a) => a.deviceId), ['light-1']);
  });

  it('F5: valueOutOfRange with a debugString, nothing applied', async () => {
    const w = world();
    const res = await w.svc.fulfill(caller, exec('req-exec-3', [{ devices: [{ id: 'thermo-1' }], execution: [{ command: 'action.devices.commands.ThermostatTemperatureSetpoint', params: { thermostatTemperatureSetpoint: 45 } }] }]));
    assert.deepEqual(res, { requestId: 'req-exec-3', payload: { commands: [{ ids: ['thermo-1'], status: 'ERROR', errorCode: 'valueOutOfRange', debugString: 'setpoint 45 outside 10..32 C' }] } });
    assert.equal(w.applied.length, 0);
  });

  it('several command groups and executions; identical outcomes grouped; unknown ids → deviceNotFound', async () => {
    const w = world();
    w.devices.set('light-3', device({ id: 'light-3', type: 'LIGHT', traits: ['OnOff', 'Brightness'], state: { on: false, brightness: 10 } }));
    const res = await w.svc.fulfill(caller, exec('multi', [
      { devices: [{ id: 'light-1' }, { id: 'light-3' }, { id: 'ghost' }], execution: [{ command: 'action.devices.commands.OnOff', params: { on: true } }] },
      { devices: [{ id: 'light-1' }, { id: 'light-3' }], execution: [{ command: 'action.devices.commands.BrightnessAbsolute', params: { brightness: 70 } }, { command: 'action.devices.commands.BrightnessRelative', params: { brightnessRelativePercent: 10 } }] },
      { devices: [{ id: 'thermo-1' }], execution: [{ command: 'action.devices.commands.ThermostatSetMode', params: { thermostatMode: 'cool' } }] },
    ]));
    assert.deepEqual((res.payload as any).commands, [
      { ids: ['light-1', 'light-3'], status: 'SUCCESS', states: { online: true, on: true, brightness: 80 } },
      { ids: ['ghost'], status: 'ERROR', errorCode: 'deviceNotFound' },
      { ids: ['thermo-1'], status: 'SUCCESS', states: { online: true, thermostatMode: 'cool', thermostatTemperatureSetpoint: 20 } },
    ]);
    const l3 = w.applied.find((a) => a.deviceId === 'light-3')!;
    assert.deepEqual(l3.commands, [
      { command: 'action.devices.commands.OnOff', params: { on: true } },
      { command: 'action.devices.commands.BrightnessAbsolute', params: { brightness: 70 } },
      { command: 'action.devices.commands.BrightnessRelative', params: { brightnessRelativePercent: 10 } },
    ]);
    assert.deepEqual(l3.state, { on: true, brightness: 80 });
  });

  it('a device applies all of its executions or none', async () => {
    const w = world();
    const res = await w.svc.fulfill(caller, exec('atomic', [{ devices: [{ id: 'light-1' }], execution: [{ command: 'action.devices.commands.OnOff', params: { on: false } }, { command: 'action.devices.commands.BrightnessAbsolute', params: { brightness: 400 } }] }]));
    assert.equal((res.payload as any).commands[0].errorCode, 'valueOutOfRange');
    assert.equal(w.applied.length, 0);
  });

  it('command of a trait the device lacks → functionNotSupported; unknown command → notSupported', async () => {
    const w = world();
    const res = await w.svc.fulfill(caller, exec('ns', [
      { devices: [{ id: 'thermo-1' }], execution: [{ command: 'action.devices.commands.OnOff', params: { on: true } }] },
      { devices: [{ id: 'light-1' }], execution: [{ command: 'action.devices.commands.SelfDestruct' }] },
    ]));
    assert.deepEqual((res.payload as any).commands.map((c: any) => [c.ids, c.errorCode]), [[['thermo-1'], 'functionNotSupported'], [['light-1'], 'notSupported']]);
  });

  it('a failed write turns the accepted devices into transientError; other outcomes stay', async () => {
    const w = world();
    w.failApply.add('light-1');
    w.devices.set('light-3', device({ id: 'light-3', type: 'LIGHT', traits: ['OnOff'] }));
    const res = await w.svc.fulfill(caller, exec('tf', [{ devices: [{ id: 'light-1' }, { id: 'light-3' }, { id: 'light-2' }], execution: [{ command: 'action.devices.commands.OnOff', params: { on: true } }] }]));
    assert.deepEqual((res.payload as any).commands, [
      { ids: ['light-1', 'light-3'], status: 'ERROR', errorCode: 'transientError' },
      { ids: ['light-2'], status: 'ERROR', errorCode: 'deviceOffline' },
    ]);
    assert.equal(w.applied.length, 0);
  });

  it('malformed EXECUTE payloads → hardError with empty commands', async () => {
    const w = world();
    for (const commands of [[], [{ devices: [], execution: [{ command: 'x' }] }], [{ devices: [{ id: 'light-1' }], execution: [{ command: 'action.devices.commands.OnOff', params: { on: true, pad: 'x'.repeat(9000) } }] }], [{ devices: [{ id: 'light-1' }], execution: [] }], [{ devices: [{ id: 'light-1' }], execution: [{ command: 'a', params: 'on' }] }], 'nope']) {
      const res = await w.svc.fulfill(caller, exec('bad', commands));
      assert.deepEqual(res, { requestId: 'bad', payload: { errorCode: 'hardError', status: 'ERROR', debugString: 'malformed EXECUTE payload', commands: [] } });
    }
  });
});

describe('two-factor challenges', () => {
  it('F6: unlocking asks for the PIN, a wrong PIN is refused, the right one unlocks', async () => {
    const w = world();
    w.security.rows.set('lock-1', { mode: 'auto', pinHash: await hashPin('4321'), failedAttempts: 0, lockedUntil: null });
    const unlock = (challenge?: object) => exec('req-exec-4', [{ devices: [{ id: 'lock-1' }], execution: [{ command: 'action.devices.commands.LockUnlock', params: { lock: false }, ...(challenge ? { challenge } : {}) }] }]);
    assert.deepEqual(await w.svc.fulfill(caller, unlock()), { requestId: 'req-exec-4', payload: { commands: [{ ids: ['lock-1'], status: 'ERROR', errorCode: 'challengeNeeded', challengeNeeded: { type: 'pinNeeded' } }] } });
    assert.deepEqual((await w.svc.fulfill(caller, unlock({ pin: '0000' }))).payload, { commands: [{ ids: ['lock-1'], status: 'ERROR', errorCode: 'challengeNeeded', challengeNeeded: { type: 'challengeFailedPinNeeded' } }] });
    assert.equal(w.applied.length, 0);
    assert.deepEqual((await w.svc.fulfill(caller, unlock({ pin: '4321' }))).payload, { commands: [{ ids: ['lock-1'], status: 'SUCCESS', states: { online: true, isLocked: false, isJammed: false } }] });
    assert.equal(w.security.rows.get('lock-1')!.failedAttempts, 0, 'a correct PIN clears failed attempts');
    // Locking needs no challenge.
    assert.equal(((await w.svc.fulfill(caller, exec('lock', [{ devices: [{ id: 'lock-1' }], execution: [{ command: 'action.devices.commands.LockUnlock', params: { lock: true } }] }]))).payload as any).commands[0].status, 'SUCCESS');
  });

  it('a secure device without a PIN asks for an acknowledgement, with the current state', async () => {
    const w = world();
    const open = (challenge?: object) => exec('g', [{ devices: [{ id: 'garage-1' }], execution: [{ command: 'action.devices.commands.OpenClose', params: { openPercent: 100 }, ...(challenge ? { challenge } : {}) }] }]);
    assert.deepEqual((await w.svc.fulfill(caller, open())).payload, { commands: [{ ids: ['garage-1'], status: 'ERROR', states: { online: true, openPercent: 0 }, errorCode: 'challengeNeeded', challengeNeeded: { type: 'ackNeeded' } }] });
    assert.equal(((await w.svc.fulfill(caller, open({ ack: false }))).payload as any).commands[0].challengeNeeded.type, 'ackNeeded');
    assert.deepEqual((await w.svc.fulfill(caller, open({ ack: true }))).payload, { commands: [{ ids: ['garage-1'], status: 'SUCCESS', states: { online: true, openPercent: 100 } }] });
  });

  it('too many wrong PINs lock the device out, even for the right PIN, until the lockout ends', async () => {
    const w = world();
    w.security.rows.set('lock-1', { mode: 'auto', pinHash: await hashPin('4321'), failedAttempts: 0, lockedUntil: null });
    const unlock = (pin: string) => exec('x', [{ devices: [{ id: 'lock-1' }], execution: [{ command: 'action.devices.commands.LockUnlock', params: { lock: false }, challenge: { pin } }] }]);
    const outcome = async (pin: string) => {
      const c = ((await w.svc.fulfill(caller, unlock(pin))).payload as any).commands[0];
      return c.challengeNeeded?.type ?? c.errorCode ?? c.status;
    };
    assert.equal(await outcome('1111'), 'challengeFailedPinNeeded');
    assert.equal(await outcome('2222'), 'challengeFailedPinNeeded');
    assert.equal(await outcome('3333'), 'securityRestriction');
    assert.equal(await outcome('4321'), 'securityRestriction');
    assert.equal(w.applied.length, 0);
    w.clock.now = new Date(w.clock.now.getTime() + 61_000);
    assert.equal(await outcome('4321'), 'SUCCESS');
  });

  it('an owner may require a PIN (or an ack) for every command of any device', async () => {
    const w = world();
    w.security.rows.set('light-1', { mode: 'pin', pinHash: await hashPin('2468'), failedAttempts: 0, lockedUntil: null });
    w.security.rows.set('thermo-1', { mode: 'ack', pinHash: null, failedAttempts: 0, lockedUntil: null });
    const res = await w.svc.fulfill(caller, exec('p', [
      { devices: [{ id: 'light-1' }], execution: [{ command: 'action.devices.commands.OnOff', params: { on: false } }] },
      { devices: [{ id: 'thermo-1' }], execution: [{ command: 'action.devices.commands.ThermostatSetMode', params: { thermostatMode: 'off' } }] },
    ]));
    assert.deepEqual((res.payload as any).commands.map((c: any) => c.challengeNeeded.type), ['pinNeeded', 'ackNeeded']);
    const ok = await w.svc.fulfill(caller, exec('p2', [{ devices: [{ id: 'light-1' }], execution: [{ command: 'action.devices.commands.OnOff', params: { on: false }, challenge: { pin: '2468' } }] }]));
    assert.equal((ok.payload as any).commands[0].status, 'SUCCESS');
  });

  it('an invalid command is reported as such before any challenge', async () => {
    const w = world();
    const res = await w.svc.fulfill(caller, exec('i', [{ devices: [{ id: 'garage-1' }], execution: [{ command: 'action.devices.commands.OpenClose', params: { openPercent: 250 } }] }]));
    assert.equal((res.payload as any).commands[0].errorCode, 'valueOutOfRange');
  });
});

describe('DISCONNECT and malformed requests', () => {
  it('F7: revokes exactly the caller\'s grant and answers {}', async () => {
    const w = world();
    assert.deepEqual(await w.svc.fulfill(caller, { requestId: 'req-disc-1', inputs: [{ intent: 'action.devices.DISCONNECT' }] }), {});
    assert.deepEqual(w.revoked, ['grant-1']);
    assert.deepEqual(w.links, [`unlinked:${USER}:grant-1`]);
  });

  it('unknown intent → notSupported, requestId echoed', async () => {
    const w = world();
    assert.deepEqual(await w.svc.fulfill(caller, { requestId: 'u1', inputs: [{ intent: 'action.devices.IDENTIFY' }] }), { requestId: 'u1', payload: { errorCode: 'notSupported', status: 'ERROR', debugString: 'unknown intent action.devices.IDENTIFY' } });
  });

  it('malformed envelopes → hardError, echoing requestId when there is one', async () => {
    const w = world();
    assert.deepEqual(await w.svc.fulfill(caller, { requestId: 'm1' }), { requestId: 'm1', payload: { errorCode: 'hardError', status: 'ERROR', debugString: 'malformed request: requestId and inputs[] are required' } });
    assert.deepEqual(await w.svc.fulfill(caller, { requestId: 'm2', inputs: [] }), { requestId: 'm2', payload: { errorCode: 'hardError', status: 'ERROR', debugString: 'malformed request: requestId and inputs[] are required' } });
    for (const body of [null, 'text', 42, [], { inputs: [{ intent: 'action.devices.SYNC' }] }]) {
      const res = await w.svc.fulfill(caller, body);
      assert.equal((res.payload as any).errorCode, 'hardError');
      assert.equal('requestId' in res, false);
    }
  });
});
