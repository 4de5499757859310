// The security evaluation's results folder settings (see ./run-settings.ts). Strategy parameters
// (threshold, mode, alpha) are not recorded: they are part of each record's strategy key
// (`cosec-plus(threshold=0.5)`), so runs with different values sit side by side without mixing.
// Speculative decoding and batch size leave outputs unchanged; stop strings are fixed per language.
import { resolve } from "node:path";
import type { EngineModelsOptions, GenerateOptions } from "../generate/types.ts";
import { MODEL_SETTING_FLAGS, checkRunSettings, modelRunSettings, type ModelRunSettings } from "./run-settings.ts";
import { DEFAULTS } from "./security.ts";

export type SecurityRunSettings = ModelRunSettings & {
  seed: number;
  maxTokens: number;
  temperature: number;
  topP: number;
  /** null = the engine's default top-k. */
  topK: number | null;
  /** Expert proposal sampling, resolved as the run does (unset = the target's). */
  expertTemperature: number;
  expertTopP: number;
  expertTopK: number | null;
  /** The analyzer judging the samples, and what changes its findings. */
  analyzer: string;
  /** builtin: whether cppcheck adds C findings (null for other analyzers). */
  cppcheck: boolean | null;
  /** codeql: the query packs folder (null = the analyzer's default). */
  queries: string | null;
};

export interface SecurityAnalyzerChoice {
  analyzer: string;
  cppcheck: boolean;
  queries?: string;
}

/** The settings of a run, from the parsed model and generation options, with the run's defaults applied. */
export function securityRunSettings(models: EngineModelsOptions, gen: GenerateOptions, judge: SecurityAnalyzerChoice): SecurityRunSettings {
  const target = gen.targetSampling ?? {};
  const expert = gen.expertSampling ?? {};
  const temperature = target.temperature ?? DEFAULTS.temperature;
  const topP = target.topP ?? DEFAULTS.topP;
  const topK = target.topK ?? null;
  return {
    ...modelRunSettings(models),
    seed: gen.seed ?? DEFAULTS.seed,
    maxTokens: gen.maxTokens ?? DEFAULTS.maxTokens,
    temperature,
    topP,
    topK,
    expertTemperature: expert.temperature ?? temperature,
    expertTopP: expert.topP ?? topP,
    expertTopK: expert.topK ?? topK,
    analyzer: judge.analyzer,
    cppcheck: judge.analyzer === "builtin" ? judge.cppcheck : null,
    queries: judge.analyzer === "codeql" && judge.queries ? resolve(judge.queries) : null,
  };
}

const FLAGS = {
  ...MODEL_SETTING_FLAGS,
  seed: "--seed",
  maxTokens: "--max-tokens",
  temperature: "--temperature",
  topP: "--top-p",
  topK: "--top-k",
  expertTemperature: "--expert-temperature",
  expertTopP: "--expert-top-p",
  expertTopK: "--expert-top-k",
  analyzer: "--analyzer",
  cppcheck: "--no-cppcheck",
  queries: "--queries",
} as const satisfies Record<keyof SecurityRunSettings, string>;

/** Record the settings in `<out>/run.json`, or refuse to continue a folder whose records used others. */
export function checkSecurityRunSettings(outDir: string, settings: SecurityRunSettings, hasRecords: boolean): void {
  // Every security run.json has held all of these fields: no older defaults to fill in yet.
  checkRunSettings(outDir, settings, hasRecords, { defaults: {}, flags: FLAGS });
}
