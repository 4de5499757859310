// What both schedules of the decoding loop share: the job, its timing, the per-sample KV caches,
// and the decision of one position by the strategy's `choose`, keyed by (seed, sample, position).
import type { EvaluationOptions, ModelBackend, ModelSequence } from "../backend/types.ts";
import { positionRng } from "./rng.ts";
import type { Reused, PromptCache } from "./prompt-cache.ts";
import type { SampleState } from "./sample-state.ts";
import type { Choice, ModelLogits, ModelRole, Proposal, Strategy } from "./types.ts";

export interface DecodeJob {
  strategy: Strategy;
  models: Partial<Record<ModelRole, ModelBackend>>;
  samples: SampleState[];
  prompt: readonly number[];
  signal?: AbortSignal;
  /** KV caches kept across generations (single-sample jobs take and leave them). */
  promptCache?: PromptCache;
}

export interface DecodeTiming {
  promptMs: number;
  generateMs: number;
  /** Speculative rounds and drafted/accepted draft tokens (zero for sequential). */
  rounds: number;
  drafted: number;
  acceptedDrafts: number;
  profile: DecodeProfile;
  /** Prompt tokens taken from the prompt cache instead of evaluated. */
  cachedPromptTokens: number;
}

/** Speculative statistics of one or more generations' rounds. */
export function speculativeStats(rounds: number, drafted: number, acceptedDrafts: number) {
  return { rounds, drafted, acceptedDrafts, meanAcceptedRun: rounds > 0 ? acceptedDrafts / rounds : 0 };
}

/**
 * Where the time of the steps (sequential) or rounds (speculative) after the prompt's went, summed:
 * what the speed work reads. `totalMs` minus the parts is scheduling, JS↔native crossings and GC.
 */
export interface DecodeProfile {
  steps: number;
  totalMs: number;
  /** Wall time in model passes (models side by side count once). */
  modelMs: number;
  /** Of modelMs, the expert's drafting passes (speculative). */
  draftMs: number;
  /** Choosing tokens: proposals, decisions, stop checks and the token callbacks. */
  decideMs: number;
  /** Rolling KV caches back to the last kept draft. */
  rollbackMs: number;
}

export const emptyProfile = (): DecodeProfile => ({ steps: 0, totalMs: 0, modelMs: 0, draftMs: 0, decideMs: 0, rollbackMs: 0 });

/** One batched evaluation item: sample index, new tokens, how many trailing logits to return. */
export interface EvalItem {
  i: number;
  tokens: readonly number[];
  last: number;
}

/** Per model role, one KV cache per sample. */
export class Caches {
  readonly seqs = new Map<ModelRole, ModelSequence[]>();
  /** Prompt tokens already in sample 0's caches (taken from the prompt cache). */
  readonly cachedPromptTokens: number;

  private constructor(
    readonly job: DecodeJob,
    readonly roles: readonly ModelRole[],
    reused: Reused | null,
  ) {
    this.cachedPromptTokens = reused?.start ?? 0;
    for (const role of roles) {
      const backend = job.models[role];
      if (!backend) throw new Error(`strategy ${job.strategy.name} needs the ${role} model, which is not loaded`);
      const list: ModelSequence[] = [];
      try {
        for (let i = 0; i < job.samples.length; i++) list.push(i === 0 && reused ? reused.seqs.get(role)! : backend.newSequence());
      } catch (err) {
        for (const s of list) void s.dispose();
        void this.dispose();
        throw err;
      }
      this.seqs.set(role, list);
    }
  }

  /** The caches of a job: a single-sample job starts from the prompt cache where it shares a prefix. */
  static async open(job: DecodeJob, roles: readonly ModelRole[]): Promise<Caches> {
    const reused = job.promptCache && job.samples.length === 1 ? await job.promptCache.take(roles, job.prompt) : null;
    return new Caches(job, roles, reused);
  }

  /** What sample i still has to evaluate of the prompt. */
  promptTail(i: number): readonly number[] {
    return i === 0 && this.cachedPromptTokens > 0 ? this.job.prompt.slice(this.cachedPromptTokens) : this.job.prompt;
  }

  /** Frees every cache, or (`keep`, a single-sample job that ended cleanly) leaves them to the prompt cache. */
  async close(keep: boolean): Promise<void> {
    if (keep && this.job.promptCache && this.job.samples.length === 1) {
      const seqs = new Map([...this.seqs].map(([role, list]) => [role, list[0]] as const));
      this.seqs.clear();
      await this.job.promptCache.keep(seqs);
      return;
    }
    await this.dispose();
  }

