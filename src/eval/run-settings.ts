// A resumable results folder belongs to one generation setting, recorded in `<out>/run.json`:
// continuing it with settings that change outputs would mix incomparable samples under the same
// keys, so that is refused. Each evaluation lists its own output-changing settings; settings that
// leave outputs alone (threads, GPU, context size, batch) are not recorded.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../atomic-write.ts";
import { DECODING_PARAMS, strategyParams, type DecodingSettings } from "../decoding/settings.ts";
import { STRATEGY_NAMES } from "../decoding/strategies/index.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { EngineModelsOptions } from "../generate/types.ts";

type Json = string | number | boolean | null;

export interface RunSettingsRules<T extends Record<string, Json>> {
  /** What a field missing from an older run.json stands for (the default of the version that wrote it). */
  defaults: Partial<T>;
  /** Fields recorded for reports but free to differ between runs. */
  unchecked?: readonly (keyof T)[];
  /** The flag behind a field, named in the refusal (default: the field's name). */
  flags?: Partial<Record<keyof T, string>>;
  /** What to write back after an accepted resume (default: the new settings). */
  merge?: (before: T, now: T) => T;
}

// Atomic: a kill mid-write must not leave a run.json that the resume cannot parse.
const write = (file: string, settings: object) => writeFileAtomic(file, JSON.stringify(settings, null, 2) + "\n");

/**
 * Record `settings` in `<outDir>/run.json`, or check them against the recorded ones when the folder
 * already holds records. A folder without records yet (e.g. its model failed to load) is simply
 * re-recorded. Throws InvalidArgumentError naming the first differing setting.
 */
export function checkRunSettings<T extends Record<string, Json>>(outDir: string, settings: T, hasRecords: boolean, rules: RunSettingsRules<T>): void {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, "run.json");
  if (!existsSync(file) || !hasRecords) {
    write(file, settings);
    return;
  }
  const recorded = JSON.parse(readFileSync(file, "utf8")) as Partial<T>;
  const before = { ...rules.defaults, ...recorded } as T;
  upgradeDecoding(before, Object.keys(settings));
  for (const key of Object.keys(settings) as (keyof T & string)[]) {
    if (rules.unchecked?.includes(key)) continue;
    if (before[key] !== settings[key]) {
      throw new InvalidArgumentError(
        rules.flags?.[key] ?? key,
        `${outDir} holds samples generated with ${key}=${JSON.stringify(before[key] ?? null)}, not ${JSON.stringify(settings[key])}; ` +
          "use another --out folder (or the same settings to continue that run)",
      );
    }
  }
  const next = rules.merge ? rules.merge(before, settings) : settings;
  // Rewriting also fills in fields an older run.json lacked.
  if (JSON.stringify(next) !== JSON.stringify(recorded)) write(file, next);
}

/** The model settings that change outputs, with paths made absolute (null = not given). */
export type ModelRunSettings = {
  target: string;
  expert: string | null;
  expertLora: string | null;
  expertLoraScale: number | null;
  /** Expert without its adapter for `proxy`; null = the expert GGUF without its LoRA. */
  expertBase: string | null;
  /** KV cache precision: f16 and f32 give slightly different logits. */
  kvCache: "f16" | "f32";
};

export function modelRunSettings(models: EngineModelsOptions): ModelRunSettings {
  const path = (p: string | undefined) => (p ? resolve(p) : null);
  return {
    target: resolve(models.target),
    expert: path(models.expert),
    expertLora: path(models.expertLora),
    expertLoraScale: models.expertLoraScale ?? null,
    expertBase: path(models.expertBase),
    kvCache: models.kvCache ?? "f16",
  };
}

/** Defaults of the model fields added after run.json was first written. */
export const MODEL_SETTING_DEFAULTS = { expertBase: null, kvCache: "f16" } as const satisfies Partial<ModelRunSettings>;

export const MODEL_SETTING_FLAGS = {
  target: "--target",
  expert: "--expert",
  expertLora: "--expert-lora",
  expertLoraScale: "--expert-lora-scale",
  expertBase: "--expert-base",
  kvCache: "--kv-cache",
} as const satisfies Partial<Record<keyof ModelRunSettings, string>>;

/**
 * The decoding values a run records, under their keys: every one declared `run`, or without the
 * strategies' own parameters where those are part of each record's key instead.
 */
export function decodingRunSettings(d: DecodingSettings, withStrategyParams: boolean): Record<string, number | string> {
  const own = new Set<string>(STRATEGY_NAMES.flatMap(strategyParams));
  const keys = Object.keys(DECODING_PARAMS).filter((k) => DECODING_PARAMS[k as keyof typeof DECODING_PARAMS].run && (withStrategyParams || !own.has(k)));
  return Object.fromEntries(keys.map((k) => [k, d[k as keyof DecodingSettings] as number | string]));
}

/** The flag behind each decoding value, named in a refusal. */
export const DECODING_SETTING_FLAGS: Record<string, string> = Object.fromEntries(Object.entries(DECODING_PARAMS).map(([k, p]) => [k, `--${p.flag}`]));

/**
 * A decoding value an older run.json left out, or wrote as null (then: "the engine's default"),
 * is the declared default; an expert's sampling value is the target's.
 */
function upgradeDecoding(before: Record<string, Json | undefined>, keys: readonly string[]): void {
  for (const [key, p] of Object.entries(DECODING_PARAMS)) {
    if (keys.includes(key) && before[key] == null) before[key] = p.default ?? before[key.replace(/^expert(.)/, (_, c: string) => c.toLowerCase())] ?? null;
  }
}
