// Turns a validated request body into engine options: server defaults, configured caps, the
// `cosec` extension, and refusals (naming the field) for what co-decoding cannot honour.
import { randomInt } from "node:crypto";
import type { SamplingSettings } from "../decoding/types.ts";
import { ApiRequestError } from "../errors.ts";
import type { GenerateOptions, StrategyName, StrategyOptions } from "../generate/types.ts";
import type { ServerConfig } from "./config.ts";
import type { CommonRequest, StopField } from "./schemas.ts";

export interface ResolvedRequest {
  n: number;
  maxTokens: number;
  seed: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  strategy: StrategyOptions;
  /** Engine options except n, prompt, signal and onToken. */
  generate: GenerateOptions;
}

export interface RequestContext {
  config: ServerConfig;
  hasExpert: boolean;
}

function bad(param: string, reason: string, code = "invalid_value"): ApiRequestError {
  return new ApiRequestError(400, `${param}: ${reason}`, param, code);
}

export function normalizeStop(stop: StopField): string[] {
  if (stop === null || stop === undefined) return [];
  return typeof stop === "string" ? [stop] : stop;
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
  if (n > nCap) throw bad("n", `must be at most ${nCap} on this server, got ${n}`);

  const max = maxTokens.value ?? config.defaultMaxTokens;
  if (max > config.maxTokensCap) throw bad(maxTokens.field, `must be at most ${config.maxTokensCap} on this server, got ${max}`);

  for (const field of ["presence_penalty", "frequency_penalty"] as const) {
    const v = body[field];
    if (v !== undefined && v !== null && v !== 0) throw bad(field, "is not supported by this server (only 0)", "unsupported_parameter");
  }
  if (body.logit_bias && Object.keys(body.logit_bias).length > 0) {
    throw bad("logit_bias", "is not supported by this server (only an empty object)", "unsupported_parameter");
  }

  let seed: number;
  if (body.seed === undefined || body.seed === null) seed = randomInt(0, 2 ** 31);
  else if (!Number.isSafeInteger(body.seed) || body.seed < 0) throw bad("seed", `must be a non-negative integer below 2^53, got ${body.seed}`);
  else seed = body.seed;

  const x = body.cosec ?? {};
  const name: StrategyName = x.strategy ?? d.strategy;
  if (name !== "target" && !ctx.hasExpert) {
    throw bad("cosec.strategy", `'${name}' needs an expert model, and this server runs the target alone (start it with --expert)`);
  }
  const strategy: StrategyOptions = {
    name,
    threshold: x.threshold ?? d.threshold,
    mode: x.mode ?? d.mode,
    alpha: x.alpha ?? d.alpha,
  };
  // A request's draft_max implies speculative decoding, as --draft-max does.
  const speculative = x.speculative ?? (x.draft_max !== undefined ? true : d.speculative);
  if (speculative && !ctx.hasExpert) throw bad("cosec.speculative", "needs an expert model to draft with (start the server with --expert)");
  if (x.draft_max !== undefined && speculative === false) throw bad("cosec.draft_max", "does not apply with cosec.speculative: false");

  const targetSampling: SamplingSettings = {
    temperature: body.temperature ?? d.temperature,
    topP: body.top_p ?? d.topP,
    topK: x.top_k ?? d.topK,
  };
  const expertSampling: Partial<SamplingSettings> = {};
  const et = x.expert_temperature ?? d.expertTemperature;
  const ep = x.expert_top_p ?? d.expertTopP;
  const ek = x.expert_top_k ?? d.expertTopK;
  if (et !== undefined) expertSampling.temperature = et;
  if (ep !== undefined) expertSampling.topP = ep;
  if (ek !== undefined) expertSampling.topK = ek;

  const draftMax = x.draft_max ?? d.draftMax;
  return {
    n,
    maxTokens: max,
    seed,
    stop: normalizeStop(body.stop),
    stream: body.stream ?? false,
    includeUsage: body.stream_options?.include_usage ?? false,
    strategy,
    generate: {
      strategy,
      maxTokens: max,
      seed,
      stop: normalizeStop(body.stop),
      targetSampling,
      expertSampling,
      // undefined leaves the engine's default; a server-wide --draft-max applies whenever rounds run.
      speculative: speculative === false ? false : draftMax !== undefined ? { draftMax } : speculative,
      ignoreEos: x.ignore_eos ?? false,
    },
  };
}
