/**
 * Google Smart Home traits: which states each trait owns (QUERY and Report State), and how each EXECUTE
 * command changes them after checking its params against the attributes the device advertised in SYNC.
 * Pure functions, no I/O.
 *
 * State names are Google's flattened names (`on`, `brightness`, `color.spectrumRgb`…). Note the casing
 * trap: ColorAbsolute's params say `spectrumRGB`/`spectrumHSV`, the state says `spectrumRgb`/`spectrumHsv`.
 */
import type { JsonObject } from './smarthome.types.ts';

export const TRAIT_PREFIX = 'action.devices.traits.';
export const COMMAND_PREFIX = 'action.devices.commands.';
export const TYPE_PREFIX = 'action.devices.types.';

/** What a trait-aware command needs to know about the device. */
export interface TraitDevice {
  type: string;
  traits: readonly string[];
  attributes: JsonObject;
  state: JsonObject;
}

export type CommandResult =
  | { ok: true; patch: JsonObject }
  | { ok: false; errorCode: string; debugString?: string };

/** Outcome of one EXECUTE command on one device. */
export type ExecuteOutcome =
  | {
      ok: true;
      /** Short trait name the command belongs to (`Brightness`). */
      trait: string;
      /** The device's whole stored state after the command. */
      state: JsonObject;
    }
  | { ok: false; errorCode: string; debugString?: string };

interface CommandContext {
  type: string;
  attributes: JsonObject;
  state: JsonObject;
  params: JsonObject;
}

interface TraitDef {
  /** Top-level state keys this trait owns. */
  states: readonly string[];
  /** Attribute that, when true, means the device only reports (every command is refused). */
  queryOnlyAttribute?: string;
  /** The trait's full state in Google's spelling (defaults filled where Google needs them). */
  project?(state: JsonObject, attributes: JsonObject): JsonObject;
  /** Short command name → handler. */
  commands: Record<string, (ctx: CommandContext) => CommandResult>;
}

const fail = (errorCode: string, debugString?: string): CommandResult => ({ ok: false, errorCode, ...(debugString ? { debugString } : {}) });
const ok = (patch: JsonObject): CommandResult => ({ ok: true, patch });
const malformed = (what: string): CommandResult => fail('notSupported', `malformed or missing param ${what}`);

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const numOr = (v: unknown, d: number): number => (isNum(v) ? v : d);
const round1 = (v: number): number => Math.round(v * 10) / 10;

function pick(state: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const k of keys) if (state[k] !== undefined) out[k] = state[k];
  return out;
}

/** Both spellings are accepted when a device reports colour; Google only ever sees the state spelling. */
function normaliseColor(color: unknown): JsonObject | undefined {
  if (!isObj(color)) return undefined;
  const out: JsonObject = {};
  if (isNum(color.temperatureK)) out.temperatureK = color.temperatureK;
  else if (isNum(color.temperature)) out.temperatureK = color.temperature;
  const rgb = color.spectrumRgb ?? color.spectrumRGB;
  if (isNum(rgb)) out.spectrumRgb = rgb;
  const hsv = color.spectrumHsv ?? color.spectrumHSV;
  if (isObj(hsv)) out.spectrumHsv = { hue: hsv.hue, saturation: hsv.saturation, value: hsv.value };
  return out;
}

/** The thermostat range advertised in SYNC (Google's default is 10–32 °C). */
function thermostatRange(attributes: JsonObject): { min: number; max: number } {
  const r = isObj(attributes.thermostatTemperatureRange) ? attributes.thermostatTemperatureRange : {};
  return { min: numOr(r.minThresholdCelsius, 10), max: numOr(r.maxThresholdCelsius, 32) };
}

function outOfThermostatRange(value: number, attributes: JsonObject): CommandResult | null {
  const { min, max } = thermostatRange(attributes);
  if (value < min || value > max) return fail('valueOutOfRange', `setpoint ${value} outside ${min}..${max} C`);
  return null;
}

function openDirections(attributes: JsonObject): string[] {
  return Array.isArray(attributes.openDirection) ? attributes.openDirection.filter((d): d is string => typeof d === 'string') : [];
}

function fanSpeedNames(attributes: JsonObject): string[] {
  const afs = isObj(attributes.availableFanSpeeds) ? attributes.availableFanSpeeds : {};
  const speeds = Array.isArray(afs.speeds) ? afs.speeds : [];
  return speeds.filter(isObj).map((s) => s.speed_name).filter((n): n is string => typeof n === 'string');
}

