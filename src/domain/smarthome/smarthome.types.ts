/**
 * Google Smart Home (cloud-to-cloud) wire types, written from Google's intent reference rather than copied
 * from actions-on-google (whose execute status lacks EXCEPTIONS), plus the device view the intents work on.
 */

export type JsonObject = Record<string, unknown>;

/** A device as the fulfillment sees it; the devices feature owns the storage. */
export interface SmartDevice {
  /** Stable id Google sees (never changes for a device). */
  id: string;
  userId: string;
  /** Full type name, `action.devices.types.LIGHT`. */
  type: string;
  /** Full trait names, `action.devices.traits.OnOff`. */
  traits: readonly string[];
  name: string;
  nicknames: readonly string[];
  defaultNames: readonly string[];
  roomHint: string | null;
  attributes: JsonObject;
  state: JsonObject;
  online: boolean;
  willReportState: boolean;
  deviceInfo: { manufacturer?: string; model?: string; hwVersion?: string; swVersion?: string } | null;
  customData: JsonObject | null;
}

export type ExecuteStatus = 'SUCCESS' | 'PENDING' | 'OFFLINE' | 'EXCEPTIONS' | 'ERROR';
export type ChallengeType = 'ackNeeded' | 'pinNeeded' | 'challengeFailedPinNeeded';

export interface SyncDevice {
  id: string;
  type: string;
  traits: string[];
  name: { name: string; defaultNames?: string[]; nicknames?: string[] };
  willReportState: boolean;
  roomHint?: string;
  attributes?: JsonObject;
  deviceInfo?: { manufacturer?: string; model?: string; hwVersion?: string; swVersion?: string };
  customData?: JsonObject;
}

export interface ExecuteResult {
  ids: string[];
  status: ExecuteStatus;
  states?: JsonObject;
  errorCode?: string;
  debugString?: string;
  challengeNeeded?: { type: ChallengeType };
}
