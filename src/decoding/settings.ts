// Every decoding parameter, declared once: type and range, default, CLI flag, HTTP field, whether
// evaluations record it in run.json (under its key: it changes outputs). Strategy parameters are
// declared by their strategy class; sampling is declared for the target, and the expert's are
// derived (key `expertX`, flag `--expert-x`, field `cosec.expert_x`, default: the target's value).
// `resolveDecodingSettings` is the one place they are validated and completed: the CLI, the server,
// the evaluations, the demo and the benchmarks call it and hand the engine its frozen result.
import { InvalidArgumentError } from "../errors.ts";
import { checkedStrategy, STRATEGIES, STRATEGY_NAMES, type StrategyName } from "./strategies/index.ts";
import type { Strategy } from "./types.ts";

interface Declared {
  flag: string;
  field: string;
  /** Recorded in an evaluation's run.json under its key (it changes outputs). */
  run: boolean;
  help: string;
  metavar?: string;
}
export interface NumberSpec extends Declared {
  kind: "number" | "int";
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
  default?: number;
}
export interface EnumSpec extends Declared {
  kind: "enum";
  values: readonly string[];
  /** What a value is, for "unknown <noun> 'x'". */
  noun: string;
  default?: string;
}
export interface BoolSpec extends Declared {
  kind: "bool";
  /** The CLI flag that sets it false, and its help. */
  off: string;
  offHelp: string;
  default?: boolean;
}
export type ParamSpec = NumberSpec | EnumSpec | BoolSpec;
export type ParamSpecs = Record<string, ParamSpec>;

const SAMPLING = {
  temperature: { kind: "number", min: 0, max: 2, default: 0.4, flag: "temperature", field: "temperature", run: true, metavar: "T", help: "sampling temperature (0 = greedy)" },
  topP: { kind: "number", above: 0, max: 1, default: 0.95, flag: "top-p", field: "top_p", run: true, metavar: "P", help: "top-p (1 = off)" },
  topK: { kind: "int", min: 0, default: 50, flag: "top-k", field: "cosec.top_k", run: true, metavar: "K", help: "top-k (0 = off)" },
  minP: { kind: "number", min: 0, max: 1, default: 0, flag: "min-p", field: "cosec.min_p", run: true, metavar: "M", help: "min-p: keep tokens with p >= M × the top token's (0 = off)" },
} as const satisfies Record<string, NumberSpec>;

/** One model's sampling, in the warpers' order: temperature, top-k, top-p, min-p. */
export type SamplingSettings = { -readonly [K in keyof typeof SAMPLING]: number };
type ExpertKey<K extends string> = `expert${Capitalize<K>}`;
export const expertKey = <K extends string>(k: K) => `expert${k[0].toUpperCase()}${k.slice(1)}` as ExpertKey<K>;

const STRATEGY = {
  kind: "enum", values: STRATEGY_NAMES, noun: "strategy", flag: "strategy", field: "cosec.strategy", run: false, metavar: "NAME",
  help: "(default: cosec-plus with an expert, else target)",
} as const satisfies EnumSpec;

const SCHEDULE = {
  speculative: {
    kind: "bool", flag: "speculative", field: "cosec.speculative", run: false, off: "sequential", offHelp: "one co-decoding step per token, never speculative",
    help: "speculative co-decoding, also for the target alone: identical output, fewer target passes (default: on for strategies that use the expert)",
  },
  draftMax: { kind: "int", min: 1, max: 64, flag: "draft-max", field: "cosec.draft_max", run: false, metavar: "K", help: "fixed draft length, implies speculative (default: chosen each round from measured costs and acceptance)" },
  draftPMin: {
    kind: "number", min: 0, max: 1, default: 0, flag: "draft-p-min", field: "cosec.draft_p_min", run: false, metavar: "P",
    help: "speculative: a round drafts no further than a proposal the expert gives less than P (llama.cpp's p_min; 0 = off)",
  },
} as const satisfies ParamSpecs;

