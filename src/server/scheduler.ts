// Admission control over the models' sequence slots: a request needing k slots (its n samples)
// runs when k are free, else waits in a bounded FIFO queue; a full queue is refused at once (429).
// FIFO order keeps an n>1 request from being starved by a stream of n=1 requests behind it.
import { ApiRequestError } from "../errors.ts";

export interface Lease {
  /** Returns the slots (idempotent). */
  release(): void;
}

interface Waiter {
  slots: number;
  resolve: (lease: Lease) => void;
  reject: (err: unknown) => void;
  cleanup: () => void;
}

export class QueueFullError extends ApiRequestError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, "the server is at capacity and its queue is full; retry later", null, "queue_full", "rate_limit_error");
  }
}

export class Scheduler {
  private inUse = 0;
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private closed = false;
  /** Moving average of how long a lease is held, for Retry-After. */
  private meanHoldMs = 1000;

  constructor(
    readonly capacity: number,
    readonly queueLimit: number,
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    if (!(Number.isInteger(queueLimit) && queueLimit >= 0)) throw new RangeError(`queue limit must be a non-negative integer, got ${queueLimit}`);
  }

  get queued(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  get slotsInUse(): number {
    return this.inUse;
  }

  /** Seconds a refused client should wait: the expected time until the queue has moved on. */
  retryAfterSeconds(): number {
    const rounds = (this.waiting.length + 1) / this.capacity;
    return Math.min(60, Math.max(1, Math.ceil((this.meanHoldMs * rounds) / 1000)));
  }

  /**
   * Waits for `slots` free slots. Rejects with QueueFullError when the queue is full, with the
   * signal's reason when the caller gives up while waiting, and with 503 once closed.
   */
  acquire(slots: number, signal?: AbortSignal): Promise<Lease> {
    if (!(Number.isInteger(slots) && slots >= 1 && slots <= this.capacity)) {
      return Promise.reject(new RangeError(`a request may take 1..${this.capacity} slots, asked ${slots}`));
    }
    if (this.closed) return Promise.reject(new ApiRequestError(503, "the server is shutting down", null, "shutting_down", "server_error"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiting.length === 0 && this.inUse + slots <= this.capacity) return Promise.resolve(this.grant(slots));
    if (this.waiting.length >= this.queueLimit) return Promise.reject(new QueueFullError(this.retryAfterSeconds()));
    return new Promise<Lease>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
        // The head may have been blocking smaller requests behind it.
        this.pump();
      };
      const waiter: Waiter = { slots, resolve, reject, cleanup: () => signal?.removeEventListener("abort", onAbort) };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Refuses new requests and everything still waiting (shutdown); running leases continue. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) {
      w.cleanup();
      w.reject(new ApiRequestError(503, "the server is shutting down", null, "shutting_down", "server_error"));
    }
  }

  private grant(slots: number): Lease {
    this.inUse += slots;
    this.running++;
    const started = performance.now();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inUse -= slots;
        this.running--;
        this.meanHoldMs = 0.8 * this.meanHoldMs + 0.2 * (performance.now() - started);
        this.pump();
      },
    };
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.inUse + this.waiting[0].slots <= this.capacity) {
      const w = this.waiting.shift()!;
      w.cleanup();
      w.resolve(this.grant(w.slots));
    }
  }
}
