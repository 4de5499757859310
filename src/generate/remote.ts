// Co-decoding with a remote target: the security expert (a local GGUF, with its LoRA) beside a
// target served by vLLM or `cosec serve` (src/backend/remote-target.ts). The decoding rule is
// CoSec+'s reference mode, with the differences stated in src/decoding/remote.ts. It offers what
// `cosec serve` needs of an engine (src/server/deps.ts ServingEngine), so the server can stand in
// front of a remote target too: the vocabulary, tokenizer and FIM prompt are the expert's, which the
// target's matched at connect time.
import { LlamaBackend } from "../backend/llama-backend.ts";
import { RemoteTarget, type RemoteTargetOptions } from "../backend/remote-target.ts";
import type { ModelBackend, ModelInfo, Tokenizer, Vocabulary } from "../backend/types.ts";
import { emptyProfile, speculativeStats } from "../decoding/job.ts";
import { decodeRemote, remoteRuleProblem, type RemoteTiming } from "../decoding/remote.ts";
import { SampleState } from "../decoding/sample-state.ts";
import { StrategyError } from "../errors.ts";
import type { GenerationSummary } from "./engine.ts";
import { checkRequest, promptTokens } from "./request.ts";
import { fimPrompt, type FimInput } from "./fim.ts";
import type { EngineModelsOptions, GenerateOptions, GenerationResult } from "./types.ts";

/** The local expert's options as the engine's, and the remote target's. */
export interface RemoteEngineOptions extends Pick<EngineModelsOptions, "expertLora" | "expertLoraScale" | "gpu" | "contextSize" | "expertThreads" | "maxSequences"> {
  target: RemoteTargetOptions;
  expert: string;
}

/** A target as the server sees it (a local backend has these too); for the remote one, the expert's
 * vocabulary, tokenizer, slots and context. */
export interface RemoteTargetView {
  readonly vocab: Vocabulary;
  readonly tokenizer: Tokenizer;
  readonly info: Pick<ModelInfo, "contextSize">;
  readonly freeSequences: number;
}

export class RemoteEngine {
  readonly target: RemoteTargetView;
  /** What the model card shows: the target's URL and model, the expert's files. */
  readonly options: { target: string; expert: string; expertLora?: string };

  private constructor(
    readonly expert: ModelBackend,
    readonly remote: RemoteTarget,
    expertPath: string,
    expertLora: string | undefined,
  ) {
    this.target = {
      vocab: expert.vocab,
      tokenizer: expert.tokenizer,
      info: { contextSize: expert.info.contextSize },
      get freeSequences() {
        return expert.freeSequences;
      },
    };
    this.options = { target: `${remote.url} (${remote.model})`, expert: expertPath, ...(expertLora ? { expertLora } : {}) };
  }

  get tokenizer(): Tokenizer {
    return this.expert.tokenizer;
  }

  /** Loads the expert and connects to the target; every check (reachable, logprobs, vocabulary) happens here. */
  static async load(o: RemoteEngineOptions): Promise<RemoteEngine> {
    const expert = await LlamaBackend.load({
      path: o.expert,
      gpu: o.gpu,
      contextSize: o.contextSize,
      threads: o.expertThreads,
      maxSequences: o.maxSequences,
      lora: o.expertLora ? { path: o.expertLora, scale: o.expertLoraScale } : undefined,
    });
    try {
      return new RemoteEngine(expert, await RemoteTarget.connect(o.target, expert.vocab), o.expert, o.expertLora);
    } catch (err) {
      await expert.dispose();
      throw err;
    }
  }

  /** The fill-in-the-middle prompt from the FIM tokens of the vocabulary the target shares with the
   * expert; prefix first unless `input.order` says otherwise (the expert's training layout says nothing
   * of the remote target's). */
  fimPrompt(input: FimInput): number[] {
    return fimPrompt(this.expert.vocab, this.expert.tokenizer, input, `the remote target (${this.remote.url})`);
  }

  /** One sample, with the number of requests it took. */
  async generate(prompt: string | readonly number[], options: GenerateOptions = {}): Promise<{ result: GenerationResult; timing: RemoteTiming }> {
    const summary = await this.generateWithStats(prompt, options);
    return { result: summary.results[0], timing: summary.timing };
  }

  /**
   * `n` samples, one after the other (each its own rounds of requests), as Engine.generateWithStats
   * returns them. Only cosec-plus in reference mode exists with a remote target; no prompt cache.
   */
  async generateWithStats(prompt: string | readonly number[], options: GenerateOptions = {}): Promise<GenerationSummary & { timing: RemoteTiming }> {
    const { n, maxTokens, seed, decoding: d } = checkRequest(options, true);
    const problem = remoteRuleProblem(d);
    if (problem) throw new StrategyError(problem);
    const tokens = promptTokens(prompt, this.expert.tokenizer, options.addBos, this.expert.info.contextSize);
    const limits = { maxTokens, stop: options.stop ?? [], ignoreEos: options.ignoreEos };
    const total: RemoteTiming = { promptMs: 0, generateMs: 0, rounds: 0, drafted: 0, acceptedDrafts: 0, profile: emptyProfile(), cachedPromptTokens: 0, requests: 0 };
    const results: GenerationResult[] = [];
    for (let i = 0; i < n && !options.signal?.aborted; i++) {
      const sample = new SampleState((options.firstSample ?? 0) + i, seed, this.expert.vocab, limits, options.onToken);
      const timing = await decodeRemote({ decoding: d, expert: this.expert, remote: this.remote, sample, prompt: tokens, signal: options.signal });
      for (const k of ["generateMs", "rounds", "drafted", "acceptedDrafts", "requests"] as const) total[k] += timing[k];
      const generated = sample.tokens.length;
      results.push(
        sample.result(
          {
            promptTokens: tokens.length,
            cachedPromptTokens: 0,
            promptMs: 0,
            generatedTokens: generated,
            generateMs: timing.generateMs,
            promptTokensPerSecond: 0,
            tokensPerSecond: timing.generateMs > 0 ? (generated * 1000) / timing.generateMs : 0,
          },
          true,
        ),
      );
    }
    return { results, profile: total.profile, speculative: speculativeStats(total.rounds, total.drafted, total.acceptedDrafts), timing: total };
  }

  async dispose(): Promise<void> {
    await this.expert.dispose();
  }
}
