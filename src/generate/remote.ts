// Co-decoding with a remote target: the security expert (a local GGUF, with its LoRA) beside a
// target served by vLLM or `cosec serve` (src/backend/remote-target.ts). The decoding rule is
// CoSec+'s reference mode, with the differences stated in src/decoding/remote.ts.
import { LlamaBackend } from "../backend/llama-backend.ts";
import { RemoteTarget, type RemoteTargetOptions } from "../backend/remote-target.ts";
import type { ModelBackend } from "../backend/types.ts";
import { decodeRemote, type RemoteTiming } from "../decoding/remote.ts";
import { SampleState } from "../decoding/sample-state.ts";
import { isDecodingSettings, resolveDecodingSettings } from "../decoding/settings.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { EngineModelsOptions, GenerateOptions, GenerationResult } from "./types.ts";

/** The local expert's options as the engine's, and the remote target's. */
export interface RemoteEngineOptions extends Pick<EngineModelsOptions, "expertLora" | "expertLoraScale" | "gpu" | "contextSize" | "expertThreads"> {
  target: RemoteTargetOptions;
  expert: string;
}

export type RemoteGenerateOptions = Pick<GenerateOptions, "decoding" | "maxTokens" | "seed" | "stop" | "signal" | "onToken">;

export class RemoteEngine {
  private constructor(
    readonly expert: ModelBackend,
    readonly target: RemoteTarget,
  ) {}

  /** Loads the expert and connects to the target; every check (reachable, logprobs, vocabulary) happens here. */
  static async load(o: RemoteEngineOptions): Promise<RemoteEngine> {
    const expert = await LlamaBackend.load({
      path: o.expert,
      gpu: o.gpu,
      contextSize: o.contextSize,
      threads: o.expertThreads,
      lora: o.expertLora ? { path: o.expertLora, scale: o.expertLoraScale } : undefined,
    });
    try {
      return new RemoteEngine(expert, await RemoteTarget.connect(o.target, expert.vocab));
    } catch (err) {
      await expert.dispose();
      throw err;
    }
  }

  async generate(prompt: string | readonly number[], options: RemoteGenerateOptions = {}): Promise<{ result: GenerationResult; timing: RemoteTiming }> {
    const d = isDecodingSettings(options.decoding) ? options.decoding : resolveDecodingSettings(options.decoding ?? {}, { hasExpert: true });
    if (d.strategy.name !== "cosec-plus" || d.mode !== "reference") {
      throw new InvalidArgumentError("strategy", `a remote target co-decodes with cosec-plus in reference mode only, got ${d.strategy.name}${d.strategy.name === "cosec-plus" ? ` (${d.mode})` : ""}`);
    }
    const tokens = typeof prompt === "string" ? this.expert.tokenizer.tokenize(prompt) : [...prompt];
    const seed = options.seed ?? 0;
    const sample = new SampleState(0, seed, this.expert.vocab, { maxTokens: options.maxTokens ?? 256, stop: options.stop ?? [] }, options.onToken);
    const timing = await decodeRemote({ decoding: d, expert: this.expert, remote: this.target, sample, prompt: tokens, signal: options.signal });
    const n = sample.tokens.length;
    const result = sample.result(
      {
        promptTokens: tokens.length,
        cachedPromptTokens: 0,
        promptMs: 0,
        generatedTokens: n,
        generateMs: timing.generateMs,
        promptTokensPerSecond: 0,
        tokensPerSecond: timing.generateMs > 0 ? (n * 1000) / timing.generateMs : 0,
      },
      true,
    );
    return { result, timing };
  }

  async dispose(): Promise<void> {
    await this.expert.dispose();
  }
}
