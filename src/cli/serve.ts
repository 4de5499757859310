// `cosec serve`: the OpenAI-compatible HTTP server over a target (+ expert) pair. Parses flags,
// loads the engine with one sequence slot per parallel request, listens, drains on SIGTERM.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { remoteRuleProblem } from "../decoding/remote.ts";
import { DECODING_PARAMS, resolveDecodingSettings } from "../decoding/settings.ts";
import { InvalidArgumentError } from "../errors.ts";
import { FIM_ORDERS, type FimOrder } from "../generate/fim.ts";
import type { EngineModelsOptions, StrategyName } from "../generate/types.ts";
import { collectApiKeys } from "../server/auth.ts";
import { SERVER_DEFAULTS, type ServerConfig } from "../server/config.ts";
import type { ServingEngine } from "../server/deps.ts";
import type { RemoteEngineOptions } from "../generate/remote.ts";
import {
  DECODING_HELP, DECODING_OPTIONS, decodingInputFrom, engineOptionsFrom, MODEL_HELP, MODEL_OPTIONS, REMOTE_TARGET_HELP, REMOTE_TARGET_OPTIONS, remoteEngineOptionsFrom,
} from "./options.ts";

const D = SERVER_DEFAULTS;

const HELP = `usage: cosec serve --target GGUF [--expert GGUF [--expert-lora GGUF]] [options]
       cosec serve --target-url URL --expert GGUF [--expert-lora GGUF] [options]

OpenAI-compatible HTTP API with co-decoding: POST /v1/completions (with suffix: fill-in-the-middle),
POST /v1/chat/completions, POST /infill and POST /completion (llama.cpp's, for editors), GET /v1/models, GET /health,
GET /metrics (Prometheus). A request's decoding fields
(${Object.values(DECODING_PARAMS).map((p) => p.field).join(", ")}, cosec.ignore_eos)
override the decoding flags below.

${MODEL_HELP}
  --model-name NAME         model id clients use (default: the target's file name without .gguf, or the remote target's id)
  --chat-template FILE      Jinja chat template (default: the GGUF's tokenizer.chat_template,
                            else a general template)
${REMOTE_TARGET_HELP}; each request's samples one after the other, no prompt_logprobs
network and security:
  --host HOST              address to listen on (default ${D.host}; loopback only)
  --port N                 port (default ${D.port}; 0 = any free port)
  --api-key KEY            accepted bearer key (repeatable; also $COSEC_API_KEYS, comma-separated)
  --cors-origin ORIGIN     allow browser requests from ORIGIN (repeatable; '*' = any); off by default
  --body-limit BYTES       largest request body (default ${D.bodyLimit})
capacity:
  --parallel N             sequences decoded at once (= model maxSequences; default ${D.parallel})
  --queue N                requests waiting for a sequence before 429 (default ${D.queue})
  --max-tokens N           cap on max_tokens (default ${D.maxTokensCap})
  --default-max-tokens N   when a request gives none (default ${D.defaultMaxTokens})
  --max-n N                cap on n (default ${D.maxN}, never above --parallel)
  --shutdown-timeout S     seconds SIGTERM waits for running requests (default ${D.shutdownTimeoutMs / 1000})
  --no-prompt-cache        do not keep the last single-sample request's KV caches (by default the next
                           request sharing its prefix, as an editor's next completion, evaluates only the rest)
  --fim-order psm|spm      layout of fill-in-the-middle prompts: prefix first, or suffix first (<|fim_suffix|>
                           suffix <|fim_prefix|> prefix <|fim_middle|>); default: the layout the target's GGUF
                           records (cosec.fim.order, written by cosec's trainer), else psm
  --spm-infill             --fim-order spm, llama.cpp's flag
  --log-level LEVEL        fatal | error | warn | info | debug | silent (default info)
  -h, --help               this help

${DECODING_HELP}`;

export interface ServeSettings {
  config: ServerConfig;
  /** The local pair, or (with --target-url) the expert beside a remote target. */
  engine: EngineModelsOptions | RemoteEngineOptions;
  logLevel: string;
}

const isRemote = (o: ServeSettings["engine"]): o is RemoteEngineOptions => typeof o.target !== "string";

