/**
 * `npm run device-simulator`: a pretend home device (or hub) for trying the device protocol end to end.
 * It long-polls `POST /api/poll-messages/` for its commands, applies each to its state the way a real
 * light/plug/thermostat would, reports the resulting state with `PATCH /api/devices/{id}/state/`, and
 * acknowledges the commands on its next poll.
 *
 *   npm run device-simulator -- --token <access token> [--device light-1] [--register]
 *   npm run device-simulator -- --client-id=<id> --client-secret=<secret> --device light-1 --register
 *
 * Options: --url (default http://127.0.0.1:3000), --token (or MB_DEVICE_TOKEN), --client-id/--client-secret
 * (or MB_DEVICE_CLIENT_ID/MB_DEVICE_CLIENT_SECRET: a client-credentials token with scope `devices` is
 * fetched from /o/token/ and renewed when it expires), --device (only this device's commands; default:
 * every device of the owner, like a hub), --register (create the device as a dimmable light if it does not
 * exist), --wait (long-poll seconds, default 30), --once (one poll, then exit).
 */
import { parseArgs } from 'node:util';
import { readEnv } from '../src/config.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000' },
    token: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    device: { type: 'string' },
    register: { type: 'boolean', default: false },
    wait: { type: 'string', default: '30' },
    once: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log('Usage: npm run device-simulator -- (--token=T | --client-id=ID --client-secret=S) [--device ID] [--register] [--url URL] [--wait SECONDS] [--once]');
  process.exit(0);
}

const env = readEnv();
const base = values.url.replace(/\/+$/, '');
const clientId = values['client-id'] ?? env.MB_DEVICE_CLIENT_ID;
const clientSecret = values['client-secret'] ?? env.MB_DEVICE_CLIENT_SECRET;
let token = values.token ?? env.MB_DEVICE_TOKEN;
const wait = Number(values.wait);
if (!token && !(clientId && clientSecret)) {
  console.error('Give --token, or --client-id and --client-secret (see --help).');
  process.exit(2);
}

type Json = Record<string, unknown>;
interface Message {
  id: string;
  deviceId: string;
  topic: string;
  text: string;
  payload?: Json;
}

const log = (msg: string, extra: Json = {}) => console.log(JSON.stringify({ time: new Date().toISOString(), msg, ...extra }));

/** A client-credentials token from the authorization server. */
async function fetchToken(): Promise<string> {
  const res = await fetch(`${base}/o/token/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId!)}:${encodeURIComponent(clientSecret!)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'devices' }),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; error?: string };
  if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${body.error ?? ''}`);
  log('got an access token', { expires: (body as { expires_in?: number }).expires_in });
  return body.access_token;
}

/** Call the API; renews a client-credentials token once on 401. */
async function api(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; body: any }> {
  for (let attempt = 0; ; attempt++) {
    if (!token) token = await fetchToken();
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : null;
    if (res.status === 401 && clientId && clientSecret && attempt === 0) {
      token = undefined;
      continue;
    }
    return { status: res.status, body: parsed };
  }
}

/** Apply one command's parameters to a device state, as a simple light/plug/thermostat/lock/blind would. */
function apply(state: Json, command: string, p: Json): Json {
  const next = { ...state };
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  switch (command.replace('action.devices.commands.', '')) {
    case 'OnOff':
      next.on = Boolean(p.on);
      break;
    case 'BrightnessAbsolute':
      next.brightness = clamp(Number(p.brightness), 0, 100);
      if ((next.brightness as number) > 0) next.on = true;
      break;
    case 'BrightnessRelative':
      next.brightness = clamp(Number(state.brightness ?? 0) + Number(p.brightnessRelativePercent ?? (Number(p.brightnessRelativeWeight ?? 0) * 10)), 0, 100);
      break;
    case 'ColorAbsolute': {
      // Command params say spectrumRGB/spectrumHSV/temperature; the state says spectrumRgb/spectrumHsv/temperatureK.
      const c = (p.color ?? {}) as Json;
      if (c.spectrumRGB !== undefined) next.color = { spectrumRgb: c.spectrumRGB };
      else if (c.spectrumHSV !== undefined) next.color = { spectrumHsv: c.spectrumHSV };
      else if (c.temperature !== undefined) next.color = { temperatureK: c.temperature };
      break;
    }
    case 'OpenClose':
      next.openPercent = clamp(Number(p.openPercent), 0, 100);
      break;
    case 'LockUnlock':
      next.isLocked = Boolean(p.lock);
      next.isJammed = false;
      break;
    case 'StartStop':
      next.isRunning = Boolean(p.start);
      next.isPaused = false;
      break;
    case 'PauseUnpause':
      next.isPaused = Boolean(p.pause);
      break;
    default:
      Object.assign(next, p);
  }
  return next;
}

