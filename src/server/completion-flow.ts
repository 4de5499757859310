// The flow both generation endpoints share once their request is validated: generate through the
// scheduler, then answer with one JSON body or a stream of chunks ending with `data: [DONE]`,
// with usage, the `cosec` report, and errors inside a started stream sent as an error event.
// Each endpoint supplies only what differs: its prompts and the shape of its choices.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { TokenEvent } from "../generate/types.ts";
import type { RouteDeps } from "./deps.ts";
import type { GeneratedChoice, GenerationJob, GenerationOutcome } from "./generation.ts";
import { cosecReport, responseId, unixSeconds, usage } from "./responses.ts";
import { SseStream } from "./sse.ts";

type Fields = Record<string, unknown>;
type RouteJob = Omit<GenerationJob, "signal" | "arrivedAt">;

/** What the service generates, and how the endpoint shapes its answer. */
export interface CompletionEndpoint extends Pick<GenerationJob, "endpoint" | "promptField" | "prompts" | "request" | "promptLogprobs"> {
  /** Prefix of the response id ("cmpl" → "cmpl-<hex>"). */
  idPrefix: string;
  /** `object` of the JSON body and of each stream chunk. */
  object: string;
  chunkObject: string;
  /** Fields every body and chunk carries after `model` (chat: system_fingerprint). */
  envelope?: Fields;
  /** A streamed token's choice, or null when the event carries nothing to send. */
  tokenChoice(index: number, event: TokenEvent): Fields | null;
  /** Sent once per choice before its first streamed token or finish (chat: the assistant role). */
  openingChoice?(index: number): Fields;
  /** The streamed choice that closes a choice (its finish reason). */
  finishChoice(choice: GeneratedChoice): Fields;
  /** A choice of the JSON body. */
  resultChoice(choice: GeneratedChoice): Fields;
  /** Fields the JSON body's `cosec` report adds to the common one. */
  reportExtra?: Fields;
}

/** Runs the request and answers it; returns what the Fastify handler returns. */
export async function answerCompletion(deps: RouteDeps, request: FastifyRequest, reply: FastifyReply, e: CompletionEndpoint): Promise<unknown> {
  const id = responseId(e.idPrefix);
  const created = unixSeconds();
  const model = deps.context.config.modelName;
  const head = (object: string) => ({ id, object, created, model, ...e.envelope });
  const chunk = (choices: Fields[], extra: Fields = {}) => ({ ...head(e.chunkObject), choices, ...extra });

  const sse = e.request.stream ? new SseStream(reply) : null;
  const opened = new Set<number>();
  const open = (index: number) => {
    if (!e.openingChoice || opened.has(index)) return;
    opened.add(index);
    sse!.send(chunk([e.openingChoice(index)]));
  };
  const onToken = sse
    ? (index: number, event: TokenEvent) => {
        const choice = e.tokenChoice(index, event);
        if (!choice) return;
        open(index);
        sse.send(chunk([choice]));
      }
    : undefined;

  const job = { endpoint: e.endpoint, promptField: e.promptField, prompts: e.prompts, request: e.request, promptLogprobs: e.promptLogprobs, onToken };
  return generateAndAnswer(deps, request, reply, sse, job, (outcome) => {
    outcome.choices.sort((a, b) => a.index - b.index);
    if (sse) {
      for (const c of outcome.choices) {
        open(c.index);
        sse.send(chunk([e.finishChoice(c)]));
      }
      if (e.request.includeUsage) sse.send(chunk([], { usage: usage(outcome), cosec: cosecReport(outcome, e.request) }));
      sse.done();
      return reply;
    }
    return {
      ...head(e.object),
      choices: outcome.choices.map((c) => e.resultChoice(c)),
      usage: usage(outcome),
      cosec: { ...cosecReport(outcome, e.request), ...e.reportExtra },
    };
  });
}

/**
 * Generates `job` for the request (with its abort signal and arrival time) and returns what `answer`
 * makes of the outcome. An aborted generation is an error; an error in a started stream is sent as its last event.
 */
export async function generateAndAnswer(deps: RouteDeps, request: FastifyRequest, reply: FastifyReply, sse: SseStream | null, job: RouteJob, answer: (o: GenerationOutcome) => unknown): Promise<unknown> {
  const signal = deps.requestSignal(request, reply);
  try {
    const outcome = await deps.generation.run({ ...job, signal, arrivedAt: deps.arrivedAt(request) });
    if (signal.aborted) throw deps.abortedError(signal);
    return answer(outcome);
  } catch (err) {
    if (!sse?.started) throw err;
    deps.streamError(sse, err);
    return reply;
  }
}
