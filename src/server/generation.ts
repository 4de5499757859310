// Runs one API request through the scheduler and the engine: waits for sequence slots, generates
// each prompt's n samples (streaming token events to the caller), records metrics, and always
// returns its slots — also when the client disconnects (the signal aborts the decode loop).
import { setImmediate as nextTurn } from "node:timers/promises";
import { ApiRequestError, ContextOverflowError } from "../errors.ts";
import { speculativeStats } from "../decoding/job.ts";
import type { GenerationSummary, PromptTokenLogprob } from "../generate/engine.ts";
import type { GenerationResult, TokenEvent } from "../generate/types.ts";
import type { ServingEngine } from "./deps.ts";
import type { ServerMetrics } from "./metrics.ts";
import type { ResolvedRequest } from "./request-options.ts";
import type { Scheduler } from "./scheduler.ts";

export interface GenerationJob {
  /** Metrics label ("completions", "chat", "infill"). */
  endpoint: string;
  /** The request field holding the prompt ("prompt" or "messages"), named in errors about it. */
  promptField: string;
  prompts: (string | readonly number[])[];
  request: ResolvedRequest;
  signal: AbortSignal;
  /** performance.now() when the request arrived (latency metrics start there). */
  arrivedAt: number;
  /** Token events; `choice` = prompt index × n + sample. */
  onToken?: (choice: number, event: TokenEvent) => void;
  /** Also score each prompt's tokens (vLLM's prompt_logprobs), with this many top tokens each. */
  promptLogprobs?: number;
}

export interface GeneratedChoice {
  index: number;
  result: GenerationResult;
  /** Its prompt's token log-probabilities, when asked for. */
  promptLogprobs?: (PromptTokenLogprob | null)[];
}

export interface GenerationOutcome {
  choices: GeneratedChoice[];
  promptTokens: number;
  completionTokens: number;
  /** Expert-kept tokens over all tokens of samples where acceptance applies; null elsewhere. */
  acceptanceRate: number | null;
  speculative?: GenerationSummary["speculative"];
}

const SLOT_WAIT_MS = 10_000;

export class GenerationService {
  constructor(
    private readonly engine: ServingEngine,
    private readonly scheduler: Scheduler,
    private readonly metrics: ServerMetrics,
  ) {}

  async run(job: GenerationJob): Promise<GenerationOutcome> {
    const { n } = job.request;
    const lease = await this.scheduler.acquire(n, job.signal);
    this.metrics.queueWait.observe((performance.now() - job.arrivedAt) / 1000);
    const choices: GeneratedChoice[] = [];
    let promptTokens = 0;
    let speculative: GenerationSummary["speculative"];
    let first: number | null = null;
    const perChoice = new Map<number, { first: number; last: number; count: number }>();
    try {
      for (let p = 0; p < job.prompts.length; p++) {
        if (job.signal.aborted) break;
        await this.slotsReleased(n);
        const summary = await this.engine.generateWithStats(job.prompts[p], {
          ...job.request.generate,
          n,
          signal: job.signal,
          onToken: (event) => {
            const index = p * n + event.sample;
            if (event.token >= 0) {
              if (job.signal.aborted) this.metrics.tokensAfterAbort.inc();
              const now = performance.now();
              first ??= now;
              const c = perChoice.get(index);
              if (c) {
                c.last = now;
                c.count++;
              } else perChoice.set(index, { first: now, last: now, count: 1 });
            }
            job.onToken?.(index, event);
          },
        });
        const pt = summary.results[0]?.timing.promptTokens ?? 0;
        promptTokens += pt;
        this.metrics.recordResults(summary.results, pt);
        let scored: (PromptTokenLogprob | null)[] | undefined;
        if (job.promptLogprobs !== undefined && this.engine.promptLogprobs && !job.signal.aborted) {
          await this.slotsReleased(1);
          const prompt = job.prompts[p];
          scored = await this.engine.promptLogprobs(typeof prompt === "string" ? this.engine.tokenizer.tokenize(prompt) : prompt, job.promptLogprobs);
        }
        for (const result of summary.results) choices.push({ index: p * n + result.sample, result, ...(scored ? { promptLogprobs: scored } : {}) });
        if (summary.speculative) speculative = mergeSpeculative(speculative, summary.speculative);
      }
    } catch (err) {
      if (err instanceof ContextOverflowError) {
        throw new ApiRequestError(400, `${job.promptField}: ${err.message}`, job.promptField, "context_length_exceeded");
      }
      throw err;
    } finally {
      lease.release();
    }
    if (first !== null) this.metrics.timeToFirstToken.observe({ endpoint: job.endpoint }, (first - job.arrivedAt) / 1000);
    for (const c of perChoice.values()) {
      if (c.count > 1) this.metrics.timePerOutputToken.observe({ endpoint: job.endpoint }, (c.last - c.first) / (c.count - 1) / 1000);
    }
    return {
      choices,
      promptTokens,
      completionTokens: choices.reduce((a, c) => a + c.result.tokens.length, 0),
      acceptanceRate: pooledAcceptance(choices.map((c) => c.result)),
      ...(speculative ? { speculative } : {}),
    };
  }

  /**
   * The scheduler's accounting frees slots when a generation returns; the backend hands its KV
   * slots back through its own work queue a moment later. Wait for that before the next generate.
   */
  private async slotsReleased(n: number): Promise<void> {
    const deadline = performance.now() + SLOT_WAIT_MS;
    const backends = [this.engine.target, this.engine.expert].filter((b) => b !== undefined);
    while (backends.some((b) => b.freeSequences < n)) {
      if (performance.now() > deadline) {
        throw new ApiRequestError(503, "sequence slots were not released in time; retry", null, "slots_unavailable", "server_error");
      }
      await nextTurn();
    }
  }
}

export function pooledAcceptance(results: readonly GenerationResult[]): number | null {
  let kept = 0;
  let total = 0;
  for (const r of results) {
    if (r.acceptanceRate === null) continue;
    kept += r.acceptanceRate * r.tokens.length;
    total += r.tokens.length;
  }
  if (total === 0) return results.some((r) => r.acceptanceRate !== null) ? 0 : null;
  return kept / total;
}

function mergeSpeculative(
  a: GenerationSummary["speculative"],
  b: NonNullable<GenerationSummary["speculative"]>,
): NonNullable<GenerationSummary["speculative"]> {
  return a ? speculativeStats(a.rounds + b.rounds, a.drafted + b.drafted, a.acceptedDrafts + b.acceptedDrafts) : b;
}
