// The HTTP application: Fastify with strict JSON-schema validation, bearer-key auth, optional CORS,
// OpenAI-shaped errors, the endpoints, metrics, and a graceful drain for shutdown.
import cors from "@fastify/cors";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { basename } from "node:path";
import { ApiRequestError } from "../errors.ts";
import { ApiKeyChecker } from "./auth.ts";
import { registerChatCompletions } from "./chat-completions.ts";
import type { ChatRenderer } from "./chat-template.ts";
import { registerCompletions } from "./completions.ts";
import { registerLlamaCpp } from "./llama-cpp.ts";
import { checkModel } from "./request-options.ts";
import type { ServerConfig } from "./config.ts";
import type { RouteDeps, ServingEngine } from "./deps.ts";
import { toHttpFailure } from "./errors.ts";
import { GenerationService } from "./generation.ts";
import { ServerMetrics } from "./metrics.ts";
import { Scheduler } from "./scheduler.ts";
import type { SseStream } from "./sse.ts";

export interface CosecServerOptions {
  engine: ServingEngine;
  config: ServerConfig;
  chat: ChatRenderer;
  /** Fastify logger setting (pino options), or false for none. */
  logger?: boolean | { level: string };
}

export interface CosecServer {
  app: FastifyInstance;
  scheduler: Scheduler;
  metrics: ServerMetrics;
  /**
   * Stops accepting requests, refuses queued ones, lets running ones finish, aborts what still
   * runs after `deadlineMs`, and resolves once every connection is closed.
   */
  drain(deadlineMs: number): Promise<void>;
}

const UNAUTHENTICATED = new Set(["/health"]);

export async function createServer(options: CosecServerOptions): Promise<CosecServer> {
  const { engine, config, chat } = options;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: config.bodyLimit,
    // Refused in our onRequest hook instead, with OpenAI's error shape.
    return503OnClosing: false,
    forceCloseConnections: "idle",
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  });
  const scheduler = new Scheduler(config.parallel, config.queue);
  const metrics = new ServerMetrics(scheduler);
  const generation = new GenerationService(engine, scheduler, metrics);
  const keys = new ApiKeyChecker(config.apiKeys);
  const arrival = new WeakMap<FastifyRequest, number>();
  const inflight = new Set<AbortController>();
  let draining = false;

  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins.includes("*") ? "*" : config.corsOrigins,
      methods: ["GET", "POST", "OPTIONS"],
      allowedHeaders: ["authorization", "content-type"],
      maxAge: 600,
    });
  }

  app.addHook("onRequest", async (request, reply) => {
    const start = performance.now();
    arrival.set(request, start);
    reply.raw.once("close", () => {
      const endpoint = request.routeOptions.url ?? "unmatched";
      const status = reply.raw.writableFinished ? String(reply.raw.statusCode) : "client_closed";
      metrics.requests.inc({ endpoint, status });
      metrics.requestDuration.observe({ endpoint }, (performance.now() - start) / 1000);
    });
    const path = request.url.split("?")[0];
    if (draining && path !== "/health") {
      // Requests on connections kept alive through the shutdown: refuse and close the connection.
      reply.header("connection", "close");
      throw new ApiRequestError(503, "the server is shutting down", null, "shutting_down", "server_error");
    }
    if (request.method === "OPTIONS" || UNAUTHENTICATED.has(path)) return;
    if (!keys.accepts(ApiKeyChecker.bearer(request.headers.authorization))) {
      reply.header("www-authenticate", 'Bearer realm="cosec"');
      const missing = !request.headers.authorization;
      throw new ApiRequestError(
        401,
        missing ? "missing API key: send it as 'Authorization: Bearer <key>'" : "incorrect API key provided",
        null,
        "invalid_api_key",
      );
    }
  });

  app.setErrorHandler((err, request, reply) => {
    const failure = toHttpFailure(err);
    // Deliberate refusals (503 shutting down) are not faults; anything unexpected is.
    if (failure.status >= 500 && !(err instanceof ApiRequestError)) request.log.error({ err }, "request failed");
    if (failure.status === 429) metrics.rejected.inc({ reason: "queue_full" });
    else if (failure.status === 503) metrics.rejected.inc({ reason: "shutting_down" });
    reply.code(failure.status).headers(failure.headers ?? {}).send(failure.body);
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error: { message: `no route ${request.method} ${request.url.split("?")[0]}`, type: "invalid_request_error", param: null, code: "unknown_url" },
    });
  });

  const deps: RouteDeps = {
    engine,
    context: { config, hasExpert: engine.expert !== undefined },
    generation,
    chat,
    requestSignal(_request: FastifyRequest, reply: FastifyReply): AbortSignal {
      const controller = new AbortController();
      inflight.add(controller);
      reply.raw.once("close", () => {
        inflight.delete(controller);
        // Closed before the response was complete: the client went away; stop its generation.
        if (!reply.raw.writableFinished) controller.abort(new ApiRequestError(499, "the client closed the request", null, "client_closed"));
      });
      return controller.signal;
    },
    arrivedAt: (request) => arrival.get(request) ?? performance.now(),
    abortedError: (signal) =>
      signal.reason instanceof Error ? signal.reason : new ApiRequestError(499, "the request was aborted", null, "aborted"),
    streamError(sse: SseStream, err: unknown): void {
      const failure = toHttpFailure(err);
      if (failure.status >= 500 && !(err instanceof ApiRequestError)) app.log.error({ err }, "stream failed");
      sse.send({ error: failure.body.error });
      sse.done();
    },
  };

  app.get("/health", async (_request, reply) => {
    const body = {
      status: draining ? "draining" : "ok",
      model: config.modelName,
      running: scheduler.active,
      queued: scheduler.queued,
      sequences: { total: scheduler.capacity, in_use: scheduler.slotsInUse },
    };
    return reply.code(draining ? 503 : 200).send(body);
  });

  app.get("/metrics", async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  const created = Math.floor(Date.now() / 1000);
  const modelCard = () => ({
    id: config.modelName,
    object: "model",
    created,
    owned_by: "cosec",
    cosec: {
      target: /^https?:\/\//.test(engine.options.target) ? engine.options.target : basename(engine.options.target),
      expert: engine.options.expert ? basename(engine.options.expert) : null,
      expert_lora: engine.options.expertLora ? basename(engine.options.expertLora) : null,
      default_strategy: config.defaults.strategy,
      chat_template: chat.name,
      context_size: engine.target.info.contextSize,
      parallel: config.parallel,
    },
  });
  app.get("/v1/models", async () => ({ object: "list", data: [modelCard()] }));
  app.get<{ Params: { model: string } }>("/v1/models/:model", async (request) => {
    checkModel(request.params.model, config.modelName);
    return modelCard();
  });

  registerCompletions(app, deps);
  registerChatCompletions(app, deps);
  registerLlamaCpp(app, deps);

  return {
    app,
    scheduler,
    metrics,
    async drain(deadlineMs: number): Promise<void> {
      draining = true;
      scheduler.close();
      const timer = setTimeout(() => {
        const reason = new ApiRequestError(503, "the server shut down before this generation finished", null, "shutting_down", "server_error");
        for (const c of inflight) c.abort(reason);
      }, deadlineMs);
      // Connections that go idle after close() began (a finished stream on a keep-alive
      // connection) would otherwise hold the server open until their keep-alive timeout.
      const sweeper = setInterval(() => app.server.closeIdleConnections(), 50);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
        clearInterval(sweeper);
      }
    },
  };
}
