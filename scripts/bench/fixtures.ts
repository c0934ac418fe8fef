/**
 * Fixtures the benchmark needs inside the system under test, made through the product's own domain
 * services and OAuth storage (never raw SQL), so what is measured is what the API would have created:
 * users, real opaque access tokens (as `/o/token/` would store them), conversations, messages, devices,
 * and command messages. Every handler is bounded in count.
 */
import type { User } from '../../src/domain/users/user.types.ts';
import type { Actor } from '../../src/domain/users/user.types.ts';
import type { RunningServer } from '../../src/server.ts';
import { createOAuthClient, issueAccessToken } from '../../test/support/oauth.ts';
import type { TestServer } from '../../test/support/server.ts';

const MAX_USERS = 50_000;
const MAX_PARTICIPANTS_PER_CALL = 200;

interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  unique?: boolean;
}

/** The messaging services, typed as far as the fixtures use them. */
interface Messaging {
  conversations: {
    create(actor: Actor, input: { participants: string[]; title?: string | null }): Promise<{ conversation: { id: string } }>;
    addParticipants(actor: Actor, conversationId: string, userIds: string[]): Promise<unknown>;
  };
  messages: {
    send(actor: Actor, input: { conversationId: string; body: string; clientMsgId?: string | null }): Promise<unknown>;
  };
}

const bounded = (n: unknown, max: number) => Math.min(Math.max(0, Math.floor(Number(n) || 0)), max);

