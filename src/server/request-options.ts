// Turns a validated request body into engine options: server defaults, configured caps, the
// `cosec` extension, and refusals (naming the field) for what co-decoding cannot honour.
import { randomInt } from "node:crypto";
import { DECODING_PARAMS, resolveDecodingSettings, type DecodingInput } from "../decoding/settings.ts";
import type { Strategy } from "../decoding/types.ts";
import { ApiRequestError } from "../errors.ts";
import type { GenerateOptions } from "../generate/types.ts";
import type { ServerConfig } from "./config.ts";
import type { CommonRequest, StopField } from "./schemas.ts";

export interface ResolvedRequest {
  n: number;
  maxTokens: number;
  seed: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  strategy: Strategy;
  /** Engine options except n, prompt, signal and onToken. */
  generate: GenerateOptions;
}

export interface RequestContext {
  config: ServerConfig;
  hasExpert: boolean;
}

/** A 400 naming the request field `param`. */
export function badField(param: string, reason: string, code = "invalid_value"): ApiRequestError {
  return new ApiRequestError(400, `${param}: ${reason}`, param, code);
}

export function normalizeStop(stop: StopField): string[] {
  if (stop === null || stop === undefined) return [];
  return typeof stop === "string" ? [stop] : stop;
}

/** The decoding fields a request gives (top level or in `cosec`, as declared), by parameter key. */
function decodingInputOf(body: CommonRequest): DecodingInput {
  const input: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(DECODING_PARAMS)) {
    const [head, tail] = p.field.split(".");
    const value = tail === undefined ? (body as Record<string, unknown>)[head] : (body.cosec as Record<string, unknown> | undefined)?.[tail];
    if (value !== undefined) input[key] = value;
  }
  return input;
}

/** Refuses a request naming another model than the one served. */
export function checkModel(model: string | undefined, served: string): void {
  if (model !== undefined && model !== served) {
    throw new ApiRequestError(404, `model: '${model}' does not exist; this server serves '${served}'`, "model", "model_not_found");
  }
}

export function resolveRequest(
  body: CommonRequest,
  maxTokens: { value: number | null | undefined; field: string },
  ctx: RequestContext,
): ResolvedRequest {
  const { config } = ctx;
  const d = config.defaults;
  checkModel(body.model, config.modelName);

  const nCap = Math.min(config.maxN, config.parallel);
  const n = body.n ?? 1;
  if (n > nCap) throw badField("n", `must be at most ${nCap} on this server, got ${n}`);

  const max = maxTokens.value ?? config.defaultMaxTokens;
  if (max > config.maxTokensCap) throw badField(maxTokens.field, `must be at most ${config.maxTokensCap} on this server, got ${max}`);

  for (const field of ["presence_penalty", "frequency_penalty"] as const) {
    const v = body[field];
    if (v !== undefined && v !== null && v !== 0) throw badField(field, "is not supported by this server (only 0)", "unsupported_parameter");
  }
  if (body.logit_bias && Object.keys(body.logit_bias).length > 0) {
    throw badField("logit_bias", "is not supported by this server (only an empty object)", "unsupported_parameter");
  }

  let seed: number;
  if (body.seed === undefined || body.seed === null) seed = randomInt(0, 2 ** 31);
  else if (!Number.isSafeInteger(body.seed) || body.seed < 0) throw badField("seed", `must be a non-negative integer below 2^53, got ${body.seed}`);
  else seed = body.seed;

  // Under the server's flags; errors name the request's field.
  const decoding = resolveDecodingSettings(decodingInputOf(body), { source: "http", hasExpert: ctx.hasExpert, base: d });
  return {
    n,
    maxTokens: max,
    seed,
    stop: normalizeStop(body.stop),
    stream: body.stream ?? false,
    includeUsage: body.stream_options?.include_usage ?? false,
    strategy: decoding.strategy,
    generate: { decoding, maxTokens: max, seed, stop: normalizeStop(body.stop), ignoreEos: body.cosec?.ignore_eos ?? false },
  };
}