function setOpenPercent(ctx: CommandContext, compute: (current: number) => number, direction: unknown): CommandResult {
  const dirs = openDirections(ctx.attributes);
  if (direction !== undefined && (typeof direction !== 'string' || (dirs.length > 0 && !dirs.includes(direction)))) {
    return fail('notSupported', `open direction ${String(direction)} not supported`);
  }
  const discrete = ctx.attributes.discreteOnlyOpenClose === true;
  const check = (v: number): CommandResult | null => {
    if (v < 0 || v > 100) return fail('valueOutOfRange', `openPercent ${v} outside 0..100`);
    if (discrete && v !== 0 && v !== 100) return fail('valueOutOfRange', 'this device only opens fully or closes fully');
    return null;
  };
  if (dirs.length > 1) {
    const current = Array.isArray(ctx.state.openState) ? ctx.state.openState.filter(isObj) : [];
    const next = dirs.map((d) => {
      const cur = current.find((s) => s.openDirection === d);
      const pct = numOr(cur?.openPercent, 0);
      return { openPercent: direction === undefined || direction === d ? compute(pct) : pct, openDirection: d };
    });
    for (const s of next) {
      const bad = check(s.openPercent);
      if (bad) return bad;
    }
    return ok({ openState: next });
  }
  const v = compute(numOr(ctx.state.openPercent, 0));
  return check(v) ?? ok({ openPercent: v });
}

