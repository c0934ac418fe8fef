import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { executeCommand, projectState, SUPPORTED_TRAITS, type TraitDevice } from '../../src/domain/smarthome/traits.ts';

const T = (s: string) => `action.devices.traits.${s}`;
const C = (s: string) => `action.devices.commands.${s}`;

function dev(type: string, traits: string[], attributes: Record<string, unknown> = {}, state: Record<string, unknown> = {}): TraitDevice {
  return { type: `action.devices.types.${type}`, traits: traits.map(T), attributes, state };
}

function run(d: TraitDevice, command: string, params: unknown) {
  return executeCommand(d, C(command), params);
}

function okState(d: TraitDevice, command: string, params: unknown): Record<string, unknown> {
  const r = run(d, command, params);
  assert.ok(r.ok, `expected success, got ${JSON.stringify(r)}`);
  return r.state;
}

function errorCode(d: TraitDevice, command: string, params: unknown): string {
  const r = run(d, command, params);
  assert.ok(!r.ok, `expected an error, got ${JSON.stringify(r)}`);
  return r.errorCode;
}

describe('traits: EXECUTE state changes and range checks', () => {
  it('lists the implemented traits', () => {
    for (const t of ['OnOff', 'Brightness', 'ColorSetting', 'TemperatureSetting', 'OpenClose', 'LockUnlock', 'StartStop', 'FanSpeed', 'Modes', 'Toggles', 'Volume', 'Scene']) {
      assert.ok(SUPPORTED_TRAITS.includes(T(t)), t);
    }
  });

  it('OnOff', () => {
    const light = dev('LIGHT', ['OnOff'], {}, { on: false });
    assert.equal(okState(light, 'OnOff', { on: true }).on, true);
    assert.equal(errorCode(light, 'OnOff', { on: 'yes' }), 'notSupported');
    assert.equal(errorCode(light, 'OnOff', {}), 'notSupported');
    assert.equal(errorCode(dev('SENSOR', ['OnOff'], { queryOnlyOnOff: true }), 'OnOff', { on: true }), 'functionNotSupported');
  });

  it('Brightness absolute and relative (percent and weight), clamped', () => {
    const light = dev('LIGHT', ['OnOff', 'Brightness'], {}, { on: true, brightness: 50 });
    assert.equal(okState(light, 'BrightnessAbsolute', { brightness: 0 }).brightness, 0);
    assert.equal(okState(light, 'BrightnessAbsolute', { brightness: 100 }).brightness, 100);
    assert.equal(errorCode(light, 'BrightnessAbsolute', { brightness: 101 }), 'valueOutOfRange');
    assert.equal(errorCode(light, 'BrightnessAbsolute', { brightness: -1 }), 'valueOutOfRange');
    assert.equal(errorCode(light, 'BrightnessAbsolute', { brightness: 40.5 }), 'valueOutOfRange');
    assert.equal(errorCode(light, 'BrightnessAbsolute', { brightness: '40' }), 'notSupported');
    assert.equal(okState(light, 'BrightnessRelative', { brightnessRelativePercent: 20 }).brightness, 70);
    assert.equal(okState(light, 'BrightnessRelative', { brightnessRelativePercent: -80 }).brightness, 0);
    assert.equal(okState(light, 'BrightnessRelative', { brightnessRelativePercent: 90 }).brightness, 100);
    assert.equal(okState(light, 'BrightnessRelative', { brightnessRelativeWeight: -2 }).brightness, 30);
    assert.equal(errorCode(light, 'BrightnessRelative', { brightnessRelativePercent: 150 }), 'valueOutOfRange');
    assert.equal(errorCode(light, 'BrightnessRelative', { brightnessRelativeWeight: 9 }), 'valueOutOfRange');
    assert.equal(errorCode(light, 'BrightnessRelative', {}), 'notSupported');
    // The seed stored the relative param literally; here it never leaks into state.
    assert.equal('brightnessRelativePercent' in okState(light, 'BrightnessRelative', { brightnessRelativePercent: 5 }), false);
  });

  it('ColorSetting: temperature, RGB and HSV with the state spelling', () => {
    const rgb = dev('LIGHT', ['ColorSetting'], { colorModel: 'rgb', colorTemperatureRange: { temperatureMinK: 2000, temperatureMaxK: 9000 } });
    assert.deepEqual(okState(rgb, 'ColorAbsolute', { color: { temperature: 2700 } }).color, { temperatureK: 2700 });
    assert.deepEqual(okState(rgb, 'ColorAbsolute', { color: { name: 'cerulean', spectrumRGB: 31655 } }).color, { spectrumRgb: 31655 });
    assert.equal(errorCode(rgb, 'ColorAbsolute', { color: { temperature: 1500 } }), 'valueOutOfRange');
    assert.equal(errorCode(rgb, 'ColorAbsolute', { color: { temperature: 9001 } }), 'valueOutOfRange');
    assert.equal(errorCode(rgb, 'ColorAbsolute', { color: { spectrumRGB: 16777216 } }), 'valueOutOfRange');
    assert.equal(errorCode(rgb, 'ColorAbsolute', { color: { spectrumRGB: -1 } }), 'valueOutOfRange');
    assert.equal(errorCode(rgb, 'ColorAbsolute', { color: { spectrumHSV: { hue: 10, saturation: 1, value: 1 } } }), 'notSupported');
    assert.equal(errorCode(rgb, 'ColorAbsolute', { color: {} }), 'notSupported');
    const hsv = dev('LIGHT', ['ColorSetting'], { colorModel: 'hsv' });
    assert.deepEqual(okState(hsv, 'ColorAbsolute', { color: { spectrumHSV: { hue: 300, saturation: 0.5, value: 1 } } }).color, { spectrumHsv: { hue: 300, saturation: 0.5, value: 1 } });
    assert.equal(errorCode(hsv, 'ColorAbsolute', { color: { spectrumHSV: { hue: 360, saturation: 0.5, value: 1 } } }), 'valueOutOfRange');
    assert.equal(errorCode(hsv, 'ColorAbsolute', { color: { spectrumHSV: { hue: 10, saturation: 1.5, value: 1 } } }), 'valueOutOfRange');
    assert.equal(errorCode(hsv, 'ColorAbsolute', { color: { temperature: 3000 } }), 'notSupported');
    assert.equal(errorCode(hsv, 'ColorAbsolute', { color: { spectrumRGB: 255 } }), 'notSupported');
  });

  it('TemperatureSetting: setpoint, range with buffer, mode, relative', () => {
    const attrs = { availableThermostatModes: ['off', 'heat', 'cool', 'heatcool'], thermostatTemperatureRange: { minThresholdCelsius: 10, maxThresholdCelsius: 32 }, thermostatTemperatureUnit: 'C', bufferRangeCelsius: 2 };
    const t = dev('THERMOSTAT', ['TemperatureSetting'], attrs, { thermostatMode: 'heat', thermostatTemperatureSetpoint: 20, thermostatTemperatureAmbient: 19 });
    assert.equal(okState(t, 'ThermostatTemperatureSetpoint', { thermostatTemperatureSetpoint: 21.5 }).thermostatTemperatureSetpoint, 21.5);
    assert.equal(errorCode(t, 'ThermostatTemperatureSetpoint', { thermostatTemperatureSetpoint: 45 }), 'valueOutOfRange');
    assert.equal(errorCode(t, 'ThermostatTemperatureSetpoint', { thermostatTemperatureSetpoint: 9.9 }), 'valueOutOfRange');
    const r = okState(t, 'ThermostatTemperatureSetRange', { thermostatTemperatureSetpointHigh: 24, thermostatTemperatureSetpointLow: 20 });
    assert.deepEqual([r.thermostatTemperatureSetpointLow, r.thermostatTemperatureSetpointHigh], [20, 24]);
    assert.equal(errorCode(t, 'ThermostatTemperatureSetRange', { thermostatTemperatureSetpointHigh: 21, thermostatTemperatureSetpointLow: 20 }), 'rangeTooClose');
    assert.equal(errorCode(t, 'ThermostatTemperatureSetRange', { thermostatTemperatureSetpointHigh: 40, thermostatTemperatureSetpointLow: 20 }), 'valueOutOfRange');
    assert.equal(okState(t, 'ThermostatSetMode', { thermostatMode: 'cool' }).thermostatMode, 'cool');
    assert.equal(errorCode(t, 'ThermostatSetMode', { thermostatMode: 'eco' }), 'notSupported');
    assert.equal(okState(t, 'TemperatureRelative', { thermostatTemperatureRelativeDegree: 2 }).thermostatTemperatureSetpoint, 22);
    assert.equal(okState(t, 'TemperatureRelative', { thermostatTemperatureRelativeWeight: -2 }).thermostatTemperatureSetpoint, 19);
    assert.equal(errorCode(t, 'TemperatureRelative', { thermostatTemperatureRelativeDegree: 15 }), 'valueOutOfRange');
    const hc = dev('THERMOSTAT', ['TemperatureSetting'], attrs, { thermostatMode: 'heatcool', thermostatTemperatureSetpointLow: 20, thermostatTemperatureSetpointHigh: 24 });
    const s = okState(hc, 'TemperatureRelative', { thermostatTemperatureRelativeDegree: -1 });
    assert.deepEqual([s.thermostatTemperatureSetpointLow, s.thermostatTemperatureSetpointHigh], [19, 23]);
    assert.equal(errorCode(dev('THERMOSTAT', ['TemperatureSetting'], { ...attrs, queryOnlyTemperatureSetting: true }), 'ThermostatSetMode', { thermostatMode: 'heat' }), 'functionNotSupported');
  });

  it('OpenClose: absolute, relative, discrete-only and directions', () => {
    const blinds = dev('BLINDS', ['OpenClose'], {}, { openPercent: 30 });
    assert.equal(okState(blinds, 'OpenClose', { openPercent: 100 }).openPercent, 100);
    assert.equal(errorCode(blinds, 'OpenClose', { openPercent: 101 }), 'valueOutOfRange');
    assert.equal(errorCode(blinds, 'OpenClose', { openPercent: -5 }), 'valueOutOfRange');
    assert.equal(okState(blinds, 'OpenCloseRelative', { openRelativePercent: 50 }).openPercent, 80);
    assert.equal(okState(blinds, 'OpenCloseRelative', { openRelativePercent: -50 }).openPercent, 0);
    assert.equal(errorCode(blinds, 'OpenCloseRelative', { openRelativePercent: 200 }), 'valueOutOfRange');
    const discrete = dev('GARAGE', ['OpenClose'], { discreteOnlyOpenClose: true }, { openPercent: 0 });
    assert.equal(errorCode(discrete, 'OpenClose', { openPercent: 50 }), 'valueOutOfRange');
    assert.equal(okState(discrete, 'OpenClose', { openPercent: 100 }).openPercent, 100);
    const awning = dev('AWNING', ['OpenClose'], { openDirection: ['UP', 'DOWN'] }, { openState: [{ openPercent: 0, openDirection: 'UP' }, { openPercent: 10, openDirection: 'DOWN' }] });
    assert.deepEqual(okState(awning, 'OpenClose', { openPercent: 60, openDirection: 'UP' }).openState, [{ openPercent: 60, openDirection: 'UP' }, { openPercent: 10, openDirection: 'DOWN' }]);
    assert.equal(errorCode(awning, 'OpenClose', { openPercent: 60, openDirection: 'LEFT' }), 'notSupported');
    assert.deepEqual(projectState(awning), { openState: [{ openPercent: 0, openDirection: 'UP' }, { openPercent: 10, openDirection: 'DOWN' }] });
  });

  it('LockUnlock, with a jammed lock refusing', () => {
    const lock = dev('LOCK', ['LockUnlock'], {}, { isLocked: true, isJammed: false });
    assert.deepEqual(okState(lock, 'LockUnlock', { lock: false }), { isLocked: false, isJammed: false });
    assert.equal(errorCode(dev('LOCK', ['LockUnlock'], {}, { isLocked: false, isJammed: true }), 'LockUnlock', { lock: true }), 'deviceJammingDetected');
    assert.equal(errorCode(lock, 'LockUnlock', { lock: 'no' }), 'notSupported');
  });

  it('StartStop and PauseUnpause, zones', () => {
    const vac = dev('VACUUM', ['StartStop'], { pausable: true, availableZones: ['kitchen', 'hall'] }, { isRunning: false, isPaused: false });
    assert.deepEqual(okState(vac, 'StartStop', { start: true, zone: 'kitchen' }), { isRunning: true, isPaused: false, activeZones: ['kitchen'] });
    assert.equal(errorCode(vac, 'StartStop', { start: true, zone: 'garden' }), 'valueOutOfRange');
    assert.equal(errorCode(vac, 'StartStop', { start: true, multipleZones: ['kitchen', 'attic'] }), 'valueOutOfRange');
    assert.equal(errorCode(vac, 'PauseUnpause', { pause: true }), 'alreadyStopped');
    const running = dev('VACUUM', ['StartStop'], { pausable: true }, { isRunning: true, isPaused: false });
    assert.deepEqual(okState(running, 'PauseUnpause', { pause: true }), { isRunning: true, isPaused: true });
    assert.equal(errorCode(dev('WASHER', ['StartStop'], {}, { isRunning: true }), 'PauseUnpause', { pause: true }), 'notSupported');
    // Report State needs both flags even when the device never reported one.
    assert.deepEqual(projectState(dev('VACUUM', ['StartStop'], {}, { isRunning: true })), { isRunning: true, isPaused: false });
  });

  it('FanSpeed: named speeds, percent, relative, reverse', () => {
    const fan = dev('FAN', ['OnOff', 'FanSpeed'], {
      availableFanSpeeds: { speeds: [{ speed_name: 'low', speed_values: [{ speed_synonym: ['low'], lang: 'en' }] }, { speed_name: 'high', speed_values: [{ speed_synonym: ['high'], lang: 'en' }] }], ordered: true },
      supportsFanSpeedPercent: true,
      reversible: false,
    }, { currentFanSpeedSetting: 'low', currentFanSpeedPercent: 30 });
    assert.equal(okState(fan, 'SetFanSpeed', { fanSpeed: 'high' }).currentFanSpeedSetting, 'high');
    assert.equal(errorCode(fan, 'SetFanSpeed', { fanSpeed: 'turbo' }), 'valueOutOfRange');
    assert.equal(okState(fan, 'SetFanSpeed', { fanSpeedPercent: 55 }).currentFanSpeedPercent, 55);
    assert.equal(errorCode(fan, 'SetFanSpeed', { fanSpeedPercent: 120 }), 'valueOutOfRange');
    assert.equal(okState(fan, 'SetFanSpeedRelative', { fanSpeedRelativeWeight: 1 }).currentFanSpeedSetting, 'high');
    assert.equal(errorCode(fan, 'SetFanSpeedRelative', { fanSpeedRelativeWeight: 2 }), 'maxSpeedReached');
    assert.equal(errorCode(fan, 'SetFanSpeedRelative', { fanSpeedRelativeWeight: -1 }), 'minSpeedReached');
    assert.equal(okState(fan, 'SetFanSpeedRelative', { fanSpeedRelativePercent: -50 }).currentFanSpeedPercent, 0);
    assert.equal(errorCode(fan, 'SetFanSpeedRelative', { fanSpeedRelativePercent: -101 }), 'valueOutOfRange');
    assert.equal(errorCode(fan, 'Reverse', {}), 'notSupported');
  });

  it('Modes and Toggles', () => {
    const w = dev('WASHER', ['Modes', 'Toggles'], {
      availableModes: [{ name: 'load', name_values: [{ name_synonym: ['load'], lang: 'en' }], settings: [{ setting_name: 'small', setting_values: [] }, { setting_name: 'large', setting_values: [] }], ordered: true }],
      availableToggles: [{ name: 'sterilization', name_values: [{ name_synonym: ['sterilization'], lang: 'en' }] }],
    }, { currentModeSettings: { load: 'small' }, currentToggleSettings: { sterilization: false } });
    assert.deepEqual(okState(w, 'SetModes', { updateModeSettings: { load: 'large' } }).currentModeSettings, { load: 'large' });
    assert.equal(errorCode(w, 'SetModes', { updateModeSettings: { load: 'huge' } }), 'valueOutOfRange');
    assert.equal(errorCode(w, 'SetModes', { updateModeSettings: { speed: 'fast' } }), 'notSupported');
    assert.equal(errorCode(w, 'SetModes', { updateModeSettings: {} }), 'notSupported');
    assert.deepEqual(okState(w, 'SetToggles', { updateToggleSettings: { sterilization: true } }).currentToggleSettings, { sterilization: true });
    assert.equal(errorCode(w, 'SetToggles', { updateToggleSettings: { turbo: true } }), 'notSupported');
    assert.equal(errorCode(w, 'SetToggles', { updateToggleSettings: { sterilization: 'on' } }), 'notSupported');
  });

  it('Volume: set, relative, mute', () => {
    const tv = dev('TV', ['Volume'], { volumeMaxLevel: 30, volumeCanMuteAndUnmute: true, levelStepSize: 2 }, { currentVolume: 10, isMuted: true });
    assert.deepEqual(okState(tv, 'setVolume', { volumeLevel: 30 }), { currentVolume: 30, isMuted: false });
    assert.equal(errorCode(tv, 'setVolume', { volumeLevel: 31 }), 'valueOutOfRange');
    assert.equal(errorCode(tv, 'setVolume', { volumeLevel: -1 }), 'valueOutOfRange');
    assert.equal(okState(tv, 'volumeRelative', { relativeSteps: 3 }).currentVolume, 16);
    assert.equal(okState(tv, 'volumeRelative', { relativeSteps: -10 }).currentVolume, 0);
    assert.equal(errorCode(dev('TV', ['Volume'], { volumeMaxLevel: 30 }, { currentVolume: 30 }), 'volumeRelative', { relativeSteps: 1 }), 'alreadyAtMax');
    assert.equal(okState(tv, 'mute', { mute: false }).isMuted, false);
    assert.equal(errorCode(dev('SPEAKER', ['Volume'], { volumeMaxLevel: 10 }), 'mute', { mute: true }), 'notSupported');
  });

  it('Scene: activate, deactivate only when reversible', () => {
    const scene = dev('SCENE', ['Scene'], { sceneReversible: false });
    assert.ok(run(scene, 'ActivateScene', {}).ok);
    assert.ok(run(scene, 'ActivateScene', { deactivate: false }).ok);
    assert.equal(errorCode(scene, 'ActivateScene', { deactivate: true }), 'notSupported');
    assert.ok(run(dev('SCENE', ['Scene'], { sceneReversible: true }), 'ActivateScene', { deactivate: true }).ok);
    assert.deepEqual(projectState(scene), {});
  });

  it('unknown commands, missing traits and non-object params', () => {
    const light = dev('LIGHT', ['OnOff']);
    assert.equal(errorCode(light, 'Teleport', {}), 'notSupported');
    assert.equal(executeCommand(light, 'OnOff', { on: true }).ok, false, 'the prefix is required');
    assert.equal(errorCode(light, 'BrightnessAbsolute', { brightness: 10 }), 'functionNotSupported');
    assert.equal(errorCode(light, 'OnOff', [true]), 'notSupported');
  });
});

describe('traits: QUERY projection', () => {
  it('returns the full state of every declared trait in Google spelling, nothing else', () => {
    const light = dev('LIGHT', ['OnOff', 'Brightness', 'ColorSetting'], { colorModel: 'rgb' }, { on: true, brightness: 80, color: { spectrumRGB: 31655 }, secret: 'x', isLocked: true });
    assert.deepEqual(projectState(light), { on: true, brightness: 80, color: { spectrumRgb: 31655 } });
    assert.deepEqual(projectState(dev('LOCK', ['LockUnlock'], {}, {})), { isLocked: false, isJammed: false });
  });

  it('passes through reported states of traits it does not model', () => {
    const sensor = dev('SENSOR', ['SensorState', 'OnOff'], {}, { on: true, currentSensorStateData: [{ name: 'AirQuality', currentSensorState: 'good' }], brightness: 3 });
    assert.deepEqual(projectState(sensor), { on: true, currentSensorStateData: [{ name: 'AirQuality', currentSensorState: 'good' }] });
  });
});
