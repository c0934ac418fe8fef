/** Devices and their command messages as the domain sees them (camelCase). */

export type JsonObject = Record<string, unknown>;

/** A device registered by its owner. */
export interface Device {
  ownerId: string;
  /** Stable, immutable, unique per owner: the id Google sees and the `deviceId` of its messages. */
  id: string;
  /** Google device type id (`action.devices.types.LIGHT`). */
  type: string;
  /** Google trait ids (`action.devices.traits.OnOff`). */
  traits: string[];
  name: string;
  nicknames: string[];
  room: string | null;
  /** Trait attributes for SYNC. */
  attributes: JsonObject;
  /** Last state the device reported (or was given at creation). */
  state: JsonObject;
  /** The device reported itself online and was seen (polled, reported) within the offline timeout. */
  online: boolean;
  lastSeenAt: Date | null;
  willReportState: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A command message for a device. */
export interface DeviceMessage {
  id: string;
  ownerId: string;
  deviceId: string;
  /** `<deviceId>/<command>`, e.g. `light-1/action.devices.commands.OnOff`. */
  topic: string;
  /** `on`/`off` for OnOff, the brightness for BrightnessAbsolute, else empty (the seed's rule). */
  text: string;
  /** The full command parameters. */
  payload: JsonObject;
  createdAt: Date;
  /** created_at as the seed printed it: ISO 8601 with microseconds and `+00:00`. */
  timestamp: string;
  readAt: Date | null;
  expiresAt: Date;
}

/**
 * The wire shape of a command message, identical to the seed's `POST /api/poll-messages/` items. Shared by
 * every transport (polling, sockets).
 */
export interface WireDeviceMessage {
  id: string;
  deviceId: string;
  topic: string;
  text: string;
  isRead: boolean;
  timestamp: string;
}

/** The wire shape plus the full parameters and expiry, for clients that ask for them. */
export interface WireDeviceMessageWithPayload extends WireDeviceMessage {
  payload: JsonObject;
  expiresAt: string;
}

/** Present a message in the seed's wire format. */
export function toWireMessage(m: DeviceMessage): WireDeviceMessage {
  return { id: m.id, deviceId: m.deviceId, topic: m.topic, text: m.text, isRead: m.readAt !== null, timestamp: m.timestamp };
}

/** The wire format plus `payload` and `expiresAt`. */
export function toWireMessageWithPayload(m: DeviceMessage): WireDeviceMessageWithPayload {
  return { ...toWireMessage(m), payload: m.payload, expiresAt: m.expiresAt.toISOString() };
}
