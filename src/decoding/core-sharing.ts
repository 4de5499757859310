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
  /** The measured cost of a step of kind `key`, lent or not: its wall time and the tokens it produced. */
  observe(key: string, lent: boolean, ms: number, tokens: number): void;
  /** True while a single generation runs (nothing else wants the JS thread or the models). */
  readonly alone: boolean;
}

/**
 * Steps run with one choice before the next is made. A choice is kept for a run of steps because
 * the first steps after a switch pay for it (waking pool threads, caches refilled): a lent step
 * measured alone among own-thread steps cost 2x a lent step among lent ones (measured).
 */
const EPOCH = 16;
/** Steps not measured after a switch or at the start of a generation (their own cost). */
const SETTLE = 2;
/** An epoch counts only with this many measured steps (a generation may end or be shared early). */
const MIN_MEASURED = 4;
/**
 * Epochs of each choice measured before either is trusted, taken in turn. One epoch is not enough:
 * the first ones run while weights and caches are cold, and a cold lent epoch (6.7 ms/token against
 * 4.0 warm, measured on the 25M pair) once kept a chooser on the slower own threads for good.
 */
const FIRST_EPOCHS = 3;
/** Epoch means kept per choice; their median decides, so one slow epoch (a GC, a noisy neighbour) cannot. */
const HISTORY = 5;
/**
 * The choice that looks worse is tried again after this many epochs, since the machine may have
 * changed; each try that confirms it doubles the wait (up to MAX_EXPLORE_GAP). A try that looks
 * better is repeated at once until the medians agree (or a try does not), so that a real change,
 * or a first verdict taken while caches were cold, is undone within a few epochs.
 */
const MIN_EXPLORE_GAP = 4;
const MAX_EXPLORE_GAP = 64;
/**
 * A try costs what the worse choice costs more, for one epoch: the wait before a try is at least
 * its excess over this share (a choice 30% worse waits 10+ epochs, one 10% worse 4+), but this rule
 * asks for no more than EXCESS_GAP_CAP, so that a first verdict taken on cold epochs is re-tried soon.
 */
const EXPLORE_SHARE = 0.03;
const EXCESS_GAP_CAP = 16;
/**
 * Lending must look this much cheaper to be chosen: own threads are the safe side (nothing to
 * wake, nothing taken from the expert), and step timings here vary by 10-30%.
 */
const CLEAR_GAIN = 0.95;
/**
 * One observation counts as at most this many times its choice's estimate (a GC pause, a
 * page-in). Step times are heavy-tailed (on the 5M demo target lent steps measured median 1.41 ms
 * but mean 2.22 ms, against 1.62 and 1.68 on own threads), so epochs are compared by their time
 * per token, which is what the total time pays, and only single extremes are capped. Time over
 * tokens, not a mean of per-step ratios: a speculative round yields 1 to k + 1 tokens, and a mean
 * of ratios weighs a round that produced one token as much as one that produced four.
 */
const OUTLIER_CAP = 4;

type Arm = "lent" | "own";

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Learns, for one kind of step, whether lending is cheaper, from the mean cost of whole epochs. */
export class LendingChooser {
  private readonly history: Record<Arm, number[]> = { lent: [], own: [] };
  /** The median of each history, kept as the history changes (it is read at every step). */
  private readonly medians: Partial<Record<Arm, number>> = {};
  private epochSum = 0;
  private epochTokens = 0;
  private epochCount = 0;
  private step = 0;
  private current = false;
  private settleLeft = 0;
  private exploring = false;
  private gap = MIN_EXPLORE_GAP;
  private sinceExplore = 0;

  /** True to lend for the next step. */
  pick(): boolean {
    if (this.step % EPOCH === 0) {
      const explored = this.closeEpoch();
      const before = this.current;
      this.choose(explored);
      if (this.current !== before) this.settleLeft = SETTLE;
    }
    this.step++;
    return this.current;
  }

  /** A generation starts: its first steps pay for caches and pool threads the last one left cold. */
  settle(): void {
    this.settleLeft = SETTLE;
  }

