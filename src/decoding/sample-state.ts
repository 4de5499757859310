// One sample's output as it grows: tokens with their provenance, text decoded incrementally from
// token bytes, and the end conditions (end-of-generation token, max tokens, stop strings). Both
// decoders append through `push`, so they end samples identically.
import type { Vocabulary } from "../backend/types.ts";
import type { FinishReason, GenerationResult, TokenEvent } from "../generate/types.ts";
import type { Choice, TokenSource } from "./types.ts";

export interface SampleLimits {
  maxTokens: number;
  stop: readonly string[];
  /** Keep generating past end-of-generation tokens (benchmarks that need a fixed length). */
  ignoreEos?: boolean;
}

export class SampleState {
  readonly tokens: number[] = [];
  readonly sources: TokenSource[] = [];
  readonly logprobs: number[] = [];
  finish: FinishReason | null = null;
  private text = "";
  /** Characters of `text` already streamed to the caller. */
  private emitted = 0;
  private readonly decoder = new TextDecoder("utf-8");
  private readonly longestStop: number;

  constructor(
    readonly sample: number,
    readonly seed: number,
    private readonly vocab: Vocabulary,
    private readonly limits: SampleLimits,
    private readonly onToken?: (e: TokenEvent) => void,
  ) {
    this.longestStop = limits.stop.reduce((m, s) => Math.max(m, s.length), 0);
    if (limits.maxTokens <= 0) this.finish = "length";
  }

  get done(): boolean {
    return this.finish !== null;
  }

  /** Tokens that may still be generated. */
  get remaining(): number {
    return this.limits.maxTokens - this.tokens.length;
  }

  /** The position of the next token (keys its random numbers). */
  get position(): number {
    return this.tokens.length;
  }

  /** Whether this token would end the sample by itself (an end-of-generation token). */
  endsOn(token: number): boolean {
    return !this.limits.ignoreEos && this.vocab.isEndOfGeneration(token);
  }

  /** Appends a chosen token; returns false when it ended the sample (then it is not to be evaluated). */
  push(choice: Choice): boolean {
    if (this.finish) throw new Error("push on a finished sample");
    if (this.endsOn(choice.token)) {
      this.end("eos");
      return false;
    }
    this.tokens.push(choice.token);
    this.sources.push(choice.source);
    this.logprobs.push(choice.logprob);
    const before = this.text.length;
    this.text += this.decoder.decode(this.vocab.tokenBytes(choice.token), { stream: true });
    const stopAt = this.findStop(before);
    if (stopAt >= 0) {
      this.text = this.text.slice(0, stopAt);
      this.emit(choice, this.text.length);
      this.end("stop");
      return false;
    }
    // Hold back a tail that could still grow into a stop string, so no part of a stop is streamed.
    this.emit(choice, this.text.length - this.heldBack());
    if (this.tokens.length >= this.limits.maxTokens) {
      this.end("length");
      return false;
    }
    return true;
  }

  end(reason: FinishReason): void {
    if (this.finish) return;
    if (reason !== "stop") {
      this.text += this.decoder.decode();
    }
    this.finish = reason;
    if (this.onToken && this.emitted < this.text.length) {
      this.onToken({ sample: this.sample, token: -1, text: this.text.slice(this.emitted), source: "target", logprob: 0 });
      this.emitted = this.text.length;
    }
  }

  private emit(choice: Choice, upTo: number): void {
    if (!this.onToken) return;
    const end = Math.max(this.emitted, upTo);
    const delta = this.text.slice(this.emitted, end);
    this.emitted = end;
    this.onToken({ sample: this.sample, token: choice.token, text: delta, source: choice.source, logprob: choice.logprob });
  }

  private findStop(before: number): number {
    if (this.longestStop === 0) return -1;
    const from = Math.max(0, before - this.longestStop + 1);
    let best = -1;
    for (const s of this.limits.stop) {
      if (!s) continue;
      const i = this.text.indexOf(s, from);
      if (i >= 0 && (best < 0 || i < best)) best = i;
    }
    return best;
  }

  private heldBack(): number {
    let hold = 0;
    for (const s of this.limits.stop) {
      for (let k = Math.min(s.length - 1, this.text.length); k > hold; k--) {
        if (this.text.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  }

  result(timing: GenerationResult["timing"], countsAcceptance: boolean): GenerationResult {
    const fromExpert = this.sources.filter((s) => s === "expert").length;
    return {
      sample: this.sample,
      seed: this.seed,
      text: this.text,
      tokens: [...this.tokens],
      sources: [...this.sources],
      logprobs: [...this.logprobs],
      finishReason: this.finish ?? "length",
      acceptanceRate: countsAcceptance && this.tokens.length > 0 ? fromExpert / this.tokens.length : null,
      timing,
    };
  }
}