/** The settings of speculative drafting only: meaningless, so refused, with speculation off. */
const DRAFTING = ["draftMax", "draftPMin"] as const;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type OwnSpecs = UnionToIntersection<(typeof STRATEGIES)[StrategyName]["params"]>;
type ValueOf<S> = S extends { kind: "enum"; values: readonly (infer V)[] } ? V : number;

/** Every parameter's value, complete. */
export type DecodingValues = { -readonly [K in keyof OwnSpecs]: ValueOf<OwnSpecs[K]> } & SamplingSettings & {
  [K in keyof SamplingSettings as ExpertKey<K>]: number;
} & { speculative: boolean; draftMax: number | undefined; draftPMin: number };

/** What a caller may give: any parameter (null = not given), a strategy by name or a Strategy object. */
export type DecodingInput = { [K in keyof DecodingValues]?: DecodingValues[K] | null } & { strategy?: StrategyName | Strategy | null };

/** What a built-in strategy is constructed with: the values, each model's sampling gathered. */
export type StrategyArgs = Readonly<DecodingValues & { sampling: { target: SamplingSettings; expert: SamplingSettings } }>;

/** Validated, complete and frozen, with the strategy built. */
export type DecodingSettings = StrategyArgs & { readonly strategy: Strategy };

const ownSpecs: ParamSpecs = Object.assign({}, ...Object.values(STRATEGIES).map((s) => s.params));
const expertSpecs = Object.entries(SAMPLING).map(([k, s]) => {
  const field = `cosec.expert_${s.field.replace(/^cosec\./, "")}`;
  return [expertKey(k), { ...s, default: undefined, flag: `expert-${s.flag}`, field, help: `expert proposal ${s.help}` }] as const;
});

/** The declarations, in help order. */
export const DECODING_PARAMS: Readonly<Record<keyof DecodingValues | "strategy", ParamSpec>> = {
  strategy: STRATEGY, ...ownSpecs, ...SAMPLING, ...Object.fromEntries(expertSpecs), ...SCHEDULE,
} as unknown as Record<keyof DecodingValues | "strategy", ParamSpec>;

export type ParamKey = keyof typeof DECODING_PARAMS;
export type Source = "cli" | "http" | "library";

/** How a front end names a parameter: its CLI flag, its HTTP field, or its key. */
export function paramName(key: ParamKey, source: Source): string {
  const p = DECODING_PARAMS[key];
  return source === "cli" ? `--${p.flag}` : source === "http" ? p.field : key;
}

/** The parameters a strategy uses of its own (its class declares them), in declaration order. */
export const strategyParams = (name: StrategyName): ParamKey[] => Object.keys(STRATEGIES[name].params) as ParamKey[];

/** "a number in [0, 2]", "an integer >= 0": the range as every error and the help say it. */
export function describeRange(s: NumberSpec): string {
  const what = s.kind === "int" ? "an integer" : "a number";
  const lo = s.above ?? s.min;
  if (s.max === undefined) return `${what} ${s.above !== undefined ? ">" : ">="} ${lo}`;
  return lo === undefined ? `${what} <= ${s.max}` : `${what} in ${s.above !== undefined ? "(" : "["}${lo}, ${s.max}]`;
}

/** One value checked against its declaration; the error names it as `name`. */
export function checkParam(key: ParamKey, x: unknown, name: string): unknown {
  const spec = DECODING_PARAMS[key];
  const shown = typeof x === "string" ? `'${x}'` : typeof x === "object" ? JSON.stringify(x) : String(x);
  if (spec.kind === "enum") {
    if (key === "strategy" && typeof x === "object" && x !== null) return checkedStrategy(x as Strategy);
    if (typeof x === "string" && spec.values.includes(x)) return x;
    throw new InvalidArgumentError(name, `unknown ${spec.noun} ${shown} (expected one of: ${spec.values.join(", ")})`);
  }
  if (spec.kind === "bool") {
    if (typeof x === "boolean") return x;
    throw new InvalidArgumentError(name, `must be true or false, got ${shown}`);
  }
  const n = x as number;
  const inRange = !(n < (spec.min ?? -Infinity) || n > (spec.max ?? Infinity) || (spec.above !== undefined && n <= spec.above));
  if (typeof x === "number" && Number.isFinite(x) && (spec.kind === "number" || Number.isInteger(x)) && inRange) return x;
  throw new InvalidArgumentError(name, `must be ${describeRange(spec)}, got ${shown}`);
}

