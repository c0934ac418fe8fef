/**
 * The Google Smart Home intents: SYNC, QUERY, EXECUTE and DISCONNECT, transport-independent. Every answer is
 * a Google-format JSON body: problems with the request, a device or our backend go inside it as
 * `errorCode` (the HTTP layer only answers 401 for a bad token), and `requestId` is always echoed.
 */
import type { Logger } from '../../logger.ts';
import { DEFAULT_SECURITY, requiredChallenge, verifyChallenge, type ChallengeLimits, type DeviceSecurity, type SecurityStore } from './challenge.ts';
import { envelopeSchema, executePayloadSchema, INTENTS, queryPayloadSchema, type ExecutePayload } from './smarthome.schemas.ts';
import type { ExecuteResult, JsonObject, SmartDevice, SyncDevice } from './smarthome.types.ts';
import { executeCommand, projectState, traitState } from './traits.ts';

/** One executed command, as the device will receive it. */
export interface ExecutedCommand {
  /** Full command name (`action.devices.commands.OnOff`). */
  command: string;
  params: JsonObject;
}

/** What the intents need from the device registry. */
export interface SmartHomeDevicePort {
  /** Every device of the user, in a stable order. */
  listForUser(userId: string): Promise<SmartDevice[]>;
  /** The user's devices among `ids` (others' and unknown ids are simply absent). */
  findForUser(userId: string, ids: readonly string[]): Promise<SmartDevice[]>;
  /**
   * For each change, create one command message per executed command (topic `<device_id>/<command>`, the
   * seed's text, the params as payload), in order, and store the device's expected new state. Changed state
   * reaches Home Graph through the devices feature's `device.state.reported` event.
   */
  applyCommands(userId: string, changes: readonly DeviceChange[]): Promise<void>;
}

/** What EXECUTE does to one device. */
export interface DeviceChange {
  deviceId: string;
  /** The device's whole expected state afterwards. */
  state: JsonObject;
  commands: readonly ExecutedCommand[];
}

/** Which Google links exist, so Report State stops for a user who disconnected every link. */
export interface LinkStore {
  /** A SYNC arrived through this grant (a live link). */
  linked(userId: string, grantId: string | undefined): Promise<void>;
  /** DISCONNECT arrived through this grant. */
  unlinked(userId: string, grantId: string | undefined): Promise<void>;
}

/** Whether Report State is configured. */
export interface StateReporter {
  /** True when Home Graph credentials are configured: SYNC then says `willReportState`. */
  readonly enabled: boolean;
}

export interface SmartHomeServiceDeps {
  devices: SmartHomeDevicePort;
  security: SecurityStore;
  links: LinkStore;
  reporter: StateReporter;
  /** Revoke one OAuth grant of the user (its access and refresh tokens). */
  revokeGrant(grantId: string, userId: string): Promise<void>;
  challengeLimits: ChallengeLimits;
  logger: Logger;
  now?: () => Date;
}

/** Who called: the user the bearer token stands for, and the grant it belongs to. */
export interface FulfillmentCaller {
  userId: string;
  grantId?: string;
}

export interface SmartHomeService {
  /** Answer one fulfillment request body (any JSON value). Never throws. */
  fulfill(caller: FulfillmentCaller, body: unknown): Promise<JsonObject>;
}

interface DeviceWork {
  id: string;
  executions: Array<{ command: string; params: JsonObject; challenge?: { ack?: boolean; pin?: string } }>;
}

/** Google user-visible error codes we answer for a whole request. */
const GLOBAL = { malformed: 'hardError', unknownIntent: 'notSupported', backend: 'transientError' } as const;

