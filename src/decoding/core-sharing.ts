// How the models of a pair share the CPU cores. Each model has its own threads, so in sequential
// co-decoding target and expert can decode side by side. But whenever one model works while the
// others wait (speculative verification; each step of sequential co-decoding run one model after
// the other), it may borrow their cores: llama.cpp's persistent thread pool makes extra threads
// cheap, and on a 2-core machine a 25M-parameter target's token costs ~1/1.4 with both cores
// (measured). Whether lending pays is measured when the engine loads (chooseSharing).
import type { ModelBackend } from "../backend/types.ts";

/** Asked again at every step: another generation may have started on the same models meanwhile. */
export interface CoreSharing {
  /** Threads one model may use while the others wait; undefined: its own threads only. */
  soloThreads(): number | undefined;
  /** Sequential co-decoding runs the models one after another (with soloThreads) instead of side by side. */
  readonly serial: boolean;
}

export type Schedule = "overlap" | "serial";

/** Median one-token pass times (ms) of the pair, measured when the engine loads. */
export interface PassTimes {
  /** The target on its own threads. */
  targetOwn: number;
  /** The target on the pair's threads. */
  targetSolo: number;
  /** The expert on its own threads. */
  expert: number;
}

/** Below this ratio of costs a change counts as a gain: timings here vary by ~10% run to run. */
const CLEAR_GAIN = 0.9;

/**
 * Whether the target borrows the expert's cores, and how sequential co-decoding runs: one model
 * after the other (expert pass + target pass on all cores) only when that clearly beats side by
 * side (the slower of the two passes on their own threads). Measured: a 25M-parameter target
 * on 2 cores lends and runs serially (0.4 + 3.5 ms against 5 ms); a 5M one does neither (its
 * pass is short next to waking a pool thread).
 */
export function chooseSharing(t: PassTimes): { lend: boolean; schedule: Schedule } {
  const lend = t.targetSolo < CLEAR_GAIN * t.targetOwn;
  const serial = lend && t.expert + t.targetSolo < CLEAR_GAIN * Math.max(t.expert, t.targetOwn);
  return { lend, schedule: serial ? "serial" : "overlap" };
}

/**
 * Core sharing of one engine: solo threads are lent only while a single generation runs, because
 * concurrent generations (server requests) may keep the other model busy at the same moment.
 */
export class PairCores implements CoreSharing {
  private running = 0;

  constructor(
    readonly solo: number | undefined,
    readonly schedule: Schedule,
  ) {}

  get serial(): boolean {
    return this.schedule === "serial" && this.soloThreads() !== undefined;
  }

  soloThreads(): number | undefined {
    return this.running === 1 ? this.solo : undefined;
  }

  /** Runs `job` counted as one running generation. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await job();
    } finally {
      this.running--;
    }
  }
}

/**
 * Median one-token pass times (ms) of `model` on each thread count, timed on a scratch sequence
 * with the counts taking turns; a first pass (allocations) is not counted. Stops early once a pass
 * is slow enough (`enoughMs`) that a few samples tell the difference.
 */
export async function timePasses(model: ModelBackend, threadCounts: readonly number[], trials = 6, enoughMs = 50): Promise<number[]> {
  const seq = model.newSequence();
  try {
    let k = 0;
    const step = async (threads: number) => {
      const t = performance.now();
      await model.evaluateBatch([{ sequence: seq, tokens: [1 + (k++ % (model.info.vocabSize - 1))], logitsFor: 1 }], { threads });
      return performance.now() - t;
    };
    const first = await step(threadCounts[0]);
    const times: number[][] = threadCounts.map(() => []);
    const rounds = first > enoughMs ? 2 : trials;
    for (let i = 0; i < rounds; i++) {
      const order = threadCounts.map((_, j) => j);
      if (i % 2) order.reverse();
      for (const j of order) times[j].push(await step(threadCounts[j]));
    }
    return times.map(median);
  } finally {
    await seq.dispose();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
