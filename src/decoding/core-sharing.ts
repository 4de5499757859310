// How the models of a pair share the CPU cores. Each model has its own threads, so in sequential
// co-decoding target and expert can decode side by side. But whenever the target works while the
// expert waits (speculative verification; sequential co-decoding run one model after the other;
// the target strategy alone), it may borrow the expert's cores: each llama.cpp context keeps a
// persistent thread pool, so extra threads cost a wake-up rather than a thread start.
//
// Whether borrowing pays is measured, not assumed, and keeps being measured: on this project's
// 2-core VM a 25M-parameter target generates ~1.4x faster on both cores, while a 5M one is as
// often slower (its pass is short next to waking a pool thread, whose latency here varies from
// run to run). So each kind of step learns its own answer from its own timings.

/** `auto`: learn per kind of step whether lending pays; `overlap`: never lend; `serial`: always lend. */
export type Schedule = "auto" | "overlap" | "serial";

/** Asked at every step: another generation may have started on the same models meanwhile. */
export interface CoreSharing {
  /**
   * Threads the target may use for this step of kind `key` while the other models wait, or
   * undefined: every model on its own threads (side by side where several run).
   */
  lend(key: string): number | undefined;
  /** The measured cost of a step of kind `key` (ms per token), lent or not. */
  observe(key: string, lent: boolean, msPerToken: number): void;
}

/**
 * Steps run with one choice before the next is made. A choice is kept for a run of steps because
 * the first steps after a switch pay for it (waking pool threads, caches refilled): a lent step
 * measured alone among own-thread steps cost 2x a lent step among lent ones (measured).
 */
const EPOCH = 16;
/** Steps not measured after a switch or at the start of a generation (their own cost). */
const SETTLE = 2;
/**
 * The choice that looks worse is tried again after this many epochs, since the machine may have
 * changed; each try that confirms it doubles the wait (up to MAX_EXPLORE_GAP), a reversal resets it.
 */
const MIN_EXPLORE_GAP = 8;
const MAX_EXPLORE_GAP = 64;
/**
 * Lending must look this much cheaper to be chosen: own threads are the safe side (nothing to
 * wake, nothing taken from the expert), and step timings here vary by 10-30%.
 */
const CLEAR_GAIN = 0.95;
/**
 * Weight of a new observation in the moving averages, once there are more than 1/WEIGHT (before:
 * the plain mean). Step times are heavy-tailed (a lent pass now and then waits milliseconds for a
 * pool thread: on the 5M demo target lent steps measured median 1.41 ms but mean 2.22 ms, against
 * 1.62 and 1.68 on own threads), so the mean is what decides, and it needs a long memory.
 */
const WEIGHT = 0.03;
/** One observation counts as at most this many times the current estimate (a GC pause, a page-in). */
const OUTLIER_CAP = 4;

/** Learns, for one kind of step, whether lending is cheaper: moving averages of both choices. */
export class LendingChooser {
  private readonly cost: { lent?: number; own?: number } = {};
  private readonly count = { lent: 0, own: 0 };
  private step = 0;
  private current = false;
  private settleLeft = 0;
  private exploring = false;
  private gap = MIN_EXPLORE_GAP;
  private sinceExplore = 0;

  /** True to lend for the next step. */
  pick(): boolean {
    if (this.step % EPOCH === 0) {
      const before = this.current;
      this.choose();
      if (this.current !== before) this.settleLeft = SETTLE;
    }
    this.step++;
    return this.current;
  }

  /** A generation starts: its first steps pay for caches and pool threads the last one left cold. */
  settle(): void {
    this.settleLeft = SETTLE;
  }

  private choose(): void {
    if (this.cost.own === undefined) this.current = false;
    else if (this.cost.lent === undefined) this.current = true;
    else {
      const better = this.cost.lent < CLEAR_GAIN * this.cost.own;
      if (this.exploring) {
        // The epoch just ended tried the other choice: did it stay worse?
        this.gap = better === !this.current ? Math.min(2 * this.gap, MAX_EXPLORE_GAP) : MIN_EXPLORE_GAP;
        this.sinceExplore = 0;
      }
      this.exploring = ++this.sinceExplore > this.gap;
      this.current = this.exploring ? !better : better;
    }
  }

  /** The cost of the step last picked (ms per token). */
  observe(lent: boolean, ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    if (lent !== this.current) return;
    if (this.settleLeft > 0) {
      this.settleLeft--; // a switch's own cost
      return;
    }
    const k = lent ? "lent" : "own";
    const prev = this.cost[k];
    const n = ++this.count[k];
    this.cost[k] = prev === undefined ? ms : prev + Math.max(WEIGHT, 1 / n) * (Math.min(ms, OUTLIER_CAP * prev) - prev);
  }

  /** The current estimates (ms per token), for reports and tests. */
  get estimates(): { lent?: number; own?: number } {
    return { ...this.cost };
  }
}

/**
 * Core sharing of one engine. Cores are lent only while a single generation runs: concurrent
 * generations (server requests) may keep the expert busy at the same moment.
 */
export class PairCores implements CoreSharing {
  private running = 0;
  private readonly choosers = new Map<string, LendingChooser>();

  /** `solo`: the pair's threads; lending is off when it is not above the target's own. */
  constructor(
    readonly solo: number,
    readonly ownThreads: number,
    readonly schedule: Schedule,
  ) {}

  chooser(key: string): LendingChooser {
    let c = this.choosers.get(key);
    if (!c) this.choosers.set(key, (c = new LendingChooser()));
    return c;
  }

  lend(key: string): number | undefined {
    if (this.running !== 1 || this.solo <= this.ownThreads || this.schedule === "overlap") return undefined;
    if (this.schedule === "serial") return this.solo;
    return this.chooser(key).pick() ? this.solo : undefined;
  }

  observe(key: string, lent: boolean, msPerToken: number): void {
    // Steps taken beside another generation are not comparable with steps taken alone.
    if (this.schedule === "auto" && this.running === 1) this.chooser(key).observe(lent, msPerToken);
  }

  /** Runs `job` counted as one running generation. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    this.running++;
    for (const c of this.choosers.values()) c.settle();
    try {
      return await job();
    } finally {
      this.running--;
    }
  }
}