/** Every trait this fulfillment implements, by short name. */
export const TRAITS: Record<string, TraitDef> = {
  OnOff: {
    states: ['on'],
    queryOnlyAttribute: 'queryOnlyOnOff',
    commands: {
      OnOff: ({ params }) => (typeof params.on === 'boolean' ? ok({ on: params.on }) : malformed('on')),
    },
  },

  Brightness: {
    states: ['brightness'],
    commands: {
      BrightnessAbsolute: ({ params }) => {
        const b = params.brightness;
        if (!isNum(b)) return malformed('brightness');
        if (!isInt(b) || b < 0 || b > 100) return fail('valueOutOfRange', `brightness ${b} outside 0..100`);
        return ok({ brightness: b });
      },
      BrightnessRelative: ({ params, state }) => {
        const current = numOr(state.brightness, 0);
        let delta: number;
        if (params.brightnessRelativePercent !== undefined) {
          const p = params.brightnessRelativePercent;
          if (!isNum(p)) return malformed('brightnessRelativePercent');
          if (p < -100 || p > 100) return fail('valueOutOfRange', `brightnessRelativePercent ${p} outside -100..100`);
          delta = p;
        } else if (params.brightnessRelativeWeight !== undefined) {
          const w = params.brightnessRelativeWeight;
          if (!isNum(w)) return malformed('brightnessRelativeWeight');
          if (w < -5 || w > 5) return fail('valueOutOfRange', `brightnessRelativeWeight ${w} outside -5..5`);
          // Google scales "a little"/"a lot" to -5..5; one step is 10 %.
          delta = w * 10;
        } else return malformed('brightnessRelativePercent');
        return ok({ brightness: Math.round(clamp(current + delta, 0, 100)) });
      },
    },
  },

  ColorSetting: {
    states: ['color'],
    project: (state) => {
      const color = normaliseColor(state.color);
      return color ? { color } : {};
    },
    commands: {
      ColorAbsolute: ({ params, attributes }) => {
        const color = params.color;
        if (!isObj(color)) return malformed('color');
        if (color.temperature !== undefined) {
          const t = color.temperature;
          if (!isNum(t)) return malformed('color.temperature');
          const range = attributes.colorTemperatureRange;
          if (!isObj(range)) return fail('notSupported', 'this device has no colour temperature');
          const min = numOr(range.temperatureMinK, 2000);
          const max = numOr(range.temperatureMaxK, 9000);
          if (t < min || t > max) return fail('valueOutOfRange', `temperature ${t}K outside ${min}..${max}K`);
          return ok({ color: { temperatureK: t } });
        }
        if (color.spectrumRGB !== undefined) {
          const rgb = color.spectrumRGB;
          if (!isNum(rgb)) return malformed('color.spectrumRGB');
          if (attributes.colorModel !== 'rgb') return fail('notSupported', 'this device has no RGB colour model');
          if (!isInt(rgb) || rgb < 0 || rgb > 0xffffff) return fail('valueOutOfRange', `spectrumRGB ${rgb} outside 0..16777215`);
          return ok({ color: { spectrumRgb: rgb } });
        }
        if (color.spectrumHSV !== undefined) {
          const hsv = color.spectrumHSV;
          if (!isObj(hsv) || !isNum(hsv.hue) || !isNum(hsv.saturation) || !isNum(hsv.value)) return malformed('color.spectrumHSV');
          if (attributes.colorModel !== 'hsv') return fail('notSupported', 'this device has no HSV colour model');
          if (hsv.hue < 0 || hsv.hue >= 360 || hsv.saturation < 0 || hsv.saturation > 1 || hsv.value < 0 || hsv.value > 1) {
            return fail('valueOutOfRange', 'spectrumHSV outside hue [0,360), saturation and value [0,1]');
          }
          return ok({ color: { spectrumHsv: { hue: hsv.hue, saturation: hsv.saturation, value: hsv.value } } });
        }
        return malformed('color');
      },
    },
  },

  TemperatureSetting: {
    states: [
      'thermostatMode',
      'thermostatTemperatureSetpoint',
      'thermostatTemperatureSetpointHigh',
      'thermostatTemperatureSetpointLow',
      'thermostatTemperatureAmbient',
      'thermostatHumidityAmbient',
      'activeThermostatMode',
      'targetTempReachedEstimateUnixTimestampSec',
    ],
    queryOnlyAttribute: 'queryOnlyTemperatureSetting',
    commands: {
      ThermostatTemperatureSetpoint: ({ params, attributes }) => {
        const t = params.thermostatTemperatureSetpoint;
        if (!isNum(t)) return malformed('thermostatTemperatureSetpoint');
        return outOfThermostatRange(t, attributes) ?? ok({ thermostatTemperatureSetpoint: t });
      },
      ThermostatTemperatureSetRange: ({ params, attributes }) => {
        const hi = params.thermostatTemperatureSetpointHigh;
        const lo = params.thermostatTemperatureSetpointLow;
        if (!isNum(hi) || !isNum(lo)) return malformed('thermostatTemperatureSetpointHigh/Low');
        const bad = outOfThermostatRange(lo, attributes) ?? outOfThermostatRange(hi, attributes);
        if (bad) return bad;
        const buffer = numOr(attributes.bufferRangeCelsius, 2);
        if (hi - lo < buffer) return fail('rangeTooClose', `high and low must be at least ${buffer} C apart`);
        return ok({ thermostatTemperatureSetpointHigh: hi, thermostatTemperatureSetpointLow: lo });
      },
      ThermostatSetMode: ({ params, attributes }) => {
        const mode = params.thermostatMode;
        if (typeof mode !== 'string') return malformed('thermostatMode');
        const available = Array.isArray(attributes.availableThermostatModes)
          ? attributes.availableThermostatModes
          : typeof attributes.availableThermostatModes === 'string'
            ? attributes.availableThermostatModes.split(',')
            : [];
        if (!available.includes(mode)) return fail('notSupported', `mode ${mode} not available`);
        return ok({ thermostatMode: mode });
      },
      TemperatureRelative: ({ params, attributes, state }) => {
        let delta: number;
        if (params.thermostatTemperatureRelativeDegree !== undefined) {
          if (!isNum(params.thermostatTemperatureRelativeDegree)) return malformed('thermostatTemperatureRelativeDegree');
          delta = params.thermostatTemperatureRelativeDegree;
        } else if (params.thermostatTemperatureRelativeWeight !== undefined) {
          if (!isNum(params.thermostatTemperatureRelativeWeight)) return malformed('thermostatTemperatureRelativeWeight');
          // One weight step is half a degree.
          delta = params.thermostatTemperatureRelativeWeight * 0.5;
        } else return malformed('thermostatTemperatureRelativeDegree');
        if (state.thermostatMode === 'heatcool' && isNum(state.thermostatTemperatureSetpointHigh) && isNum(state.thermostatTemperatureSetpointLow)) {
          const hi = round1(state.thermostatTemperatureSetpointHigh + delta);
          const lo = round1(state.thermostatTemperatureSetpointLow + delta);
          const bad = outOfThermostatRange(lo, attributes) ?? outOfThermostatRange(hi, attributes);
          return bad ?? ok({ thermostatTemperatureSetpointHigh: hi, thermostatTemperatureSetpointLow: lo });
        }
        const { min } = thermostatRange(attributes);
        const t = round1(numOr(state.thermostatTemperatureSetpoint, min) + delta);
        return outOfThermostatRange(t, attributes) ?? ok({ thermostatTemperatureSetpoint: t });
      },
    },
  },

  OpenClose: {
    states: ['openPercent', 'openState'],
    queryOnlyAttribute: 'queryOnlyOpenClose',
    project: (state, attributes) =>
      openDirections(attributes).length > 1
        ? Array.isArray(state.openState)
          ? { openState: state.openState }
          : {}
        : pick(state, ['openPercent']),
    commands: {
      OpenClose: (ctx) => {
        const p = ctx.params.openPercent;
        if (!isNum(p)) return malformed('openPercent');
        return setOpenPercent(ctx, () => p, ctx.params.openDirection);
      },
      OpenCloseRelative: (ctx) => {
        const r = ctx.params.openRelativePercent;
        if (!isNum(r)) return malformed('openRelativePercent');
        if (r < -100 || r > 100) return fail('valueOutOfRange', `openRelativePercent ${r} outside -100..100`);
        if (ctx.attributes.discreteOnlyOpenClose === true) return fail('notSupported', 'this device only opens fully or closes fully');
        return setOpenPercent(ctx, (cur) => clamp(cur + r, 0, 100), ctx.params.openDirection);
      },
    },
  },

  LockUnlock: {
    states: ['isLocked', 'isJammed'],
    project: (state) => ({ isLocked: state.isLocked === true, isJammed: state.isJammed === true }),
    commands: {
      LockUnlock: ({ params, state }) => {
        if (typeof params.lock !== 'boolean') return malformed('lock');
        if (state.isJammed === true) return fail('deviceJammingDetected', 'the lock reports a jam');
        return ok({ isLocked: params.lock, isJammed: false });
      },
    },
  },

  StartStop: {
    states: ['isRunning', 'isPaused', 'activeZones'],
    // Home Graph overwrites per trait, so both flags always travel together.
    project: (state) => ({
      isRunning: state.isRunning === true,
      isPaused: state.isPaused === true,
      ...(Array.isArray(state.activeZones) ? { activeZones: state.activeZones } : {}),
    }),
    commands: {
      StartStop: ({ params, attributes }) => {
        if (typeof params.start !== 'boolean') return malformed('start');
        const zones = Array.isArray(attributes.availableZones) ? attributes.availableZones : [];
        const wanted: unknown[] = params.multipleZones !== undefined ? (Array.isArray(params.multipleZones) ? params.multipleZones : [null]) : params.zone !== undefined ? [params.zone] : [];
        for (const z of wanted) {
          if (typeof z !== 'string') return malformed('zone');
          if (!zones.includes(z)) return fail('valueOutOfRange', `zone ${z} not available`);
        }
        return ok({ isRunning: params.start, isPaused: false, ...(wanted.length ? { activeZones: params.start ? wanted : [] } : params.start ? {} : { activeZones: [] }) });
      },
      PauseUnpause: ({ params, attributes, state }) => {
        if (typeof params.pause !== 'boolean') return malformed('pause');
        if (attributes.pausable !== true) return fail('notSupported', 'this device cannot pause');
        if (params.pause && state.isRunning !== true) return fail('alreadyStopped', 'the device is not running');
        return ok({ isPaused: params.pause, isRunning: true });
      },
    },
  },

  FanSpeed: {
    states: ['currentFanSpeedSetting', 'currentFanSpeedPercent'],
    commands: {
      SetFanSpeed: ({ params, attributes }) => {
        if (params.fanSpeed !== undefined) {
          if (typeof params.fanSpeed !== 'string') return malformed('fanSpeed');
          if (!fanSpeedNames(attributes).includes(params.fanSpeed)) return fail('valueOutOfRange', `fan speed ${params.fanSpeed} not available`);
          return ok({ currentFanSpeedSetting: params.fanSpeed });
        }
        if (params.fanSpeedPercent !== undefined) {
          const p = params.fanSpeedPercent;
          if (!isNum(p)) return malformed('fanSpeedPercent');
          if (attributes.supportsFanSpeedPercent !== true) return fail('notSupported', 'this device has no percentage speeds');
          if (p < 0 || p > 100) return fail('valueOutOfRange', `fanSpeedPercent ${p} outside 0..100`);
          return ok({ currentFanSpeedPercent: p });
        }
        return malformed('fanSpeed');
      },
      SetFanSpeedRelative: ({ params, attributes, state }) => {
        if (params.fanSpeedRelativePercent !== undefined) {
          const r = params.fanSpeedRelativePercent;
          if (!isNum(r)) return malformed('fanSpeedRelativePercent');
          if (attributes.supportsFanSpeedPercent !== true) return fail('notSupported', 'this device has no percentage speeds');
          if (r < -100 || r > 100) return fail('valueOutOfRange', `fanSpeedRelativePercent ${r} outside -100..100`);
          return ok({ currentFanSpeedPercent: clamp(numOr(state.currentFanSpeedPercent, 0) + r, 0, 100) });
        }
        if (params.fanSpeedRelativeWeight !== undefined) {
          const w = params.fanSpeedRelativeWeight;
          if (!isInt(w)) return malformed('fanSpeedRelativeWeight');
          const names = fanSpeedNames(attributes);
          const afs = isObj(attributes.availableFanSpeeds) ? attributes.availableFanSpeeds : {};
          if (afs.ordered !== true || names.length === 0) return fail('notSupported', 'fan speeds are not ordered');
          const at = Math.max(0, names.indexOf(String(state.currentFanSpeedSetting)));
          const next = at + w;
          if (next >= names.length) return fail('maxSpeedReached', 'already at the highest speed');
          if (next < 0) return fail('minSpeedReached', 'already at the lowest speed');
          return ok({ currentFanSpeedSetting: names[next]! });
        }
        return malformed('fanSpeedRelativeWeight');
      },
      Reverse: ({ attributes }) => (attributes.reversible === true ? ok({}) : fail('notSupported', 'this fan cannot reverse')),
    },
  },

  Modes: {
    states: ['currentModeSettings'],
    queryOnlyAttribute: 'queryOnlyModes',
    commands: {
      SetModes: ({ params, attributes, state }) => {
        const update = params.updateModeSettings;
        if (!isObj(update) || Object.keys(update).length === 0) return malformed('updateModeSettings');
        const modes = Array.isArray(attributes.availableModes) ? attributes.availableModes.filter(isObj) : [];
        for (const [mode, setting] of Object.entries(update)) {
          const def = modes.find((m) => m.name === mode);
          if (!def) return fail('notSupported', `mode ${mode} not available`);
          const settings = Array.isArray(def.settings) ? def.settings.filter(isObj).map((s) => s.setting_name) : [];
          if (typeof setting !== 'string' || !settings.includes(setting)) return fail('valueOutOfRange', `setting ${String(setting)} not available for ${mode}`);
        }
        return ok({ currentModeSettings: { ...(isObj(state.currentModeSettings) ? state.currentModeSettings : {}), ...update } });
      },
    },
  },

  Toggles: {
    states: ['currentToggleSettings'],
    queryOnlyAttribute: 'queryOnlyToggles',
    commands: {
      SetToggles: ({ params, attributes, state }) => {
        const update = params.updateToggleSettings;
        if (!isObj(update) || Object.keys(update).length === 0) return malformed('updateToggleSettings');
        const toggles = Array.isArray(attributes.availableToggles) ? attributes.availableToggles.filter(isObj).map((t) => t.name) : [];
        for (const [name, value] of Object.entries(update)) {
          if (!toggles.includes(name)) return fail('notSupported', `toggle ${name} not available`);
          if (typeof value !== 'boolean') return malformed(`updateToggleSettings.${name}`);
        }
        return ok({ currentToggleSettings: { ...(isObj(state.currentToggleSettings) ? state.currentToggleSettings : {}), ...update } });
      },
    },
  },

  Volume: {
    states: ['currentVolume', 'isMuted'],
    commands: {
      setVolume: ({ params, attributes }) => {
        const v = params.volumeLevel;
        if (!isNum(v)) return malformed('volumeLevel');
        const max = numOr(attributes.volumeMaxLevel, 100);
        if (!isInt(v) || v < 0 || v > max) return fail('valueOutOfRange', `volumeLevel ${v} outside 0..${max}`);
        return ok({ currentVolume: v, ...(attributes.volumeCanMuteAndUnmute === true ? { isMuted: false } : {}) });
      },
      volumeRelative: ({ params, attributes, state }) => {
        const steps = params.relativeSteps;
        if (!isInt(steps)) return malformed('relativeSteps');
        const max = numOr(attributes.volumeMaxLevel, 100);
        const step = numOr(attributes.levelStepSize, 1);
        const current = numOr(state.currentVolume, 0);
        if (steps > 0 && current >= max) return fail('alreadyAtMax', 'already at the highest volume');
        if (steps < 0 && current <= 0) return fail('alreadyAtMin', 'already at the lowest volume');
        return ok({ currentVolume: clamp(current + steps * step, 0, max) });
      },
      mute: ({ params, attributes }) => {
        if (typeof params.mute !== 'boolean') return malformed('mute');
        if (attributes.volumeCanMuteAndUnmute !== true) return fail('notSupported', 'this device cannot mute');
        return ok({ isMuted: params.mute });
      },
    },
  },

  Scene: {
    states: [],
    commands: {
      ActivateScene: ({ params, attributes }) => {
        if (params.deactivate !== undefined && typeof params.deactivate !== 'boolean') return malformed('deactivate');
        if (params.deactivate === true && attributes.sceneReversible !== true) return fail('notSupported', 'this scene cannot be deactivated');
        return ok({});
      },
    },
  },
};

