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

export function createStrategy(
  options: StrategyName | StrategyOptions,
  sampling: { target: SamplingSettings; expert: SamplingSettings },
): Strategy {
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