/** The FIM layout asked for, if any; unset, each fill follows the target's GGUF. */
function fimOrderOption(order: string | undefined, spmInfill: boolean | undefined): { fimOrder?: FimOrder } {
  if (order !== undefined && !FIM_ORDERS.includes(order as FimOrder)) throw new InvalidArgumentError("--fim-order", `must be one of ${FIM_ORDERS.join(", ")}, got ${order}`);
  if (spmInfill && order === "psm") throw new InvalidArgumentError("--spm-infill", "contradicts --fim-order psm");
  const fimOrder = spmInfill ? "spm" : (order as FimOrder | undefined);
  return fimOrder ? { fimOrder } : {};
}

function num(v: string | undefined, name: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x) || (opts.integer && !Number.isInteger(x))) {
    throw new InvalidArgumentError(name, `not a${opts.integer ? "n integer" : " number"}: ${v}`);
  }
  if (opts.min !== undefined && x < opts.min) throw new InvalidArgumentError(name, `must be at least ${opts.min}, got ${v}`);
  if (opts.max !== undefined && x > opts.max) throw new InvalidArgumentError(name, `must be at most ${opts.max}, got ${v}`);
  return x;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

const FLAGS = {
  ...MODEL_OPTIONS,
  ...REMOTE_TARGET_OPTIONS,
  "model-name": { type: "string" },
  "chat-template": { type: "string" },
  host: { type: "string", default: D.host },
  port: { type: "string" },
  "api-key": { type: "string", multiple: true },
  "cors-origin": { type: "string", multiple: true },
  "body-limit": { type: "string" },
  parallel: { type: "string" },
  queue: { type: "string" },
  "default-max-tokens": { type: "string" },
  "max-n": { type: "string" },
  "shutdown-timeout": { type: "string" },
  "no-prompt-cache": { type: "boolean" },
  "fim-order": { type: "string" },
  "spm-infill": { type: "boolean" },
  // The server's cap on max_tokens; a server has no run-wide seed, and requests choose ignore_eos.
  "max-tokens": { type: "string" },
  ...DECODING_OPTIONS,
  "log-level": { type: "string", default: "info" },
  help: { type: "boolean", short: "h" },
} as const;

function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, strict: true, options: FLAGS });
  } catch (err) {
    // Unknown flags or a flag without its value: a usage error, not a crash.
    throw new InvalidArgumentError("arguments", `${(err as Error).message} (see cosec serve --help)`);
  }
}