const states = new Map<string, Json>();

async function ensureDevice(id: string): Promise<void> {
  const got = await api('GET', `/api/devices/${encodeURIComponent(id)}/`);
  if (got.status === 200) {
    states.set(id, got.body.state);
    return;
  }
  if (got.status !== 404 || !values.register) throw new Error(`device ${id}: ${got.status} ${JSON.stringify(got.body)}`);
  const created = await api('POST', '/api/devices/', {
    id,
    type: 'action.devices.types.LIGHT',
    traits: ['action.devices.traits.OnOff', 'action.devices.traits.Brightness'],
    name: `Simulated light ${id}`,
    state: { on: false, brightness: 100 },
  });
  if (created.status !== 201) throw new Error(`could not register ${id}: ${created.status} ${JSON.stringify(created.body)}`);
  states.set(id, created.body.state);
  log('registered the device', { deviceId: id });
}

const stop = new AbortController();
process.on('SIGINT', () => stop.abort());
process.on('SIGTERM', () => stop.abort());

if (values.device) {
  await ensureDevice(values.device);
  await api('PATCH', `/api/devices/${encodeURIComponent(values.device)}/state/`, { state: states.get(values.device) ?? {} });
  log('online', { deviceId: values.device, state: states.get(values.device) });
}

let acks: string[] = [];
let failures = 0;
while (!stop.signal.aborted) {
  let res;
  try {
    res = await api(
      'POST',
      '/api/poll-messages/',
      { messagesRead: acks, wait, withPayload: true, ...(values.device ? { deviceId: values.device } : {}) },
      stop.signal,
    );
  } catch (err) {
    if (stop.signal.aborted) break;
    failures++;
    const delay = Math.min(30, 2 ** failures);
    log('poll failed; retrying', { error: (err as Error).message, inSeconds: delay });
    await new Promise((r) => setTimeout(r, delay * 1000));
    continue;
  }
  if (res.status !== 200) {
    if (res.status === 401 || res.status === 403) {
      log('not allowed to poll', { status: res.status, body: res.body });
      process.exit(1);
    }
    failures++;
    const delay = res.status === 429 ? Number(res.body?.details?.retry_after ?? 5) : Math.min(30, 2 ** failures);
    log('poll refused; retrying', { status: res.status, inSeconds: delay });
    await new Promise((r) => setTimeout(r, delay * 1000));
    continue;
  }
  failures = 0;
  acks = [];
  const changed = new Set<string>();
  for (const m of res.body.messages as Message[]) {
    if (!states.has(m.deviceId)) {
      const d = await api('GET', `/api/devices/${encodeURIComponent(m.deviceId)}/`);
      states.set(m.deviceId, d.status === 200 ? d.body.state : {});
    }
    const command = m.topic.slice(m.deviceId.length + 1);
    states.set(m.deviceId, apply(states.get(m.deviceId)!, command, m.payload ?? {}));
    log('command', { deviceId: m.deviceId, command, text: m.text, params: m.payload });
    changed.add(m.deviceId);
    acks.push(m.id);
  }
  for (const id of changed) {
    const r = await api('PATCH', `/api/devices/${encodeURIComponent(id)}/state/`, { state: states.get(id) });
    log('reported state', { deviceId: id, status: r.status, state: states.get(id) });
  }
  if (values.once) {
    if (acks.length) await api('POST', '/api/poll-messages/', { messagesRead: acks, limit: 1 });
    break;
  }
}

if (values.device) await api('PATCH', `/api/devices/${encodeURIComponent(values.device)}/state/`, { state: {}, online: false }).catch(() => undefined);
log('stopped');
