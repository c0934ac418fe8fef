/**
 * Group commit: sends arriving within the same tick (or a short window) are written by ONE transaction,
 * and each caller's promise settles only after that transaction committed. Jobs keep their arrival order
 * per key (conversation): a key that is part of an in-flight batch waits for it, so concurrent batches never
 * reorder one conversation. A job that fails on its own (not a member…) settles with its error without
 * touching the others; if the whole batch transaction fails, every job is retried alone so one poisoned
 * job cannot fail its neighbours.
 */

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface BatcherOptions {
  /** Largest number of jobs in one transaction. */
  maxBatch: number;
  /** Collect for this many milliseconds before flushing (0: until the current tick's I/O is done). */
  windowMs: number;
  /** Batches in flight at once (each holds a database connection). */
  concurrency: number;
}

/** Writes a batch; returns one outcome per job, in the same order. Throws only if the batch as a whole failed. */
export type FlushFn<J, R> = (jobs: J[]) => Promise<Array<Outcome<R>>>;

interface Entry<J, R> {
  job: J;
  key: string;
  resolve(value: R): void;
  reject(err: unknown): void;
}

export class SendBatcher<J, R> {
  readonly #flush: FlushFn<J, R>;
  readonly #keyOf: (job: J) => string;
  readonly #opts: BatcherOptions;
  #queue: Array<Entry<J, R>> = [];
  readonly #busy = new Map<string, number>();
  #inFlight = 0;
  #timer: NodeJS.Immediate | NodeJS.Timeout | null = null;
  #idle: Array<() => void> = [];

  constructor(flush: FlushFn<J, R>, keyOf: (job: J) => string, opts: BatcherOptions) {
    this.#flush = flush;
    this.#keyOf = keyOf;
    this.#opts = opts;
  }

  /** Queue a job; resolves with its result after the batch committed, or rejects with its own error. */
  submit(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ job, key: this.#keyOf(job), resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  async drain(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#timer || this.#queue.length === 0 || this.#inFlight >= this.#opts.concurrency) return;
    const run = () => {
      this.#timer = null;
      this.#start();
    };
    this.#timer = this.#opts.windowMs > 0 ? setTimeout(run, this.#opts.windowMs) : setImmediate(run);
  }

  #start(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.#opts.concurrency) {
      const batch = this.#take();
      if (batch.length === 0) break;
      this.#inFlight++;
      for (const e of batch) this.#busy.set(e.key, (this.#busy.get(e.key) ?? 0) + 1);
      void this.#run(batch).finally(() => {
        this.#inFlight--;
        for (const e of batch) {
          const n = (this.#busy.get(e.key) ?? 1) - 1;
          if (n > 0) this.#busy.set(e.key, n);
          else this.#busy.delete(e.key);
        }
        if (this.#queue.length > 0) this.#schedule();
        else if (this.#inFlight === 0) for (const f of this.#idle.splice(0)) f();
      });
    }
  }

  /** Up to maxBatch queued jobs whose key is not in flight, in arrival order; a skipped key stays skipped. */
  #take(): Array<Entry<J, R>> {
    const batch: Array<Entry<J, R>> = [];
    const rest: Array<Entry<J, R>> = [];
    const held = new Set<string>();
    for (const e of this.#queue) {
      if (batch.length < this.#opts.maxBatch && !held.has(e.key) && !this.#busy.has(e.key)) batch.push(e);
      else {
        held.add(e.key);
        rest.push(e);
      }
    }
    this.#queue = rest;
    return batch;
  }

  async #run(batch: Array<Entry<J, R>>): Promise<void> {
    let outcomes: Array<Outcome<R>>;
    try {
      outcomes = await this.#flush(batch.map((e) => e.job));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // Isolate the failure: each job alone, in order.
      for (const e of batch) {
        try {
          settle(e, (await this.#flush([e.job]))[0]);
        } catch (single) {
          e.reject(single);
        }
      }
      return;
    }
    batch.forEach((e, i) => settle(e, outcomes[i]));
  }
}

function settle<J, R>(e: Entry<J, R>, o: Outcome<R> | undefined): void {
  if (!o) e.reject(new Error('batch returned no outcome for a job'));
  else if (o.ok) e.resolve(o.value);
  else e.reject(o.error);
}
