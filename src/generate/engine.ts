// The engine: a target and optional expert (with its LoRA, and the expert base for proxy-tuning),
// checked to share one vocabulary, and `generate`, the only generation loop in the project.
import { defaultThreads, LlamaBackend } from "../backend/llama-backend.ts";
import { getRuntime } from "../backend/native-addon.ts";
import type { ModelBackend, Tokenizer } from "../backend/types.ts";
import { assertSameVocabulary } from "../backend/vocabulary-check.ts";
import { PairCores } from "../decoding/core-sharing.ts";
import { speculativeStats, type DecodeProfile, type DecodeTiming } from "../decoding/job.ts";
import { fimPrompt, type FimInput, type FimOrder } from "./fim.ts";
import { logSumExp } from "../decoding/warpers.ts";
import { PromptCache } from "../decoding/prompt-cache.ts";
import { decodeSequential } from "../decoding/sequential.ts";
import { decodeSpeculative } from "../decoding/speculative/decode.ts";
import { SpeculationCosts } from "../decoding/draft-length.ts";
import { SampleState } from "../decoding/sample-state.ts";
import type { ModelRole } from "../decoding/types.ts";
import { InvalidArgumentError, StrategyError } from "../errors.ts";
import type { EngineModelsOptions, GenerateOptions, GenerationResult } from "./types.ts";
import { checkRequest, promptTokens as checkedPrompt, tooLong } from "./request.ts";

export { DEFAULT_MAX_TOKENS } from "./request.ts";

/**
 * Threads per model when not given. The target and the expert decode concurrently, so they split
 * the physical cores (the expert takes a quarter, at least one) rather than both claiming all:
 * llama.cpp's threads spin, and oversubscribed cores make a token ~70x slower (measured).
 */
async function defaultPairThreads(o: EngineModelsOptions): Promise<{ target: number; expert?: number }> {
  const cores = (await getRuntime(o.gpu ?? "auto")).mathCores;
  if (!o.expert) return { target: o.targetThreads ?? defaultThreads(cores) };
  const expert = o.expertThreads ?? Math.max(1, Math.floor(cores / 4));
  return { target: o.targetThreads ?? Math.max(1, cores - expert), expert };
}

export interface GenerationSummary {
  results: GenerationResult[];
  /** Speculative statistics when `speculative` was on. */
  speculative?: ReturnType<typeof speculativeStats>;
  /** Where the decoding time went (steps or rounds after the prompt's). */
  profile: DecodeProfile;
}

/** A prompt token's log-probability given the tokens before it (raw target distribution). */
export interface PromptTokenLogprob {
  token: number;
  logprob: number;
  /** 1 + the number of tokens more probable there. */
  rank: number;
  top: { token: number; logprob: number }[];
}

const PROMPT_LOGPROB_CHUNK = 64;

function tokenLogprob(row: Float32Array, token: number, top: number): PromptTokenLogprob {
  const lse = logSumExp(row);
  const v = row[token];
  let rank = 1;
  for (let i = 0; i < row.length; i++) if (row[i] > v) rank++;
  const best: { token: number; logprob: number }[] = [];
  if (top > 0) {
    const ids = Array.from(row.keys()).sort((x, y) => row[y] - row[x] || x - y).slice(0, top);
    for (const t of ids) best.push({ token: t, logprob: row[t] - lse });
  }
  return { token, logprob: v - lse, rank, top: best };
}

export class Engine {
  private expertBaseLoading: Promise<ModelBackend> | null = null;
  /** Measured draft and verification costs of this pair, which choose speculative draft lengths. */
  readonly speculationCosts = new SpeculationCosts();
  /** KV caches kept across generations (EngineModelsOptions.promptCache). */
  readonly promptCache: PromptCache | undefined;

  private constructor(
    readonly options: EngineModelsOptions,
    readonly target: ModelBackend,
    readonly expert: ModelBackend | undefined,
    /** How the pair shares the CPU cores. */
    readonly cores: PairCores,
  ) {
    this.promptCache = options.promptCache ? new PromptCache() : undefined;
  }

