// Builds a strategy from user options (CLI, server, evaluation share this one factory).
import { StrategyError } from "../../errors.ts";
import type { StrategyName, StrategyOptions } from "../../generate/types.ts";
import type { SamplingSettings, Strategy } from "../types.ts";
import { CosecPlusStrategy } from "./cosec-plus.ts";
import { ProxyStrategy, WeightedStrategy } from "./combined.ts";
import { ExpertStrategy } from "./expert.ts";
import { TargetStrategy } from "./target.ts";

export const STRATEGY_NAMES: readonly StrategyName[] = ["target", "expert", "cosec-plus", "weighted", "proxy"];

export function parseStrategyName(name: string): StrategyName {
  if (!(STRATEGY_NAMES as readonly string[]).includes(name)) {
    throw new StrategyError(`unknown strategy '${name}' (expected one of: ${STRATEGY_NAMES.join(", ")})`);
  }
  return name as StrategyName;
}

const ROLES: readonly string[] = ["target", "expert", "expertBase"];

/** Whether `x` is a strategy object (the caller's own rule) rather than options of a built-in one. */
function isStrategy(x: StrategyOptions | Strategy): x is Strategy {
  return "choose" in x || "models" in x;
}

/** A caller's own strategy, checked for what the decoders rely on. */
function checkedStrategy(s: Strategy): Strategy {
  const what = `strategy ${typeof s.name === "string" ? `'${s.name}'` : "object"}`;
  if (typeof s.name !== "string" || s.name === "") throw new StrategyError(`${what}: needs a non-empty string name`);
  if (typeof s.choose !== "function") throw new StrategyError(`${what}: needs a choose(logits, rng) function`);
  if (s.propose !== undefined && typeof s.propose !== "function") throw new StrategyError(`${what}: propose must be a function`);
  if (!Array.isArray(s.models) || s.models.length === 0 || s.models.some((m) => !ROLES.includes(m))) {
    throw new StrategyError(`${what}: models must list roles among ${ROLES.join(", ")}, got ${JSON.stringify(s.models)}`);
  }
  return s;
}

export function createStrategy(
  options: StrategyName | StrategyOptions | Strategy,
  sampling: { target: SamplingSettings; expert: SamplingSettings },
): Strategy {
  if (typeof options === "object" && isStrategy(options)) return checkedStrategy(options);
  const o: StrategyOptions = typeof options === "string" ? { name: options } : options;
  switch (parseStrategyName(o.name)) {
    case "target":
      return new TargetStrategy(sampling.target);
    case "expert":
      return new ExpertStrategy(sampling.expert);
    case "cosec-plus": {
      const threshold = o.threshold ?? 0.3;
      if (!(threshold >= 0 && threshold <= 1)) throw new StrategyError(`threshold must be in [0, 1], got ${threshold}`);
      const mode = o.mode ?? "reference";
      if (mode !== "reference" && mode !== "warped") throw new StrategyError(`cosec-plus mode must be reference or warped, got ${mode}`);
      return new CosecPlusStrategy({ threshold, mode, expertSampling: sampling.expert, targetSampling: sampling.target });
    }
    case "weighted": {
      const alpha = o.alpha ?? 0.5;
      if (!(alpha >= 0 && alpha <= 1)) throw new StrategyError(`weighted alpha must be in [0, 1], got ${alpha}`);
      return new WeightedStrategy(sampling.target, alpha);
    }
    case "proxy":
      return new ProxyStrategy(sampling.target);
  }
}