/** Build the fulfillment service. */
export function createSmartHomeService(deps: SmartHomeServiceDeps): SmartHomeService {
  const log = deps.logger.child({ subsystem: 'smarthome' });
  const now = deps.now ?? (() => new Date());

  function globalError(requestId: string | undefined, intent: string | undefined, errorCode: string, debugString?: string): JsonObject {
    const payload: JsonObject = { errorCode, status: 'ERROR', ...(debugString ? { debugString } : {}) };
    if (intent === INTENTS.QUERY) payload.devices = {};
    if (intent === INTENTS.EXECUTE) payload.commands = [];
    return { ...(requestId !== undefined ? { requestId } : {}), payload };
  }

  function willReportState(d: SmartDevice): boolean {
    // Scenes have no state to report; without Home Graph credentials Google must poll with QUERY.
    return deps.reporter.enabled && d.willReportState && !d.type.endsWith('.SCENE');
  }

  async function sync(caller: FulfillmentCaller, requestId: string): Promise<JsonObject> {
    const devices = await deps.devices.listForUser(caller.userId);
    await deps.links.linked(caller.userId, caller.grantId);
    const out: SyncDevice[] = devices.map((d) => ({
      id: d.id,
      type: d.type,
      traits: [...d.traits],
      name: { defaultNames: [...d.defaultNames], name: d.name, nicknames: [...d.nicknames] },
      willReportState: willReportState(d),
      ...(d.roomHint ? { roomHint: d.roomHint } : {}),
      ...(Object.keys(d.attributes).length ? { attributes: d.attributes } : {}),
      ...(d.deviceInfo && Object.keys(d.deviceInfo).length ? { deviceInfo: d.deviceInfo } : {}),
      ...(d.customData && Object.keys(d.customData).length ? { customData: d.customData } : {}),
    }));
    return { requestId, payload: { agentUserId: caller.userId, devices: out } };
  }

  async function query(caller: FulfillmentCaller, requestId: string, raw: unknown): Promise<JsonObject> {
    const parsed = queryPayloadSchema.safeParse(raw);
    if (!parsed.success) return globalError(requestId, INTENTS.QUERY, GLOBAL.malformed, 'malformed QUERY payload');
    const ids = [...new Set(parsed.data.devices.map((d) => d.id))];
    const found = new Map((await deps.devices.findForUser(caller.userId, ids)).map((d) => [d.id, d]));
    const devices: JsonObject = {};
    for (const id of ids) {
      const d = found.get(id);
      if (!d) devices[id] = { online: false, status: 'ERROR', errorCode: 'deviceNotFound' };
      else if (!d.online) devices[id] = { online: false, status: 'ERROR', errorCode: 'deviceOffline' };
      else devices[id] = { online: true, status: 'SUCCESS', ...projectState(d) };
    }
    return { requestId, payload: { devices } };
  }

  /** Group device requests from every command group, in order of first appearance. */
  function collectWork(payload: ExecutePayload): DeviceWork[] {
    const work = new Map<string, DeviceWork>();
    for (const group of payload.commands) {
      const ids = [...new Set(group.devices.map((d) => d.id))];
      for (const id of ids) {
        let w = work.get(id);
        if (!w) work.set(id, (w = { id, executions: [] }));
        for (const e of group.execution) {
          w.executions.push({ command: e.command, params: e.params ?? {}, ...(e.challenge ? { challenge: e.challenge } : {}) });
        }
      }
    }
    return [...work.values()];
  }

  /** Check one device's executions and its challenge; on success return the change to apply. */
  async function executeOne(caller: FulfillmentCaller, w: DeviceWork, d: SmartDevice | undefined, security: Map<string, DeviceSecurity>): Promise<{ result: Omit<ExecuteResult, 'ids'>; change?: DeviceChange }> {
    if (!d) return { result: { status: 'ERROR', errorCode: 'deviceNotFound' } };
    if (!d.online) return { result: { status: 'ERROR', errorCode: 'deviceOffline' } };
    // Run every execution on a working copy first: a device applies all of them or none.
    let state = d.state;
    const touched = new Set<string>();
    const executed: ExecutedCommand[] = [];
    for (const e of w.executions) {
      const r = executeCommand({ type: d.type, traits: d.traits, attributes: d.attributes, state }, e.command, e.params);
      if (!r.ok) return { result: { status: 'ERROR', errorCode: r.errorCode, ...(r.debugString ? { debugString: r.debugString } : {}) } };
      state = r.state;
      touched.add(r.trait);
      executed.push({ command: e.command, params: e.params });
    }
    const touchedState = (s: JsonObject): JsonObject => {
      const out: JsonObject = { online: true };
      for (const t of touched) Object.assign(out, traitState(t, s, d.attributes));
      return out;
    };
    const sec = security.get(d.id) ?? DEFAULT_SECURITY;
    const needed = requiredChallenge(d.type, w.executions, sec);
    if (needed) {
      const answer = w.executions.find((e) => e.challenge)?.challenge;
      const verdict = await verifyChallenge(deps.security, caller.userId, d.id, needed, sec, answer, deps.challengeLimits, now());
      if (!verdict.pass) {
        if ('lockedOut' in verdict) {
          return { result: { status: 'ERROR', errorCode: 'securityRestriction', debugString: 'too many wrong PINs; try again later' } };
        }
        return {
          result: {
            status: 'ERROR',
            // Acknowledgement challenges carry the current state so Assistant can read it back.
            ...(verdict.type === 'ackNeeded' ? { states: touchedState(d.state) } : {}),
            errorCode: 'challengeNeeded',
            challengeNeeded: { type: verdict.type },
          },
        };
      }
    }
    return { result: { status: 'SUCCESS', states: touchedState(state) }, change: { deviceId: d.id, state, commands: executed } };
  }

  async function execute(caller: FulfillmentCaller, requestId: string, raw: unknown): Promise<JsonObject> {
    const parsed = executePayloadSchema.safeParse(raw);
    if (!parsed.success) return globalError(requestId, INTENTS.EXECUTE, GLOBAL.malformed, 'malformed EXECUTE payload');
    const work = collectWork(parsed.data);
    const ids = work.map((w) => w.id);
    const [found, security] = await Promise.all([deps.devices.findForUser(caller.userId, ids), deps.security.get(caller.userId, ids)]);
    const byId = new Map(found.map((d) => [d.id, d]));
    const outcomes = await Promise.all(work.map((w) => executeOne(caller, w, byId.get(w.id), security)));
    // Every accepted change is stored in one go (one statement for all command messages).
    const changes = outcomes.flatMap((o) => (o.change ? [o.change] : []));
    if (changes.length) {
      try {
        await deps.devices.applyCommands(caller.userId, changes);
      } catch (err) {
        log.error({ err, devices: changes.length }, 'storing executed commands failed');
        for (const o of outcomes) if (o.change) o.result = { status: 'ERROR', errorCode: 'transientError' };
      }
    }

    // Devices with an identical outcome share one entry, in order of first appearance.
    const groups = new Map<string, ExecuteResult>();
    outcomes.forEach(({ result }, i) => {
      const key = JSON.stringify(result);
      const g = groups.get(key);
      if (g) g.ids.push(work[i]!.id);
      else groups.set(key, { ids: [work[i]!.id], ...result });
    });
    return { requestId, payload: { commands: [...groups.values()] } };
  }

  async function disconnect(caller: FulfillmentCaller): Promise<JsonObject> {
    if (caller.grantId) await deps.revokeGrant(caller.grantId, caller.userId);
    await deps.links.unlinked(caller.userId, caller.grantId);
    return {};
  }

  return {
    async fulfill(caller, body) {
      const env = envelopeSchema.safeParse(body);
      const requestId = typeof (body as { requestId?: unknown } | null)?.requestId === 'string' ? ((body as { requestId: string }).requestId) : undefined;
      if (!env.success) return globalError(requestId, undefined, GLOBAL.malformed, 'malformed request: requestId and inputs[] are required');
      if (env.data.inputs.length > 1) log.warn({ inputs: env.data.inputs.length }, 'fulfillment request with several inputs; only the first is handled');
      const { intent, payload } = env.data.inputs[0]!;
      try {
        switch (intent) {
          case INTENTS.SYNC:
            return await sync(caller, env.data.requestId);
          case INTENTS.QUERY:
            return await query(caller, env.data.requestId, payload);
          case INTENTS.EXECUTE:
            return await execute(caller, env.data.requestId, payload);
          case INTENTS.DISCONNECT:
            return await disconnect(caller);
          default:
            return globalError(env.data.requestId, undefined, GLOBAL.unknownIntent, `unknown intent ${intent.slice(0, 64)}`);
        }
      } catch (err) {
        log.error({ err, intent }, 'fulfillment failed');
        // DISCONNECT answers {} whatever happened: Google forgets the link either way.
        if (intent === INTENTS.DISCONNECT) return {};
        return globalError(env.data.requestId, intent, GLOBAL.backend);
      }
    },
  };
}