  static async load(options: EngineModelsOptions): Promise<Engine> {
    // The prompt cache holds one sequence per model besides the parallel ones.
    const maxSequences = options.promptCache ? (options.maxSequences ?? 1) + 1 : options.maxSequences;
    const common = { gpu: options.gpu, contextSize: options.contextSize, maxSequences, kvCache: options.kvCache };
    const threads = await defaultPairThreads(options);
    // A model working while the other waits may use the pair's cores (see core-sharing.ts).
    const solo = options.soloThreads ?? threads.target + (threads.expert ?? 0);
    const target = await LlamaBackend.load({ ...common, path: options.target, threads: threads.target, maxThreads: solo });
    let expert: ModelBackend | undefined;
    if (options.expert) {
      try {
        expert = await LlamaBackend.load({
          ...common,
          path: options.expert,
          threads: threads.expert,
          lora: options.expertLora ? { path: options.expertLora, scale: options.expertLoraScale } : undefined,
        });
        assertSameVocabulary(target.vocab, expert.vocab, [`target ${options.target}`, `expert ${options.expert}`]);
      } catch (err) {
        await expert?.dispose();
        await target.dispose();
        throw err;
      }
    } else if (options.expertLora) {
      await target.dispose();
      throw new InvalidArgumentError("expertLora", "an expert LoRA needs an expert model (--expert)");
    }
    return new Engine(options, target, expert, new PairCores(solo, threads.target, options.schedule ?? "auto"));
  }

  /** An engine over backends made elsewhere (another inference engine, a test's): vocabularies checked, no core lending. */
  static fromBackends(models: { target: ModelBackend; expert?: ModelBackend; expertBase?: ModelBackend }, options: { promptCache?: boolean } = {}): Engine {
    const { target, expert, expertBase } = models;
    for (const [role, b] of [["expert", expert], ["expert base", expertBase]] as const) {
      if (b) assertSameVocabulary(target.vocab, b.vocab, [`target ${target.info.path}`, `${role} ${b.info.path}`]);
    }
    const paths = { target: target.info.path, expert: expert?.info.path, expertBase: expertBase?.info.path };
    const engine = new Engine({ ...paths, promptCache: options.promptCache }, target, expert, new PairCores(1, 1, "overlap"));
    if (expertBase) engine.expertBaseLoading = Promise.resolve(expertBase);
    return engine;
  }

  get tokenizer(): Tokenizer {
    return this.target.tokenizer;
  }

  /** The expert without its adapter (proxy-tuning's "base"), loaded on first use. */
  private expertBase(): Promise<ModelBackend> {
    if (!this.expertBaseLoading) {
      const path = this.options.expertBase ?? this.options.expert;
      if (!path) return Promise.reject(new StrategyError("proxy needs an expert model"));
      if (!this.options.expertBase && !this.options.expertLora) {
        return Promise.reject(new StrategyError("proxy needs an expert with a LoRA adapter (--expert-lora) or a separate --expert-base"));
      }
      this.expertBaseLoading = LlamaBackend.load({
        path,
        gpu: this.options.gpu,
        contextSize: this.options.contextSize,
        maxSequences: this.options.maxSequences,
        kvCache: this.options.kvCache,
        threads: this.options.expertThreads ?? 1,
      }).then((b) => {
        assertSameVocabulary(this.target.vocab, b.vocab, [`target ${this.options.target}`, `expert base ${path}`]);
        return b;
      });
    }
    return this.expertBaseLoading;
  }

  /**
   * The fill-in-the-middle prompt for `input`, from the target's FIM tokens (the expert shares its
   * vocabulary), laid out as `input.order` says, else as the target was trained (its GGUF's
   * cosec.fim.order), else prefix first; pass it to generate. FimUnsupportedError when the target has none.
   */
  fimPrompt(input: FimInput): number[] {
    return fimPrompt(this.target.vocab, this.target.tokenizer, { ...input, order: input.order ?? this.fimOrder }, `the target model (${this.options.target})`);
  }

  /** The layout of fills that name none: the target's trained one (its GGUF's cosec.fim.order), else psm. */
  get fimOrder(): FimOrder {
    return this.target.info.fimOrder ?? "psm";
  }