export interface ResolveContext {
  /** Whether an expert model is loaded (or given): the default strategy and speculation follow it. */
  hasExpert: boolean;
  /** Names parameters in errors as this front end does (default: library keys). */
  source?: Source;
  /** Values under the input's, already resolved once (a server's flags under a request's fields). */
  base?: DecodingInput;
}

const resolved = new WeakSet<object>();

/** True for the frozen result of resolveDecodingSettings (the engine takes it as it is). */
export const isDecodingSettings = (x: unknown): x is DecodingSettings => typeof x === "object" && x !== null && resolved.has(x);

export function resolveDecodingSettings(input: DecodingInput = {}, ctx: ResolveContext): DecodingSettings {
  const source = ctx.source ?? "library";
  const name = (key: ParamKey) => paramName(key, source);
  const get = (o: DecodingInput | undefined, key: ParamKey) => (o as Record<string, unknown> | undefined)?.[key] ?? undefined;
  const v: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(DECODING_PARAMS) as [ParamKey, ParamSpec][]) {
    const x = get(input, key) ?? get(ctx.base, key);
    v[key] = x === undefined ? spec.default : checkParam(key, x, name(key));
  }
  for (const key of Object.keys(SAMPLING)) v[expertKey(key)] ??= v[key];
  v.sampling = Object.freeze({ target: sampling(v, (k) => k), expert: sampling(v, expertKey) });
  const chosen = (v.strategy ?? (ctx.hasExpert ? "cosec-plus" : "target")) as StrategyName | Strategy;
  // A built-in strategy gets the values (a copy: the settings then hold the strategy).
  const strategy: Strategy = typeof chosen === "string" ? new STRATEGIES[chosen](Object.freeze({ ...v }) as unknown as StrategyArgs) : chosen;
  const usesExpert = strategy.models.includes("expert");
  if (usesExpert && !ctx.hasExpert) throw new InvalidArgumentError(name("strategy"), `'${strategy.name}' needs an expert model, and none is loaded`);
  // A drafting setting of the input's own (one other than its default) implies speculation, as one
  // under it (base) does for the base; with speculation turned off it would be silently ignored.
  const drafting = (o?: DecodingInput) => DRAFTING.find((key) => get(o, key) !== undefined && get(o, key) !== DECODING_PARAMS[key].default);
  const draftingGiven = drafting(input);
  if (draftingGiven && get(input, "speculative") === false) {
    const off = source === "cli" ? `--${SCHEDULE.speculative.off}` : `${name("speculative")}: false`;
    throw new InvalidArgumentError(name(draftingGiven), `does not apply with ${off}`);
  }
  const asked = (o?: DecodingInput) => (get(o, "speculative") ?? (drafting(o) !== undefined || undefined)) as boolean | undefined;
  const speculative = asked(input) ?? asked(ctx.base);
  if (speculative && !ctx.hasExpert) {
    const given = get(input, "speculative") ?? get(ctx.base, "speculative");
    throw new InvalidArgumentError(name(given === undefined ? (drafting(input) ?? drafting(ctx.base))! : "speculative"), "needs an expert model to draft with");
  }
  v.speculative = speculative ?? usesExpert;
  if (!v.speculative) {
    v.draftMax = undefined;
    v.draftPMin = SCHEDULE.draftPMin.default;
  }
  v.strategy = strategy;
  const settings = Object.freeze(v) as unknown as DecodingSettings;
  resolved.add(settings);
  return settings;
}

function sampling(v: Record<string, unknown>, key: (k: string) => string): SamplingSettings {
  return Object.freeze(Object.fromEntries(Object.keys(SAMPLING).map((k) => [k, v[key(k)]]))) as SamplingSettings;
}
