// What the route handlers share: the engine, the request context, the generation service, the
// chat renderer, and the per-request plumbing (cancellation signal, arrival time, stream errors).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ModelBackend, Tokenizer } from "../backend/types.ts";
import type { GenerationSummary, PromptTokenLogprob } from "../generate/engine.ts";
import type { FimInput } from "../generate/fim.ts";
import type { RemoteTargetView } from "../generate/remote.ts";
import type { GenerateOptions } from "../generate/types.ts";
import type { ChatRenderer } from "./chat-template.ts";
import type { GenerationService } from "./generation.ts";
import type { RequestContext } from "./request-options.ts";
import type { SseStream } from "./sse.ts";

/**
 * What the server needs of an engine: the local pair (generate/engine.ts Engine) or the expert
 * beside a remote target (generate/remote.ts RemoteEngine).
 */
export interface ServingEngine {
  readonly target: RemoteTargetView;
  readonly expert: Pick<ModelBackend, "freeSequences"> | undefined;
  readonly tokenizer: Tokenizer;
  /** What the model card names. */
  readonly options: { readonly target: string; readonly expert?: string; readonly expertLora?: string };
  fimPrompt(input: FimInput): number[];
  /** vLLM's prompt_logprobs; absent where the target's distributions are not at hand (a remote target). */
  promptLogprobs?(prompt: readonly number[], top?: number): Promise<(PromptTokenLogprob | null)[]>;
  generateWithStats(prompt: string | readonly number[], options?: GenerateOptions): Promise<GenerationSummary>;
  dispose(): Promise<void>;
}

export interface RouteDeps {
  engine: ServingEngine;
  context: RequestContext;
  generation: GenerationService;
  chat: ChatRenderer;
  /** A signal that aborts when the client disconnects or the shutdown deadline passes. */
  requestSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal;
  /** performance.now() at the request's arrival. */
  arrivedAt(request: FastifyRequest): number;
  /** The error to answer an aborted generation with (if anyone is still listening). */
  abortedError(signal: AbortSignal): Error;
  /** Reports an error inside an already started stream and ends it. */
  streamError(sse: SseStream, err: unknown): void;
}
