/**
 * Baseline B1 (and B2 with BENCH_ADAPTER=redis): a raw Socket.IO server of the same version as the product,
 * with no database. A socket joins `user:<user>` and the rooms named in its handshake auth; `message:send`
 * (`{ conversation_id, body, client_msg_id }`) is acknowledged and broadcast to the whole room as
 * `message:new`, with the same payload shapes as the product (docs/protocol.md).
 * Started and driven by scripts/bench/run.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { serveRpc } from '../lib/proc.ts';
import { memorySample } from './memory.ts';

const adapterMode = process.env.BENCH_ADAPTER ?? 'memory';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.BENCH_REDIS_PREFIX ?? `bench:b2:${process.pid}:`;

const server = http.createServer();
const io = new Server(server, { serveClient: false });
const redis: Redis[] = [];
if (adapterMode === 'redis') {
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  redis.push(pub, sub);
  io.adapter(createShardedAdapter(pub, sub, { channelPrefix: `${prefix}sio`, subscriptionMode: 'dynamic' }));
}

interface SendPayload {
  conversation_id?: unknown;
  body?: unknown;
  client_msg_id?: unknown;
}

const seqs = new Map<string, number>();
let nextId = 0;

io.on('connection', (socket) => {
  const auth = socket.handshake.auth as { user?: unknown; rooms?: unknown };
  const user = String(auth.user ?? socket.id);
  const rooms = Array.isArray(auth.rooms) ? auth.rooms.map(String) : [];
  socket.join([`user:${user}`, ...rooms.map((r) => `conversation:${r}`)]);
  socket.on('message:send', (p: SendPayload, ack?: (r: unknown) => void) => {
    if (!p || typeof p.body !== 'string' || p.conversation_id === undefined) {
      ack?.({ error: { code: 'validation_failed', message: 'Invalid message:send payload' } });
      return;
    }
    const conversation = String(p.conversation_id);
    const seq = (seqs.get(conversation) ?? 0) + 1;
    seqs.set(conversation, seq);
    const now = new Date().toISOString();
    // The product's Message shape, so both sides serialise the same fields.
    const message = {
      message_id: `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}`,
      conversation,
      sender: user,
      seq,
      change_seq: seq,
      client_msg_id: p.client_msg_id ?? null,
      message_body: p.body,
      status: 'sent',
      sent_at: now,
      edited_at: null,
      deleted_at: null,
    };
    ack?.({ data: { message_id: message.message_id, seq, created_at: now, created: true, message } });
    io.to(`conversation:${conversation}`).emit('message:new', message);
  });
});

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

process.on('SIGTERM', () => {
  io.close();
  for (const r of redis) r.disconnect();
  process.exit(0);
});

serveRpc(
  {
    mem: () => memorySample(),
    sockets: () => io.engine.clientsCount,
  },
  { url: `http://127.0.0.1:${port}`, adapter: adapterMode },
);
