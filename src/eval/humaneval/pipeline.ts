// Generate N samples per (problem, strategy) through the engine, execute each in the sandbox, and
// append one JSONL record per sample. Samples are paired across strategies (same seed, same sample
// index) and resumable: only samples missing from the store are generated again, and because the
// engine's random stream is keyed by (seed, sample index), a re-run reproduces the same samples.
import { InvalidArgumentError } from "../../errors.ts";
import type { DecodingSettings } from "../../decoding/settings.ts";
import type { GenerateOptions, GenerationResult } from "../../generate/types.ts";
import type { ResultsStore } from "../results-store.ts";
import { buildProgram, cutAtStop, type HumanEvalProblem } from "./problems.ts";
import { runProgram, type SampleStatus, type SandboxOptions } from "./sandbox.ts";

/** Shaped like `Engine.generate`, so callers pass `engine.generate.bind(engine)`. */
export type GenerateFn = (prompt: string, options: GenerateOptions) => Promise<GenerationResult[]>;

export interface HumanEvalRecord {
  problem: string;
  strategy: string;
  sample: number;
  seed: number;
  /** The completion after cutting at the problem's stop tokens (what was executed). */
  completion: string;
  status: SampleStatus;
  details: string;
  /** Generated tokens (before cutting) and why generation ended. */
  tokens: number;
  finishReason: GenerationResult["finishReason"];
  acceptanceRate: number | null;
  executionMs: number;
}

export const recordKey = (r: Pick<HumanEvalRecord, "problem" | "strategy" | "sample">): string => `${r.problem}|${r.strategy}|${r.sample}`;

export interface HumanEvalProgress {
  done: number;
  total: number;
  /** Records added in this run (the rest were already in the store). */
  added: number;
  passed: Record<string, number>;
  last?: HumanEvalRecord;
}

export interface HumanEvalRunOptions {
  problems: readonly HumanEvalProblem[];
  /** The decoding of each strategy compared; each record's `strategy` is the strategy's name. */
  strategies: readonly DecodingSettings[];
  n: number;
  seed: number;
  maxTokens: number;
  generate: GenerateFn;
  store: ResultsStore<HumanEvalRecord>;
  sandbox: SandboxOptions;
  /** Programs executed at once (default 2). */
  jobs?: number;
  /** Most samples per generate call (parallel sequences); default n. */
  batchSize?: number;
  onProgress?: (p: HumanEvalProgress) => void;
  signal?: AbortSignal;
}

/** Contiguous runs of missing indices in [0, n), each at most `size` long. */
export function missingBatches(isDone: (i: number) => boolean, n: number, size: number): { start: number; count: number }[] {
  const out: { start: number; count: number }[] = [];
  let i = 0;
  while (i < n) {
    if (isDone(i)) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && !isDone(i) && i - start < size) i++;
    out.push({ start, count: i - start });
  }
  return out;
}

/** A counting semaphore: at most `limit` tasks run at once. */
class Pool {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly all = new Set<Promise<void>>();
  /** The first task failure (e.g. the results file became unwritable); stops the run. */
  failure: unknown = null;
  constructor(private readonly limit: number) {}

  get pending(): number {
    return this.all.size;
  }

  submit(task: () => Promise<void>): void {
    const p = this.acquire()
      .then(task)
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.release();
        this.all.delete(p);
      });
    this.all.add(p);
  }

  private acquire(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  /** Wait until the queue is at most `size` long (back-pressure for the generator). */
  async drainTo(size: number): Promise<void> {
    while (this.all.size > size) await Promise.race(this.all);
  }
}

/** Run (or continue) the evaluation; resolves when every sample has a record or the signal aborts. */
export async function runHumanEval(o: HumanEvalRunOptions): Promise<void> {
  if (!Number.isInteger(o.n) || o.n < 1) throw new InvalidArgumentError("n", `must be a positive integer (got ${o.n})`);
  if (o.strategies.length === 0) throw new InvalidArgumentError("strategies", "at least one strategy is needed");
  const names = o.strategies.map((s) => s.strategy.name);
  if (new Set(names).size !== names.length) throw new InvalidArgumentError("strategies", `listed twice: ${names.join(",")}`);
  const jobs = o.jobs ?? 2;
  const batchSize = o.batchSize ?? o.n;
  const pool = new Pool(jobs);
  const total = o.problems.length * o.strategies.length * o.n;
  const passed: Record<string, number> = Object.fromEntries(names.map((s) => [s, 0]));
  let done = 0;
  for (const p of o.problems) {
    for (const s of names) {
      for (let i = 0; i < o.n; i++) {
        const r = o.store.get(recordKey({ problem: p.name, strategy: s, sample: i }));
        if (r) {
          done++;
          if (r.status === "passed") passed[s]++;
        }
      }
    }
  }
  let added = 0;
  o.onProgress?.({ done, total, added, passed });

  const execute = (problem: HumanEvalProblem, strategy: string, sample: number, g: GenerationResult) => async () => {
    const completion = cutAtStop(g.text, problem.stopTokens);
    const ex = await runProgram(buildProgram(problem, completion), o.sandbox);
    const record: HumanEvalRecord = {
      problem: problem.name,
      strategy,
      sample,
      seed: g.seed,
      completion,
      status: ex.status,
      details: ex.details,
      tokens: g.tokens.length,
      finishReason: g.finishReason,
      acceptanceRate: g.acceptanceRate,
      executionMs: ex.durationMs,
    };
    o.store.add(record);
    done++;
    added++;
    if (record.status === "passed") passed[strategy]++;
    o.onProgress?.({ done, total, added, passed, last: record });
  };

  try {
    for (const problem of o.problems) {
      for (const decoding of o.strategies) {
        const strategy = decoding.strategy;
        const isDone = (i: number) => o.store.has(recordKey({ problem: problem.name, strategy: strategy.name, sample: i }));
        for (const { start, count } of missingBatches(isDone, o.n, batchSize)) {
          if (o.signal?.aborted || pool.failure) return;
          const results = await o.generate(problem.prompt, {
            decoding,
            n: count,
            seed: o.seed,
            firstSample: start,
            maxTokens: o.maxTokens,
            stop: problem.stopTokens,
            signal: o.signal,
          });
          if (o.signal?.aborted) return; // aborted generations are partial: not recorded
          if (results.length !== count) {
            throw new Error(`engine returned ${results.length} samples for ${problem.name}/${strategy.name}, expected ${count}`);
          }
          for (const g of results) {
            // The engine numbers samples absolutely (firstSample + i): that index is the pairing key.
            if (!(g.sample >= start && g.sample < start + count)) {
              throw new Error(`engine returned sample ${g.sample} for ${problem.name}/${strategy.name}, expected ${start}..${start + count - 1}`);
            }
            pool.submit(execute(problem, strategy.name, g.sample, g));
          }
          // Keep generating while programs run, but do not pile up more than a few batches.
          await pool.drainTo(Math.max(jobs * 4, batchSize));
        }
      }
    }
  } finally {
    await pool.drainTo(0);
  }
  if (pool.failure) throw pool.failure;
}
