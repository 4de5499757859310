// llama-server's native endpoints, so editors built for llama.cpp complete through cosec unchanged:
// POST /infill (llama.vscode), whose prompt is the target's FIM layout of input_extra, input_prefix,
// input_suffix and the typed `prompt` (src/generate/fim.ts), and POST /completion (Continue's
// llama.cpp provider, which applies the model's FIM template itself), whose text prompt is tokenized
// with special-token text read as those tokens, as llama-server does. Both answer in llama.cpp's
// shape: `content` plus its counters and timings, as one JSON body or as `data: {...}` events, the
// last with `stop: true`, and a `cosec` report.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { FinishReason, GenerationResult } from "../generate/types.ts";
import { generateAndAnswer } from "./completion-flow.ts";
import { checkedTokenIds, fimOrRefuse } from "./completions.ts";
import type { RouteDeps } from "./deps.ts";
import { choiceReport, cosecReport } from "./responses.ts";
import { resolveRequest } from "./request-options.ts";
import { infillRequestSchema, llamaCompletionRequestSchema, type CommonRequest, type InfillRequest, type LlamaCompletionRequest, type LlamaCppRequest } from "./schemas.ts";
import { SseStream } from "./sse.ts";

/** llama.cpp's stop_type. */
function stopType(reason: FinishReason): "eos" | "word" | "limit" | "none" {
  return reason === "eos" ? "eos" : reason === "stop" ? "word" : reason === "length" ? "limit" : "none";
}

function timings(r: GenerationResult) {
  const t = r.timing;
  return {
    prompt_n: t.promptTokens,
    prompt_ms: t.promptMs,
    prompt_per_second: t.promptTokensPerSecond,
    predicted_n: t.generatedTokens,
    predicted_ms: t.generateMs,
    predicted_per_second: t.tokensPerSecond,
  };
}

/** /completion's prompt as token ids: text with special tokens parsed, or ids checked against the vocabulary. */
function completionPrompt(deps: RouteDeps, prompt: string | number[]): number[] {
  if (typeof prompt === "string") return deps.engine.target.tokenizer.tokenize(prompt, { parseSpecial: true });
  return checkedTokenIds(prompt, deps.engine.target.vocab.size);
}

export function registerLlamaCpp(app: FastifyInstance, deps: RouteDeps): void {
  app.post("/infill", { schema: { body: infillRequestSchema } }, async (request, reply) => {
    const body = request.body as InfillRequest;
    const extra = (body.input_extra ?? []).map((c) => ({ filename: c.filename ?? "", text: c.text }));
    const prompt = fimOrRefuse(deps, { prefix: body.input_prefix ?? "", suffix: body.input_suffix ?? "", middle: body.prompt ?? "", extra }, "input_prefix");
    return answer(deps, request, reply, body, prompt, { endpoint: "infill", promptField: "input_prefix" });
  });
  app.post("/completion", { schema: { body: llamaCompletionRequestSchema } }, async (request, reply) => {
    const body = request.body as LlamaCompletionRequest;
    return answer(deps, request, reply, body, completionPrompt(deps, body.prompt), { endpoint: "completion", promptField: "prompt" });
  });
}

/** Generates for one llama.cpp request whose prompt is already tokens, and answers in llama.cpp's shape. */
async function answer(
  deps: RouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  body: LlamaCppRequest,
  prompt: number[],
  route: { endpoint: string; promptField: string },
) {
  // The request in the shape every endpoint resolves (defaults, caps, decoding fields, errors).
  const common: CommonRequest = {
    model: body.model,
    temperature: body.temperature,
    top_p: body.top_p,
    stop: body.stop?.length ? body.stop : null,
    stream: body.stream,
    seed: body.seed === undefined || body.seed < 0 ? null : body.seed,
    cosec: { ...body.cosec, ...(body.top_k !== undefined ? { top_k: body.top_k } : {}), ...(body.min_p !== undefined ? { min_p: body.min_p } : {}) },
  };
  const maxTokens = body.n_predict === undefined || body.n_predict < 0 ? null : body.n_predict;
  const resolved = resolveRequest(common, { value: maxTokens, field: "n_predict" }, deps.context);
  // llama.cpp's cache_prompt (default true): whether this request may start from the kept KV caches.
  if (body.cache_prompt === false) resolved.generate = { ...resolved.generate, cachePrompt: false };
  const model = deps.context.config.modelName;
  const sse = resolved.stream ? new SseStream(reply) : null;
  let predicted = 0;
  const onToken = sse
    ? (_: number, e: { token: number; text: string }) => {
        if (e.token >= 0) predicted++;
        if (!e.text) return;
        sse.send({ index: 0, content: e.text, tokens: e.token >= 0 ? [e.token] : [], stop: false, id_slot: -1, tokens_predicted: predicted, tokens_evaluated: prompt.length });
      }
    : undefined;
  return generateAndAnswer(deps, request, reply, sse, { ...route, prompts: [prompt], request: resolved, onToken }, (outcome) => {
    const r = outcome.choices[0].result;
    const final = {
      index: 0,
      content: sse ? "" : r.text,
      tokens: sse ? [] : r.tokens,
      id_slot: -1,
      stop: true,
      model,
      tokens_predicted: r.tokens.length,
      tokens_evaluated: outcome.promptTokens,
      tokens_cached: r.timing.cachedPromptTokens,
      truncated: false,
      stop_type: stopType(r.finishReason),
      stopping_word: "",
      has_new_line: r.text.includes("\n"),
      timings: timings(r),
      cosec: { ...cosecReport(outcome, resolved), ...choiceReport(r) },
    };
    if (!sse) return final;
    sse.send(final);
    sse.end();
    return reply;
  });
}
