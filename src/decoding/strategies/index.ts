// The built-in strategies by name (each class declares its own parameters, which settings.ts
// gathers), and the check a caller's own Strategy object passes before it decodes.
import { StrategyError } from "../../errors.ts";
import type { Strategy } from "../types.ts";
import { CosecPlusStrategy } from "./cosec-plus.ts";
import { ProxyStrategy, WeightedStrategy } from "./combined.ts";
import { ExpertStrategy } from "./expert.ts";
import { TargetStrategy } from "./target.ts";

export const STRATEGIES = { target: TargetStrategy, expert: ExpertStrategy, "cosec-plus": CosecPlusStrategy, weighted: WeightedStrategy, proxy: ProxyStrategy };
export type StrategyName = keyof typeof STRATEGIES;
export const STRATEGY_NAMES = Object.keys(STRATEGIES) as StrategyName[];

const ROLES: readonly string[] = ["target", "expert", "expertBase"];

/** A caller's own strategy, checked for what the decoders rely on. */
export function checkedStrategy(s: Strategy): Strategy {
  const what = `strategy ${typeof s.name === "string" ? `'${s.name}'` : "object"}`;
  if (typeof s.name !== "string" || s.name === "") throw new StrategyError(`${what}: needs a non-empty string name`);
  if (typeof s.choose !== "function") throw new StrategyError(`${what}: needs a choose(logits, rng) function`);
  if (s.propose !== undefined && typeof s.propose !== "function") throw new StrategyError(`${what}: propose must be a function`);
  if (!Array.isArray(s.models) || s.models.length === 0 || s.models.some((m) => !ROLES.includes(m))) {
    throw new StrategyError(`${what}: models must list roles among ${ROLES.join(", ")}, got ${JSON.stringify(s.models)}`);
  }
  return s;
}