  /**
   * Each prompt token's log-probability under the target's raw distribution (temperature 1, no
   * truncation) given the tokens before it, with its rank and the `top` most probable tokens there;
   * null for the first token (vLLM's `prompt_logprobs` in its raw-logprobs mode). Evaluated in chunks,
   * so a long prompt over a large vocabulary needs no row per token at once. Takes one sequence slot.
   */
  async promptLogprobs(prompt: readonly number[], top = 0): Promise<(PromptTokenLogprob | null)[]> {
    const context = this.target.info.contextSize;
    if (prompt.length > context) throw tooLong(prompt.length, context);
    const seq = this.target.newSequence();
    const out: (PromptTokenLogprob | null)[] = [null];
    try {
      for (let a = 0; a < prompt.length - 1; a += PROMPT_LOGPROB_CHUNK) {
        const b = Math.min(prompt.length - 1, a + PROMPT_LOGPROB_CHUNK);
        const rows = await seq.evaluate(prompt.slice(a, b), "all");
        rows.forEach((row, k) => out.push(tokenLogprob(row, prompt[a + k + 1], top)));
      }
    } finally {
      await seq.dispose();
    }
    return out;
  }

  async generate(prompt: string | readonly number[], options: GenerateOptions = {}): Promise<GenerationResult[]> {
    return (await this.generateWithStats(prompt, options)).results;
  }

  async generateWithStats(prompt: string | readonly number[], options: GenerateOptions = {}): Promise<GenerationSummary> {
    const { n, maxTokens, seed, decoding: d } = checkRequest(options, this.expert !== undefined);
    const { strategy } = d;
    const models: Partial<Record<ModelRole, ModelBackend>> = { target: this.target, expert: this.expert };
    if (strategy.models.includes("expertBase")) models.expertBase = await this.expertBase();
    for (const role of strategy.models) {
      if (!models[role]) throw new StrategyError(`strategy ${strategy.name} needs the ${role} model (pass --expert)`);
    }
    const context = Math.min(...strategy.models.map((r) => models[r]!.info.contextSize));
    const promptTokens = checkedPrompt(prompt, this.tokenizer, options.addBos, context);
    const firstSample = options.firstSample ?? 0;
    const samples = Array.from(
      { length: n },
      (_, i) =>
        new SampleState(firstSample + i, seed, this.target.vocab, { maxTokens, stop: options.stop ?? [], ignoreEos: options.ignoreEos }, options.onToken),
    );
    const promptCache = options.cachePrompt === false ? undefined : this.promptCache;
    const job = { strategy, models, samples, prompt: promptTokens, signal: options.signal, promptCache };
    let timing: DecodeTiming;
    const spec = d.speculative;
    if (spec) {
      if (!this.expert) throw new StrategyError("speculative decoding needs an expert model to draft with");
      timing = await this.cores.run(() => decodeSpeculative(job, d, this.speculationCosts, this.cores));
    } else {
      timing = await this.cores.run(() => decodeSequential(job, this.cores));
    }
    const generated = samples.reduce((a, s) => a + s.tokens.length, 0);
    const perSample = {
      promptTokens: promptTokens.length,
      cachedPromptTokens: timing.cachedPromptTokens,
      promptMs: timing.promptMs,
      generatedTokens: 0,
      generateMs: timing.generateMs,
      promptTokensPerSecond: timing.promptMs > 0 ? (promptTokens.length * n * 1000) / timing.promptMs : 0,
      tokensPerSecond: timing.generateMs > 0 ? (generated * 1000) / timing.generateMs : 0,
    };
    const countsAcceptance = strategy.name === "cosec-plus" || strategy.name === "expert";
    const results = samples.map((s) => s.result({ ...perSample, generatedTokens: s.tokens.length }, countsAcceptance));
    return {
      results,
      profile: timing.profile,
      ...(spec ? { speculative: speculativeStats(timing.rounds, timing.drafted, timing.acceptedDrafts) } : {}),
    };
  }

  async dispose(): Promise<void> {
    const base = this.expertBaseLoading ? await this.expertBaseLoading.catch(() => null) : null;
    await base?.dispose();
    await this.promptCache?.dispose();
    await this.expert?.dispose();
    await this.target.dispose();
  }
}
