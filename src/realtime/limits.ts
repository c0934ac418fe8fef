/**
 * Per-socket counters. A socket lives on exactly one node, so its own budget is kept in that node's
 * memory (no Redis round trip per event); budgets that must hold across nodes use `app.limiters`.
 */

export interface WindowCounter {
  /** Count one event; false when the window's budget is spent. */
  take(): boolean;
}

/** A fixed-window counter: at most `limit` events per `windowMs`. */
export function windowCounter(limit: number, windowMs: number): WindowCounter {
  let windowStart = 0;
  let used = 0;
  return {
    take() {
      const now = Date.now();
      if (now - windowStart >= windowMs) {
        windowStart = now;
        used = 0;
      }
      if (used >= limit) return false;
      used++;
      return true;
    },
  };
}
