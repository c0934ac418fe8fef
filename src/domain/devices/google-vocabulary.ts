/**
 * Google Smart Home device types and traits a device may declare (the ids SYNC sends). Kept as data so
 * validation, documentation and the Smart Home fulfillment share one list.
 */

const TYPE_PREFIX = 'action.devices.types.';
const TRAIT_PREFIX = 'action.devices.traits.';
const COMMAND_PREFIX = 'action.devices.commands.';

const TYPES = [
  'AC_UNIT', 'AIRCOOLER', 'AIRFRESHENER', 'AIRPURIFIER', 'AUDIO_VIDEO_RECEIVER', 'AWNING', 'BATHTUB', 'BED',
  'BLENDER', 'BLINDS', 'BOILER', 'CAMERA', 'CARBON_MONOXIDE_DETECTOR', 'CHARGER', 'CLOSET', 'COFFEE_MAKER',
  'COOKTOP', 'CURTAIN', 'DEHUMIDIFIER', 'DEHYDRATOR', 'DISHWASHER', 'DOOR', 'DOORBELL', 'DRAWER', 'DRYER', 'FAN',
  'FAUCET', 'FIREPLACE', 'FREEZER', 'FRYER', 'GARAGE', 'GATE', 'GRILL', 'HEATER', 'HOOD', 'HUMIDIFIER', 'KETTLE',
  'LIGHT', 'LOCK', 'MICROWAVE', 'MOP', 'MOWER', 'MULTICOOKER', 'NETWORK', 'OUTLET', 'OVEN', 'PERGOLA', 'PETFEEDER',
  'PRESSURECOOKER', 'RADIATOR', 'REFRIGERATOR', 'REMOTECONTROL', 'ROUTER', 'SCENE', 'SECURITYSYSTEM', 'SENSOR',
  'SETTOP', 'SHOWER', 'SHUTTER', 'SMOKE_DETECTOR', 'SOUNDBAR', 'SOUSVIDE', 'SPEAKER', 'SPRINKLER', 'STANDMIXER',
  'STREAMING_BOX', 'STREAMING_SOUNDBAR', 'STREAMING_STICK', 'SWITCH', 'THERMOSTAT', 'TV', 'VACUUM', 'VALVE',
  'WASHER', 'WATERHEATER', 'WATERPURIFIER', 'WATERSOFTENER', 'WINDOW', 'YOGURTMAKER',
] as const;

const TRAITS = [
  'AppSelector', 'ArmDisarm', 'Brightness', 'CameraStream', 'Channel', 'ColorSetting', 'Cook', 'Dispense', 'Dock',
  'EnergyStorage', 'FanSpeed', 'Fill', 'HumiditySetting', 'InputSelector', 'LightEffects', 'Locator', 'LockUnlock',
  'MediaState', 'Modes', 'NetworkControl', 'ObjectDetection', 'OccupancySensing', 'OnOff', 'OpenClose', 'Reboot',
  'Rotation', 'RunCycle', 'Scene', 'SensorState', 'SoftwareUpdate', 'StartStop', 'StatusReport',
  'TemperatureControl', 'TemperatureSetting', 'Timer', 'Toggles', 'TransportControl', 'Volume',
] as const;

/** Every accepted device type id (`action.devices.types.LIGHT`, …). */
export const GOOGLE_DEVICE_TYPES: ReadonlySet<string> = new Set(TYPES.map((t) => TYPE_PREFIX + t));
/** Every accepted trait id (`action.devices.traits.OnOff`, …). */
export const GOOGLE_DEVICE_TRAITS: ReadonlySet<string> = new Set(TRAITS.map((t) => TRAIT_PREFIX + t));

/** `LIGHT` → `action.devices.types.LIGHT`; full ids are returned unchanged. */
export function fullTypeId(type: string): string {
  return type.includes('.') ? type : TYPE_PREFIX + type;
}

/** `OnOff` → `action.devices.traits.OnOff`; full ids are returned unchanged. */
export function fullTraitId(trait: string): string {
  return trait.includes('.') ? trait : TRAIT_PREFIX + trait;
}

/** Shape of an EXECUTE command id (`action.devices.commands.OnOff`). */
export const COMMAND_ID_PATTERN = /^action\.devices\.commands\.[A-Za-z]{1,64}$/;
export { COMMAND_PREFIX };