/** Flags (and COSEC_API_KEYS) → server configuration and engine options. */
export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeSettings | "help" {
  const { values } = parseFlags(argv);
  if (values.help) return "help";
  if (!values.target && !values["target-url"]) throw new InvalidArgumentError("--target", "a target GGUF (or --target-url) is required");
  if (values["expert-lora"] && !values.expert) throw new InvalidArgumentError("--expert-lora", "needs --expert (the model the adapter applies to)");
  if (!LOG_LEVELS.includes(values["log-level"])) throw new InvalidArgumentError("--log-level", `must be one of ${LOG_LEVELS.join(", ")}`);
  // The flags given are each request's defaults, checked here once (errors name the flag).
  const decoding = decodingInputFrom(values);
  const resolved = resolveDecodingSettings(decoding, { source: "cli", hasExpert: values.expert !== undefined });
  const strategy = resolved.strategy.name;

  const parallel = num(values.parallel, "--parallel", { integer: true, min: 1, max: 256 }) ?? D.parallel;
  const maxTokensCap = num(values["max-tokens"], "--max-tokens", { integer: true, min: 1 }) ?? D.maxTokensCap;
  const defaultMaxTokens = num(values["default-max-tokens"], "--default-max-tokens", { integer: true, min: 1 }) ?? Math.min(D.defaultMaxTokens, maxTokensCap);
  if (defaultMaxTokens > maxTokensCap) throw new InvalidArgumentError("--default-max-tokens", `must not exceed --max-tokens (${maxTokensCap})`);
  const host = values.host;
  if (host !== "localhost" && isIP(host) === 0) throw new InvalidArgumentError("--host", `not an IP address: ${host}`);

  let chatTemplate: string | undefined;
  if (values["chat-template"]) {
    try {
      chatTemplate = readFileSync(values["chat-template"], "utf8");
    } catch (err) {
      throw new InvalidArgumentError("--chat-template", `cannot read ${values["chat-template"]}: ${(err as Error).message}`);
    }
  }

  const config: ServerConfig = {
    host,
    port: num(values.port, "--port", { integer: true, min: 0, max: 65535 }) ?? D.port,
    // With a remote target, the served model's id once connected (run() fills it in).
    modelName: values["model-name"] ?? (values.target ? basename(values.target).replace(/\.gguf$/i, "") : ""),
    parallel,
    queue: num(values.queue, "--queue", { integer: true, min: 0 }) ?? D.queue,
    maxTokensCap,
    defaultMaxTokens,
    maxN: Math.min(num(values["max-n"], "--max-n", { integer: true, min: 1 }) ?? D.maxN, parallel),
    bodyLimit: num(values["body-limit"], "--body-limit", { integer: true, min: 1024 }) ?? D.bodyLimit,
    apiKeys: collectApiKeys(values["api-key"] ?? [], env.COSEC_API_KEYS),
    corsOrigins: values["cors-origin"] ?? [],
    shutdownTimeoutMs: (num(values["shutdown-timeout"], "--shutdown-timeout", { min: 0 }) ?? D.shutdownTimeoutMs / 1000) * 1000,
    chatTemplate,
    ...fimOrderOption(values["fim-order"], values["spm-infill"]),
    defaults: { ...decoding, strategy: strategy as StrategyName },
  };
  const remote = remoteEngineOptionsFrom(values, { maxSequences: parallel });
  const problem = remote && remoteRuleProblem(resolved);
  if (problem) throw new InvalidArgumentError("--strategy", problem);
  const engine = remote ?? { ...engineOptionsFrom(values, { maxSequences: parallel }), promptCache: values["no-prompt-cache"] !== true };
  return { config, engine, logLevel: values["log-level"] };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

export async function run(argv: string[]): Promise<number> {
  const settings = parseServeArgs(argv);
  if (settings === "help") {
    console.log(HELP);
    return 0;
  }
  const { config } = settings;
  if (!isLoopback(config.host) && config.apiKeys.length === 0) {
    console.error(`cosec serve: warning: listening on ${config.host} without --api-key; anyone who can reach it can use it`);
  }
  const { ChatRenderer } = await import("../server/chat-template.ts");
  const { createServer } = await import("../server/app.ts");
  const options = settings.engine;
  let engine: ServingEngine;
  // The chat template comes from the target's GGUF, or with a remote target from the expert's (one family).
  let templateSource: string;
  if (isRemote(options)) {
    const { RemoteEngine } = await import("../generate/remote.ts");
    const remote = await RemoteEngine.load(options);
    config.modelName ||= remote.remote.model;
    [engine, templateSource] = [remote, options.expert];
  } else {
    const { Engine } = await import("../generate/engine.ts");
    [engine, templateSource] = [await Engine.load(options), options.target];
  }
  let server;
  let chatName = "";
  try {
    const chat = await ChatRenderer.forModel(templateSource, engine.tokenizer, engine.target.vocab, config.chatTemplate);
    chatName = chat.name;
    server = await createServer({ engine, config, chat, logger: settings.logLevel === "silent" ? false : { level: settings.logLevel } });
    await server.app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await server?.app.close();
    await engine.dispose();
    throw err;
  }
  const address = server.app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const shownHost = config.host.includes(":") ? `[${config.host}]` : config.host;
  console.log(
    `cosec serve: listening on http://${shownHost}:${port} (model ${config.modelName}, strategy ${config.defaults.strategy}, ` +
      `parallel ${config.parallel}, queue ${config.queue}, chat template ${chatName})`,
  );

  const srv = server;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      console.log(`cosec serve: ${signal}: draining (up to ${config.shutdownTimeoutMs / 1000} s)`);
      srv
        .drain(config.shutdownTimeoutMs)
        .then(() => engine.dispose())
        .then(
          () => {
            console.log("cosec serve: stopped");
            resolve(0);
          },
          (err: unknown) => {
            console.error(`cosec serve: shutdown failed: ${(err as Error).message}`);
            resolve(1);
          },
        );
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}
