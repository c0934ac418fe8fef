/**
 * A minimal Socket.IO v5-protocol client over Engine.IO v4 WebSocket transport, on `ws`: handshake,
 * namespace connect with auth (`40{...}`), ping (`2`) → pong (`3`), events (`42[...]`) and acks
 * (`42<id>[...]` / `43<id>[...]`). It hands raw event frames to the caller, who decodes only what it
 * needs, so a generator holding thousands of sockets costs less per delivery than the server it measures.
 * (Checked against socket.io-client by test/bench/harness.test.ts.)
 */
import WebSocket from 'ws';

export interface EioConnectOptions {
  /** Server base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  /** Handshake auth object (`socket.handshake.auth`). */
  auth?: Record<string, unknown>;
  headers?: Record<string, string>;
  localAddress?: string;
  timeoutMs?: number;
}

export type FrameHandler = (frame: string) => void;

export class EioSocket {
  private ws: WebSocket | null = null;
  private nextAck = 0;
  private readonly acks = new Map<number, (args: unknown) => void>();
  /** Called with every `42…` event frame (the whole text frame). */
  onEvent: FrameHandler | null = null;
  connected = false;
  closed = false;

  /** Open the socket and join the default namespace; rejects on a refused handshake or timeout. */
  connect(opts: EioConnectOptions): Promise<void> {
    const wsUrl = `${opts.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, {
        headers: opts.headers,
        localAddress: opts.localAddress,
        perMessageDeflate: false,
        handshakeTimeout: opts.timeoutMs ?? 10_000,
      });
      this.ws = ws;
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error('connect timeout')), opts.timeoutMs ?? 10_000);
      ws.on('error', (err) => fail(err));
      ws.on('close', () => {
        this.connected = false;
        this.closed = true;
        fail(new Error('closed during connect'));
      });
      ws.on('message', (data: Buffer) => {
        const frame = data.toString();
        const type = frame.charCodeAt(0);
        if (type === 0x34 /* 4: message */) {
          const p = frame.charCodeAt(1);
          if (p === 0x32 /* 2: event */) this.onEvent?.(frame);
          else if (p === 0x33 /* 3: ack */) this.handleAck(frame);
          else if (p === 0x30 /* 0: connect */) {
            this.connected = true;
            if (!settled) {
              settled = true;
              clearTimeout(timer);
              resolve();
            }
          } else if (p === 0x34 /* 4: connect error */) fail(new Error(`connect refused: ${frame.slice(2, 200)}`));
        } else if (type === 0x32 /* 2: ping */) ws.send('3');
        else if (type === 0x30 /* 0: open */) ws.send(opts.auth ? `40${JSON.stringify(opts.auth)}` : '40');
      });
    });
  }

  private handleAck(frame: string): void {
    let i = 2;
    let id = 0;
    while (i < frame.length) {
      const c = frame.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      id = id * 10 + (c - 0x30);
      i++;
    }
    const cb = this.acks.get(id);
    if (!cb) return;
    this.acks.delete(id);
    let args: unknown = null;
    try {
      args = JSON.parse(frame.slice(i));
    } catch {
      args = null;
    }
    cb(Array.isArray(args) ? args[0] : args);
  }

  /** Emit an event; with `ack`, the server's acknowledgement (first argument) is passed to it. */
  emit(event: string, data: unknown, ack?: (reply: unknown) => void): boolean {
    if (!this.ws || !this.connected || this.ws.readyState !== WebSocket.OPEN) return false;
    if (ack) {
      const id = ++this.nextAck;
      this.acks.set(id, ack);
      this.ws.send(`42${id}${JSON.stringify([event, data])}`);
    } else this.ws.send(`42${JSON.stringify([event, data])}`);
    return true;
  }

  /** Acks still outstanding. */
  get pendingAcks(): number {
    return this.acks.size;
  }

  close(): void {
    this.connected = false;
    this.acks.clear();
    this.ws?.terminate();
  }
}

/** The event name of a `42[...]` or `42<id>[...]` frame, without parsing the payload. */
export function eventName(frame: string): string | null {
  const start = frame.indexOf('["');
  if (start === -1) return null;
  const end = frame.indexOf('"', start + 2);
  return end === -1 ? null : frame.slice(start + 2, end);
}

/** The payload (first argument) of an event frame, parsed. */
export function eventPayload(frame: string): unknown {
  const start = frame.indexOf('[');
  const arr = JSON.parse(frame.slice(start)) as unknown[];
  return arr[1];
}