/** Full trait names this fulfillment implements (`action.devices.traits.OnOff`, …). */
export const SUPPORTED_TRAITS: readonly string[] = Object.keys(TRAITS).map((t) => TRAIT_PREFIX + t);

/** Short command name → short trait name. */
const COMMAND_TRAIT = new Map<string, string>(Object.entries(TRAITS).flatMap(([trait, def]) => Object.keys(def.commands).map((c) => [c, trait] as [string, string])));

function shortName(full: string, prefix: string): string {
  return full.startsWith(prefix) ? full.slice(prefix.length) : full;
}

/** The short trait name a full command name belongs to, or undefined for a command we do not know. */
export function traitOfCommand(command: string): string | undefined {
  return command.startsWith(COMMAND_PREFIX) ? COMMAND_TRAIT.get(command.slice(COMMAND_PREFIX.length)) : undefined;
}

/** The full state of one trait (short name) in Google's spelling; empty for unknown traits. */
export function traitState(trait: string, state: JsonObject, attributes: JsonObject): JsonObject {
  const def = TRAITS[trait];
  if (!def) return {};
  return def.project ? def.project(state, attributes) : pick(state, def.states);
}

/**
 * The state Google should see for a device: the full state of every trait it declares, in Google's
 * spelling (QUERY and Report State). `online` is not included.
 */