/** Run `fn` for 0…count-1 with at most `concurrency` in flight (the pool's size); results in order. */
async function parallel<T>(count: number, fn: (i: number) => Promise<T>, concurrency = 8): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** RPC handlers bound to a running server. */
export function fixtureHandlers(server: RunningServer) {
  const { services } = server.app;
  const s = services as unknown as Record<string, unknown>;
  const messaging = s as unknown as Messaging;
  // The token helpers take a test server; they only use `app` and `config`.
  const srv = { app: server.app, config: server.app.config, url: server.url } as unknown as TestServer;
  let clientId: string | null = null;

  const actorOf = (user: User, scopes: string[]): Actor => ({ user, via: 'bearer', scopes: new Set(scopes), clientId: clientId ?? 'bench' });

  async function users(count: number, tag: string): Promise<User[]> {
    return parallel(bounded(count, MAX_USERS), (i) =>
      services.users.create({ email: `bench-${tag}-${i}@bench.invalid`, password: null, first_name: 'Bench', last_name: `User${i}` }),
    );
  }

  async function tokens(list: User[], scopes: string[]): Promise<string[]> {
    clientId ??= (await createOAuthClient(srv, { name: 'Benchmark' })).clientId;
    const id = clientId;
    return parallel(list.length, (i) => issueAccessToken(srv, { user: list[i]!, scopes, clientId: id, ttl: 6 * 3600 }));
  }

  /** A conversation of `members` (the first creates it), participants added in bounded chunks. */
  async function conversation(members: User[], title: string): Promise<string> {
    const scopes = ['manage:conversations'];
    const owner = actorOf(members[0]!, scopes);
    const first = members.slice(1, 1 + MAX_PARTICIPANTS_PER_CALL).map((u) => u.id);
    const { conversation: c } = await messaging.conversations.create(owner, { participants: first, title });
    for (let i = 1 + MAX_PARTICIPANTS_PER_CALL; i < members.length; i += MAX_PARTICIPANTS_PER_CALL) {
      await messaging.conversations.addParticipants(
        owner,
        c.id,
        members.slice(i, i + MAX_PARTICIPANTS_PER_CALL).map((u) => u.id),
      );
    }
    return c.id;
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const json = { 'content-type': 'application/json' };

  return {
    /** Which product features this build has (scenarios needing a missing one report it as not measured). */
    features(): Record<string, boolean> {
      return {
        messaging: 'conversations' in s && 'messages' in s,
        realtime: 'realtime' in server,
        devices: 'devices' in s && 'deviceMessages' in s,
        smarthome: 'smarthome' in s,
        oauth: 'oauth' in s && 'oauthServer' in server.app,
      };
    },

    /**
     * S1–S3: `users` users with chat tokens, rooms of 10 (users 10k…10k+9) and one room of the first
     * `bigRoom` users.
     */
    async population(p: { users: number; rooms10: number; bigRoom: number; tag: string }) {
      const list = await users(Math.max(p.users, p.rooms10 * 10, p.bigRoom), `${p.tag}-p`);
      const toks = await tokens(list, ['read:messages', 'send:messages']);
      const rooms10: string[] = [];
      for (let r = 0; r < bounded(p.rooms10, 10_000); r++) rooms10.push(await conversation(list.slice(r * 10, r * 10 + 10), `room ${r}`));
      const big = await conversation(list.slice(0, bounded(p.bigRoom, list.length)), 'big room');
      return { tokens: toks, rooms10, big };
    },

    /**
     * S4: a conversation holding `seedMessages` messages for the page GET, and `conversations` two-person
     * conversations whose first member sends (unique idempotency key per request).
     */
    async restTargets(p: { seedMessages: number; conversations: number; tag: string }) {
      const n = bounded(p.conversations, 500);
      const list = await users(2 * n, `${p.tag}-r`);
      const toks = await tokens(list, ['read:messages', 'send:messages']);
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push(await conversation([list[2 * i]!, list[2 * i + 1]!], null as unknown as string));
      const reader = actorOf(list[0]!, ['send:messages']);
      for (let i = 0; i < bounded(p.seedMessages, 10_000); i++) {
        await messaging.messages.send(reader, { conversationId: ids[0]!, body: `seed ${i} ${'x'.repeat(190)}`, clientMsgId: `${p.tag}-seed-${i}` });
      }
      const get: RequestSpec = { method: 'GET', path: `/api/conversations/${ids[0]}/messages/?limit=50`, headers: bearer(toks[0]!) };
      const posts: RequestSpec[] = ids.map((id, i) => ({
        method: 'POST',
        path: `/api/conversations/${id}/messages/`,
        headers: { ...json, ...bearer(toks[2 * i]!) },
        body: JSON.stringify({ message_body: 'x'.repeat(200), client_msg_id: '{{n}}' }),
        unique: true,
      }));
      return { get, posts };
    },

    /**
     * S5: one owner with a device for the empty poll (never sent anything), and `parked` owners each with
     * one device and a `devices` token for the long-polls.
     */
    async pollTargets(p: { parked: number; waitSec: number; tag: string }) {
      const n = bounded(p.parked, 20_000);
      const list = await users(n + 1, `${p.tag}-d`);
      const toks = await tokens(list, ['devices']);
      const owners = await parallel(n + 1, async (i) => {
        const d = await server.app.services.devices.create(list[i]!.id, {
          id: `bench-${p.tag}-${i}`,
          type: 'action.devices.types.LIGHT',
          traits: ['action.devices.traits.OnOff', 'action.devices.traits.Brightness'],
          name: `Bench light ${i}`,
        } as never);
        return { ownerId: list[i]!.id, deviceId: d.id };
      });
      const poll = (token: string, body: Record<string, unknown>): RequestSpec => ({
        method: 'POST',
        path: '/api/poll-messages/',
        headers: { ...json, ...bearer(token) },
        body: JSON.stringify(body),
      });
      return {
        emptyPoll: poll(toks[0]!, { messagesRead: [] }),
        parked: toks.slice(1).map((t) => poll(t, { messagesRead: [], wait: p.waitSec })),
        owners: owners.slice(1),
      };
    },

    /**
     * S6: `users` Google-linked users (a `smarthome` token each, as many accounts as Google would spread
     * the traffic over) with five lights each; QUERY asks for all five, EXECUTE turns one on (the same body
     * every time, so state does not drift).
     */
    async smarthomeTargets(p: { users: number; tag: string }) {
      const owners = await users(Math.max(1, bounded(p.users, 1000)), `${p.tag}-g`);
      const toks = await tokens(owners, ['smarthome']);
      const devices = await parallel(owners.length * 5, async (i) => {
        const d = await server.app.services.devices.create(owners[Math.floor(i / 5)]!.id, {
          id: `bench-${p.tag}-g${i}`,
          type: 'action.devices.types.LIGHT',
          traits: ['action.devices.traits.OnOff', 'action.devices.traits.Brightness'],
          name: `Bench lamp ${i}`,
          state: { on: false, brightness: 10 },
        } as never);
        return d.id;
      });
      const fulfill = (token: string, body: unknown): RequestSpec => ({
        method: 'POST',
        path: '/smarthome/fulfillment/',
        headers: { ...json, ...bearer(token) },
        body: JSON.stringify(body),
      });
      const mine = (u: number) => devices.slice(u * 5, u * 5 + 5);
      return {
        query: toks.map((t, u) => fulfill(t, { requestId: `bench-q${u}`, inputs: [{ intent: 'action.devices.QUERY', payload: { devices: mine(u).map((id) => ({ id })) } }] })),
        execute: toks.map((t, u) =>
          fulfill(t, {
            requestId: `bench-x${u}`,
            inputs: [
              {
                intent: 'action.devices.EXECUTE',
                payload: { commands: [{ devices: [{ id: mine(u)[0] }], execution: [{ command: 'action.devices.commands.OnOff', params: { on: true } }] }] },
              },
            ],
          }),
        ),
      };
    },

    /** Acknowledge every unread command of these owners (so the next long-poll parks). */
    async clearCommands(p: { owners: Array<{ ownerId: string }> }) {
      const owners = p.owners.slice(0, 20_000);
      const counts = await parallel(owners.length, async (i) => {
        let n = 0;
        for (let round = 0; round < 100; round++) {
          const unread = await server.app.services.deviceMessages.fetchUnread(owners[i]!.ownerId, { limit: 500 });
          if (!unread.length) break;
          n += (await server.app.services.deviceMessages.ack(owners[i]!.ownerId, unread.map((m) => m.id))).length;
        }
        return n;
      });
      return counts.reduce((a, b) => a + b, 0);
    },

    /**
     * Enqueue one command per owner at `rate` per second (open loop), each carrying its intended creation
     * time as the brightness, which the seed wire format returns as `text`.
     */
    async wakeDevices(p: { owners: Array<{ ownerId: string; deviceId: string }>; rate: number }) {
      const owners = p.owners.slice(0, 20_000);
      const gap = 1000 / Math.max(1, p.rate);
      const start = performance.timeOrigin + performance.now() + 5;
      const pending: Promise<unknown>[] = [];
      let errors = 0;
      for (let i = 0; i < owners.length; i++) {
        const t0 = start + i * gap;
        const wait = t0 - (performance.timeOrigin + performance.now());
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        const o = owners[i]!;
        pending.push(
          server.app.services.deviceMessages
            .createCommand(o.ownerId, o.deviceId, { command: 'action.devices.commands.BrightnessAbsolute', params: { brightness: Number(t0.toFixed(3)) } })
            .catch(() => errors++),
        );
      }
      await Promise.all(pending);
      return { enqueued: owners.length - errors, errors };
    },
  };
}
