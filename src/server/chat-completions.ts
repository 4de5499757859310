// POST /v1/chat/completions: the history rendered with the model's chat template, n replies, as
// one JSON body or a stream of `chat.completion.chunk`s ending with `data: [DONE]`.
import type { FastifyInstance } from "fastify";
import type { Vocabulary } from "../backend/types.ts";
import type { GenerationResult } from "../generate/types.ts";
import { answerCompletion } from "./completion-flow.ts";
import type { RouteDeps } from "./deps.ts";
import { badField, resolveRequest } from "./request-options.ts";
import { choiceReport, openAiFinish, tokenString } from "./responses.ts";
import { chatRequestSchema, type ChatRequest } from "./schemas.ts";

function logprobEntry(vocab: Vocabulary, token: number, logprob: number) {
  const token_text = tokenString(vocab, token);
  return { token: token_text, logprob, bytes: [...vocab.tokenBytes(token)], top_logprobs: [] };
}

function contentLogprobs(vocab: Vocabulary, r: GenerationResult) {
  return { content: r.tokens.map((t, i) => logprobEntry(vocab, t, r.logprobs[i])) };
}

export function registerChatCompletions(app: FastifyInstance, deps: RouteDeps): void {
  app.post("/v1/chat/completions", { schema: { body: chatRequestSchema } }, async (request, reply) => {
    const body = request.body as ChatRequest;
    if (body.max_tokens != null && body.max_completion_tokens != null && body.max_tokens !== body.max_completion_tokens) {
      throw badField("max_completion_tokens", "conflicts with max_tokens; give one of them");
    }
    const maxField = body.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens";
    const resolved = resolveRequest(body, { value: body.max_completion_tokens ?? body.max_tokens, field: maxField }, deps.context);
    if (body.top_logprobs) throw badField("top_logprobs", "only 0 is supported (the chosen tokens' logprobs come with logprobs: true)", "unsupported_parameter");
    const rendered = deps.chat.render(body.messages);
    resolved.generate.stop = [...resolved.stop, ...rendered.stop];
    const vocab = deps.engine.target.vocab;
    const wantLogprobs = body.logprobs === true;

    return answerCompletion(deps, request, reply, {
      endpoint: "chat",
      promptField: "messages",
      prompts: [rendered.tokens],
      request: resolved,
      idPrefix: "chatcmpl",
      object: "chat.completion",
      chunkObject: "chat.completion.chunk",
      envelope: { system_fingerprint: null },
      tokenChoice(index, e) {
        const withLogprob = wantLogprobs && e.token >= 0;
        if (!e.text && !withLogprob) return null;
        return {
          index,
          delta: { content: e.text },
          logprobs: withLogprob ? { content: [logprobEntry(vocab, e.token, e.logprob)] } : null,
          finish_reason: null,
        };
      },
      openingChoice: (index) => ({ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }),
      finishChoice: (c) => ({ index: c.index, delta: {}, logprobs: null, finish_reason: openAiFinish(c.result.finishReason), cosec: choiceReport(c.result) }),
      resultChoice: (c) => ({
        index: c.index,
        message: { role: "assistant", content: c.result.text, refusal: null },
        logprobs: wantLogprobs ? contentLogprobs(vocab, c.result) : null,
        finish_reason: openAiFinish(c.result.finishReason),
        cosec: choiceReport(c.result),
      }),
      reportExtra: { chat_template: deps.chat.name },
    });
  });
}