export function projectState(device: Pick<TraitDevice, 'traits' | 'attributes' | 'state'>): JsonObject {
  const out: JsonObject = {};
  let unmodelled = false;
  for (const t of device.traits) {
    const short = shortName(t, TRAIT_PREFIX);
    if (TRAITS[short]) Object.assign(out, traitState(short, device.state, device.attributes));
    else unmodelled = true;
  }
  // Traits we do not model (SensorState, Dock…) pass their reported states through unchanged.
  if (unmodelled) {
    for (const [k, v] of Object.entries(device.state)) if (!KNOWN_STATE_KEYS.has(k) && k !== 'online' && out[k] === undefined) out[k] = v;
  }
  return out;
}

const KNOWN_STATE_KEYS = new Set(Object.values(TRAITS).flatMap((d) => d.states));

/**
 * Apply one EXECUTE command to a device: check the command belongs to a trait the device has, that it
 * accepts commands, and its params against the device's attributes; return the new stored state.
 * Unknown command or malformed params → `notSupported`; trait missing or query-only →
 * `functionNotSupported`; a param outside the advertised range → `valueOutOfRange` (or a trait's own code).
 */
export function executeCommand(device: TraitDevice, command: string, params: unknown): ExecuteOutcome {
  const trait = traitOfCommand(command);
  if (!trait) return { ok: false, errorCode: 'notSupported', debugString: `unknown command ${command}` };
  const def = TRAITS[trait]!;
  if (!device.traits.includes(TRAIT_PREFIX + trait)) {
    return { ok: false, errorCode: 'functionNotSupported', debugString: `device has no ${trait} trait` };
  }
  if (def.queryOnlyAttribute && device.attributes[def.queryOnlyAttribute] === true) {
    return { ok: false, errorCode: 'functionNotSupported', debugString: `${trait} is query-only on this device` };
  }
  const p = params === undefined ? {} : params;
  if (!isObj(p)) return { ok: false, errorCode: 'notSupported', debugString: 'params must be an object' };
  const r = def.commands[shortName(command, COMMAND_PREFIX)]!({ type: device.type, attributes: device.attributes, state: device.state, params: p });
  if (!r.ok) return r;
  return { ok: true, trait, state: { ...device.state, ...r.patch } };
}