  seq(role: ModelRole, i: number): ModelSequence {
    return this.seqs.get(role)![i];
  }

  /**
   * Evaluates the items on the models side by side: every pass but the largest model's is handed to
   * a worker thread first, and the largest (or a lone model's) runs last, on this thread where it is
   * short enough (`onThread`: this thread has nothing else to do meanwhile). Short passes otherwise all
   * run on this thread one after the other: on 2 cores the demo pair's one-token steps went
   * target 0.67 + expert 0.17 ms in a row, where side by side they take the target's alone.
   */
  async evaluateSideBySide(roles: readonly ModelRole[], items: readonly EvalItem[], onThread: EvaluationOptions): Promise<Float32Array[][][]> {
    if (roles.length === 0) return []; // a rule that reads the expert alone has nothing to score
    const largest = roles.reduce((a, b) => (this.job.models[b]!.info.parameterCount > this.job.models[a]!.info.parameterCount ? b : a));
    const passes = new Map<ModelRole, Promise<Float32Array[][]>>();
    for (const role of roles) if (role !== largest) passes.set(role, this.evaluate(role, items, { offThread: true }));
    passes.set(largest, this.evaluate(largest, items, onThread));
    return Promise.all(roles.map((role) => passes.get(role)!));
  }

  /** Evaluates the items on one model in one batch. */
  async evaluate(role: ModelRole, items: readonly EvalItem[], options?: EvaluationOptions): Promise<Float32Array[][]> {
    if (items.length === 0) return [];
    return this.job.models[role]!.evaluateBatch(
      items.map((it) => ({ sequence: this.seq(role, it.i), tokens: it.tokens, logitsFor: it.last })),
      options,
    );
  }

  /** True when `extra` more tokens still fit every cache of sample i. */
  fits(i: number, extra: number): boolean {
    for (const role of this.roles) {
      if (this.seq(role, i).length + extra > this.job.models[role]!.info.contextSize) return false;
    }
    return true;
  }

  async truncate(i: number, length: number): Promise<void> {
    for (const role of this.roles) {
      const s = this.seq(role, i);
      if (s.length > length) await s.truncate(length);
    }
  }

  async dispose(): Promise<void> {
    const all = [...this.seqs.values()].flat();
    this.seqs.clear();
    await Promise.all(all.map((s) => s.dispose()));
  }
}

/**
 * The loop of both schedules: `step` gets the samples still generating whose pending tokens (per
 * sample, what its caches have yet to evaluate) fit their caches (the others end on "length") and
 * the step's start time, until none is left, the caller aborts or `step` returns false. A job that
 * ended without an error leaves its caches to the prompt cache: a KV cache is valid for the tokens
 * it holds, however they were chosen (also drafts of a round cut by an abort).
 */
export async function runSteps(
  job: DecodeJob,
  caches: Caches,
  step: (active: number[], pending: (readonly number[])[], begin: number) => Promise<boolean>,
): Promise<void> {
  const pending: (readonly number[])[] = job.samples.map((_, i) => caches.promptTail(i));
  let clean = false;
  try {
    for (;;) {
      const begin = performance.now();
      // Lets the event loop run once when the caller can abort. Passes short enough to run on this
      // thread settle as microtasks, so without it a loop of them never reaches the poll phase: a
      // client's disconnect (and the streamed tokens' writes) would wait for the whole generation.
      if (job.signal) await new Promise<void>((resolve) => setImmediate(resolve));
      const active: number[] = [];
      if (!aborted(job)) {
        for (let i = 0; i < job.samples.length; i++) {
          if (job.samples[i].done) continue;
          if (!caches.fits(i, pending[i].length)) job.samples[i].end("length");
          else active.push(i);
        }
      }
      if (active.length === 0 || !(await step(active, pending, begin))) break;
    }
    clean = true;
  } finally {
    await caches.close(clean);
  }
}

/** True (and every sample ended) once the caller's signal has aborted. */
export function aborted(job: DecodeJob): boolean {
  if (!job.signal?.aborted) return false;
  for (const s of job.samples) if (!s.done) s.end("aborted");
  return true;
}

/** The strategy's choice at sample i's next position (keyed by its seed, sample and position). */
export function decide(job: DecodeJob, i: number, logits: ModelLogits, proposal?: Proposal): Choice {
  const s = job.samples[i];
  return job.strategy.choose(logits, positionRng(s.seed, s.sample, s.position), proposal);
}
