// Pieces of OpenAI-shaped response bodies shared by both endpoints: ids, finish reasons, usage,
// and the `cosec` extension (strategy, acceptance rate, seed).
import { randomBytes } from "node:crypto";
import type { Vocabulary } from "../backend/types.ts";
import type { FinishReason, GenerationResult } from "../generate/types.ts";
import type { GenerationOutcome } from "./generation.ts";
import type { ResolvedRequest } from "./request-options.ts";

export function responseId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString("hex")}`;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** OpenAI knows "stop" (natural end or a stop string) and "length". */
export function openAiFinish(reason: FinishReason): "stop" | "length" {
  return reason === "length" ? "length" : "stop";
}

export function usage(outcome: GenerationOutcome) {
  return {
    prompt_tokens: outcome.promptTokens,
    completion_tokens: outcome.completionTokens,
    total_tokens: outcome.promptTokens + outcome.completionTokens,
  };
}

/** The response's co-decoding report. */
export function cosecReport(outcome: GenerationOutcome, request: ResolvedRequest) {
  return {
    strategy: request.strategy.name,
    acceptance_rate: outcome.acceptanceRate,
    seed: request.seed,
    ...(outcome.speculative
      ? {
          speculative: {
            rounds: outcome.speculative.rounds,
            drafted_tokens: outcome.speculative.drafted,
            accepted_drafts: outcome.speculative.acceptedDrafts,
            mean_accepted_run: outcome.speculative.meanAcceptedRun,
          },
        }
      : {}),
  };
}

/** Per-choice provenance: acceptance and where the tokens came from. */
export function choiceReport(r: GenerationResult) {
  const counts = { expert: 0, target: 0, mixed: 0 };
  for (const s of r.sources) counts[s]++;
  return { acceptance_rate: r.acceptanceRate, finish_reason: r.finishReason, tokens_by_source: counts };
}

const decoder = new TextDecoder("utf-8");

/** One token's text on its own (an incomplete UTF-8 piece shows as U+FFFD). */
export function tokenString(vocab: Vocabulary, token: number): string {
  return decoder.decode(vocab.tokenBytes(token));
}
