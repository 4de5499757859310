// What the route handlers share: the engine, the request context, the generation service, the
// chat renderer, and the per-request plumbing (cancellation signal, arrival time, stream errors).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Engine } from "../generate/engine.ts";
import type { ChatRenderer } from "./chat-template.ts";
import type { GenerationService } from "./generation.ts";
import type { RequestContext } from "./request-options.ts";
import type { SseStream } from "./sse.ts";

export interface RouteDeps {
  engine: Engine;
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
