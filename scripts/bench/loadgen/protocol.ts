/**
 * What the generator reads from and writes into frames: the latency stamp carried in a message body, and
 * the delivered watermark in `message:status`. Pure functions (tested in test/bench/harness.test.ts).
 */

/** `~T<t0>~S<sender>~` then padding: the stamp every receiver reads without parsing the JSON. */
export function stampedBody(t0: number, sender: number, size: number): string {
  const stamp = `~T${t0.toFixed(3)}~S${sender}~`;
  return size > stamp.length ? stamp + 'x'.repeat(size - stamp.length) : stamp;
}

/** Read the stamp out of a raw frame: [t0, sender] or null. */
export function readStamp(frame: string): [number, number] | null {
  const i = frame.indexOf('~T');
  if (i === -1) return null;
  const j = frame.indexOf('~S', i + 2);
  if (j === -1) return null;
  const k = frame.indexOf('~', j + 2);
  if (k === -1) return null;
  return [Number(frame.slice(i + 2, j)), Number(frame.slice(j + 2, k))];
}

export function conversationOf(m: Record<string, unknown>): string | null {
  const c = m.conversation ?? m.conversation_id ?? m.conversationId;
  return c === undefined || c === null ? null : String(c);
}

/**
 * `message:status` payloads → (conversation, delivered-up-to seq) pairs. Accepts a watermark form
 * (`{conversation, status: 'delivered', seq | up_to_seq | delivered_seq}`) and a list form
 * (`{conversation, messages: [{seq, status}]}`), so the generator does not hard-code one shape.
 */
export function deliveredUpTo(m: Record<string, unknown>): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  const conv = conversationOf(m);
  if (conv === null) return out;
  const status = m.status;
  if (status !== undefined && status !== 'delivered' && status !== 'read') return out;
  for (const k of ['up_to_seq', 'delivered_seq', 'seq', 'upToSeq']) {
    const v = Number(m[k]);
    if (m[k] !== undefined && Number.isFinite(v)) {
      out.push([conv, v]);
      return out;
    }
  }
  if (Array.isArray(m.messages)) {
    let max = -1;
    for (const x of m.messages as Array<Record<string, unknown>>) {
      if (x && (x.status === 'delivered' || x.status === 'read') && Number(x.seq) > max) max = Number(x.seq);
    }
    if (max >= 0) out.push([conv, max]);
  }
  return out;
}


/**
 * The intended creation time of a device command, which the benchmark sends as a BrightnessAbsolute
 * value and the seed's poll format returns as the message `text`; null when absent.
 */
export function readTextStamp(body: string): number | null {
  const m = /"text":"(\d{10,}(?:\.\d+)?)"/.exec(body);
  return m ? Number(m[1]) : null;
}
