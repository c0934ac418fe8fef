/**
 * Two people chatting through two server nodes: Alice signs in on node A, Bob on node B; Alice sends a
 * message, Bob's client acknowledges delivery at once and reading a second later, and Alice sees
 * `message:status` delivered, then read. Usage (both accounts must exist):
 *
 *   npm run chat-demo -- http://127.0.0.1:3001 http://127.0.0.1:3002 \
 *     alice@example.com 'alice password' bob@example.com 'bob password'
 */
import { io, type Socket } from 'socket.io-client';

const [nodeA, nodeB, aliceEmail, alicePassword, bobEmail, bobPassword] = process.argv.slice(2);
if (!bobPassword) {
  console.error('usage: node scripts/chat-demo.ts <node A url> <node B url> <alice email> <alice password> <bob email> <bob password>');
  process.exit(2);
}

/** Sign in like a browser page of the node would; returns the session cookie and the user id. */
async function signIn(base: string, email: string, password: string): Promise<{ cookie: string; userId: string }> {
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base, 'x-requested-with': 'demo' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in on ${base} failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { cookie, userId: ((await res.json()) as { user: { user_id: string } }).user.user_id };
}

/** A socket with the session cookie (browsers send it and the Origin by themselves). */
function connect(base: string, cookie: string): Promise<Socket> {
  const socket = io(base, { transports: ['websocket'], extraHeaders: { cookie, origin: base } });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

const alice = await signIn(nodeA!, aliceEmail!, alicePassword!);
const bob = await signIn(nodeB!, bobEmail!, bobPassword!);
const aliceSocket = await connect(nodeA!, alice.cookie);
const bobSocket = await connect(nodeB!, bob.cookie);

// Bob's client: acknowledge delivery on arrival, reading a second later.
bobSocket.on('message:new', (m) => {
  console.log(`bob   (node B) got #${m.seq}: ${m.message_body}`);
  bobSocket.emit('receipt:delivered', { conversation_id: m.conversation, seq: m.seq });
  setTimeout(() => bobSocket.emit('receipt:read', { conversation_id: m.conversation, seq: m.seq }), 1000);
});

// Alice's client: status changes of her messages.
const done = new Promise<void>((resolve) => {
  aliceSocket.on('message:status', (s) => {
    console.log(`alice (node A) status: messages up to #${s.up_to_seq} ${s.status}`);
    if (s.status === 'read') resolve();
  });
});

const conv = await aliceSocket.emitWithAck('conversation:create', { participants: [bob.userId] });
if (conv.error) throw new Error(conv.error.message);
const sent = await aliceSocket.emitWithAck('message:send', {
  conversation_id: conv.data.conversation.conversation_id,
  body: 'Hello Bob!',
  client_msg_id: crypto.randomUUID(),
});
if (sent.error) throw new Error(sent.error.message);
console.log(`alice (node A) sent #${sent.data.seq} at ${sent.data.created_at}`);
await done;
aliceSocket.close();
bobSocket.close();