  /** Files the epoch just ended under its choice; returns its mean when it was an exploration. */
  private closeEpoch(): number | undefined {
    const measured = this.epochCount >= MIN_MEASURED;
    const mean = this.epochSum / this.epochTokens;
    this.epochSum = this.epochTokens = this.epochCount = 0;
    if (!measured) return undefined;
    const k = arm(this.current);
    const list = this.history[k];
    list.push(mean);
    if (list.length > HISTORY) list.shift();
    this.medians[k] = median(list);
    return this.exploring ? mean : undefined;
  }

  private choose(explored: number | undefined): void {
    const tries = { lent: this.history.lent.length, own: this.history.own.length };
    if (tries.own < FIRST_EPOCHS || tries.lent < FIRST_EPOCHS) {
      this.current = tries.lent < tries.own; // in turn, own threads first
      return;
    }
    const { own, lent } = this.estimates as Required<LendingChooser["estimates"]>;
    const better = lent < CLEAR_GAIN * own;
    if (explored !== undefined) {
      // The epoch just ended tried the other choice: did it look better than the one in use?
      const looksBetter = this.current ? explored < CLEAR_GAIN * own : !(lent < CLEAR_GAIN * explored);
      this.sinceExplore = 0;
      // It did, but the medians still hold older epochs of it: try it again at once, until they agree.
      if (looksBetter && better !== this.current) return;
      this.gap = looksBetter ? MIN_EXPLORE_GAP : Math.min(2 * this.gap, MAX_EXPLORE_GAP);
    }
    const excess = Math.max(own, lent) / Math.min(own, lent) - 1;
    const wait = Math.max(this.gap, Math.min(EXCESS_GAP_CAP, Math.ceil(excess / EXPLORE_SHARE)));
    this.exploring = ++this.sinceExplore > wait;
    this.current = this.exploring ? !better : better;
  }

  /** The cost of the step last picked: its wall time (ms) and the tokens it produced. */
  observe(lent: boolean, ms: number, tokens = 1): void {
    if (!(ms >= 0) || !Number.isFinite(ms) || !(tokens > 0)) return;
    if (lent !== this.current) return;
    if (this.settleLeft > 0) {
      this.settleLeft--; // a switch's own cost
      return;
    }
    const ref = this.medians[arm(lent)] ?? (this.epochTokens > 0 ? this.epochSum / this.epochTokens : undefined);
    this.epochSum += ref === undefined ? ms : Math.min(ms, OUTLIER_CAP * ref * tokens);
    this.epochTokens += tokens;
    this.epochCount++;
  }

  /** The current estimates (ms per token: the median of recent epoch means), for reports and tests. */
  get estimates(): { lent?: number; own?: number } {
    return { ...this.medians };
  }
}

function arm(lent: boolean): Arm {
  return lent ? "lent" : "own";
}

/**
 * Core sharing of one engine. Cores are lent only while a single generation runs: concurrent
 * generations (server requests) may keep the expert busy at the same moment.
 */
export class PairCores implements CoreSharing {
  private running = 0;
  private readonly choosers = new Map<string, LendingChooser>();
  private readonly counts: Record<string, { lent: number; own: number }> = {};

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

  get alone(): boolean {
    return this.running === 1;
  }

  lend(key: string): number | undefined {
    const threads = this.decide(key);
    const n = (this.counts[key] ??= { lent: 0, own: 0 });
    n[threads === undefined ? "own" : "lent"]++;
    return threads;
  }

  private decide(key: string): number | undefined {
    if (this.running !== 1 || this.solo <= this.ownThreads || this.schedule === "overlap") return undefined;
    if (this.schedule === "serial") return this.solo;
    return this.chooser(key).pick() ? this.solo : undefined;
  }

  /** How many steps of kind `key` lent cores and how many did not, for reports. */
  steps(key: string): { lent: number; own: number } {
    return { ...(this.counts[key] ?? { lent: 0, own: 0 }) };
  }

  observe(key: string, lent: boolean, ms: number, tokens: number): void {
    // Steps taken beside another generation are not comparable with steps taken alone.
    if (this.schedule === "auto" && this.running === 1) this.chooser(key).observe(lent, ms, tokens);
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
