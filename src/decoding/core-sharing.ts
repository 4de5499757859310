// How the models of a pair share the CPU cores. Each model has its own threads, so in sequential
// co-decoding target and expert can decode side by side. But whenever one model works while the
// others wait (speculative verification; each step of sequential co-decoding run one model after
// the other), it may borrow their cores: llama.cpp's persistent thread pool makes extra threads
// cheap, and on a 2-core machine the target's token costs ~1/1.45 with both cores (measured).

/** Asked again at every step: another generation may have started on the same models meanwhile. */
export interface CoreSharing {
  /** Threads one model may use while the others wait; undefined: its own threads only. */
  soloThreads(): number | undefined;
  /** Sequential co-decoding runs the models one after another (with soloThreads) instead of side by side. */
  readonly serial: boolean;
}

export type Schedule = "overlap" | "serial";

/**
 * The default schedule of sequential co-decoding: serial when giving the target the expert's
 * threads adds at least half to its own (a small machine, where a one-thread target doubles its
 * speed with a second core), side by side otherwise (where the expert's step is better hidden).
 */
export function defaultSchedule(targetThreads: number, expertThreads: number | undefined): Schedule {
  return expertThreads !== undefined && 2 * expertThreads >= targetThreads ? "serial" : "overlap";
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
