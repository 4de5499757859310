// POST /v1/completions: prompt(s) in, n completions each, as one JSON body or a stream of
// `text_completion` chunks ending with `data: [DONE]`.
import type { FastifyInstance } from "fastify";
import type { Vocabulary } from "../backend/types.ts";
import { FimUnsupportedError, type FimInput } from "../generate/fim.ts";
import type { PromptTokenLogprob } from "../generate/engine.ts";
import type { GenerationResult } from "../generate/types.ts";
import { answerCompletion } from "./completion-flow.ts";
import type { RouteDeps } from "./deps.ts";
import { badField, resolveRequest } from "./request-options.ts";
import { choiceReport, openAiFinish, tokenString } from "./responses.ts";
import { completionRequestSchema, type CompletionRequest } from "./schemas.ts";

/** A prompt given as token ids, each inside the vocabulary (a named 400 for the first that is not). */
export function checkedTokenIds(ids: number[], vocabSize: number): number[] {
  const i = ids.findIndex((t) => t >= vocabSize);
  if (i >= 0) throw badField(`prompt[${i}]`, `token id ${ids[i]} is outside the vocabulary (size ${vocabSize})`);
  return ids;
}

function prompts(p: CompletionRequest["prompt"], vocabSize: number): (string | number[])[] {
  if (typeof p === "string") return [p];
  if (p.every((x) => typeof x === "number")) return [checkedTokenIds(p as number[], vocabSize)];
  return p as string[];
}

/** With `suffix`: each prompt is the code before the cursor, filled in the middle (FIM). */
function fimPrompts(deps: RouteDeps, p: CompletionRequest["prompt"], suffix: string): number[][] {
  if (typeof p !== "string" && !p.every((x) => typeof x === "string")) throw badField("prompt", "must be text (not token ids) when suffix is given");
  const texts = typeof p === "string" ? [p] : (p as string[]);
  return texts.map((prefix) => fimOrRefuse(deps, { prefix, suffix }, "suffix"));
}

/** The engine's FIM prompt; a target without FIM tokens is a 400 naming `param`. */
export function fimOrRefuse(deps: RouteDeps, input: FimInput, param: string): number[] {
  try {
    const order = input.order ?? deps.context.config.fimOrder;
    return deps.engine.fimPrompt(order ? { ...input, order } : input);
  } catch (err) {
    if (err instanceof FimUnsupportedError) throw badField(param, err.message, "fim_unsupported");
    throw err;
  }
}

/** vLLM's shape of one prompt token's entry: {token_id: {logprob, rank, decoded_token}}, the token and the top ones. */
function vllmPromptLogprob(vocab: Vocabulary, p: PromptTokenLogprob): Record<string, { logprob: number; rank: number; decoded_token: string }> {
  const entry: Record<string, { logprob: number; rank: number; decoded_token: string }> = {};
  entry[String(p.token)] = { logprob: p.logprob, rank: p.rank, decoded_token: tokenString(vocab, p.token) };
  p.top.forEach((t, i) => (entry[String(t.token)] ??= { logprob: t.logprob, rank: i + 1, decoded_token: tokenString(vocab, t.token) }));
  return entry;
}

/** OpenAI's completion logprobs: the chosen tokens only (top alternatives are not computed). */
function logprobsOf(vocab: Vocabulary, r: GenerationResult, asIds: boolean) {
  const tokens = r.tokens.map((t) => (asIds ? `token_id:${t}` : tokenString(vocab, t)));
  const text_offset: number[] = [];
  let at = 0;
  for (const t of tokens) {
    text_offset.push(at);
    at += t.length;
  }
  return { tokens, token_logprobs: [...r.logprobs], top_logprobs: null, text_offset };
}

export function registerCompletions(app: FastifyInstance, deps: RouteDeps): void {
  app.post("/v1/completions", { schema: { body: completionRequestSchema } }, async (request, reply) => {
    const body = request.body as CompletionRequest;
    const resolved = resolveRequest(body, { value: body.max_tokens, field: "max_tokens" }, deps.context);
    if (body.echo) throw badField("echo", "is not supported (only false)", "unsupported_parameter");

    if (body.best_of !== undefined && body.best_of !== null && body.best_of !== resolved.n) {
      throw badField("best_of", `is not supported (only equal to n = ${resolved.n})`, "unsupported_parameter");
    }
    const promptLogprobs = body.prompt_logprobs ?? undefined;
    if (promptLogprobs !== undefined && resolved.stream) throw badField("prompt_logprobs", "is not supported with stream (ask without streaming)", "unsupported_parameter");
    if (promptLogprobs !== undefined && !deps.engine.promptLogprobs) {
      throw badField("prompt_logprobs", "needs the target's distributions, which a remote target keeps (ask the target's server)", "unsupported_parameter");
    }
    const vocab = deps.engine.target.vocab;
    const wantLogprobs = body.logprobs !== undefined && body.logprobs !== null;
    const asIds = body.return_tokens_as_token_ids === true;
    // Streamed logprobs carry each token's offset into its choice's text so far.
    const offsets = new Map<number, number>();

    return answerCompletion(deps, request, reply, {
      endpoint: "completions",
      promptField: "prompt",
      prompts: body.suffix === undefined || body.suffix === null ? prompts(body.prompt, vocab.size) : fimPrompts(deps, body.prompt, body.suffix),
      request: resolved,
      promptLogprobs,
      idPrefix: "cmpl",
      object: "text_completion",
      chunkObject: "text_completion",
      tokenChoice(index, e) {
        const withLogprob = wantLogprobs && e.token >= 0;
        if (!e.text && !withLogprob) return null;
        const at = offsets.get(index) ?? 0;
        const tok = withLogprob ? (asIds ? `token_id:${e.token}` : tokenString(vocab, e.token)) : "";
        offsets.set(index, at + tok.length);
        return {
          index,
          text: e.text,
          logprobs: withLogprob ? { tokens: [tok], token_logprobs: [e.logprob], top_logprobs: null, text_offset: [at] } : null,
          finish_reason: null,
        };
      },
      finishChoice: (c) => ({ index: c.index, text: "", logprobs: null, finish_reason: openAiFinish(c.result.finishReason), cosec: choiceReport(c.result) }),
      resultChoice: (c) => ({
        index: c.index,
        text: c.result.text,
        logprobs: wantLogprobs ? logprobsOf(vocab, c.result, asIds) : null,
        ...(c.promptLogprobs ? { prompt_logprobs: c.promptLogprobs.map((p) => (p ? vllmPromptLogprob(vocab, p) : null)) } : {}),
        finish_reason: openAiFinish(c.result.finishReason),
        cosec: choiceReport(c.result),
      }),
    });
  });
}
