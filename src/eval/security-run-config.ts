// The security evaluation's results folder settings (see ./run-settings.ts). Strategy parameters
// (threshold, mode, alpha) are not recorded: they are part of each record's strategy key
// (`cosec-plus(threshold=0.5)`), so runs with different values sit side by side without mixing.
// Speculative decoding and batch size leave outputs unchanged; stop strings are fixed per language.
import { resolve } from "node:path";
import type { DecodingSettings } from "../decoding/settings.ts";
import type { EngineModelsOptions, GenerateOptions } from "../generate/types.ts";
import { DECODING_SETTING_FLAGS, MODEL_SETTING_FLAGS, checkRunSettings, decodingRunSettings, modelRunSettings, type ModelRunSettings } from "./run-settings.ts";
import { DEFAULTS } from "./security.ts";

export type SecurityRunSettings = ModelRunSettings & {
  seed: number;
  maxTokens: number;
  /** The analyzer judging the samples, and what changes its findings. */
  analyzer: string;
  /** builtin: whether cppcheck adds C findings (null for other analyzers). */
  cppcheck: boolean | null;
  /** codeql: the query packs folder (null = the analyzer's default). */
  queries: string | null;
} & Record<string, string | number | boolean | null>;

export interface SecurityAnalyzerChoice {
  analyzer: string;
  cppcheck: boolean;
  queries?: string;
}

/**
 * The settings of a run: models, seed and token limit with the run's defaults applied, and the
 * decoding values all its strategies share (sampling; the strategies' own are in their keys).
 */
export function securityRunSettings(
  models: EngineModelsOptions,
  decoding: DecodingSettings,
  run: Pick<GenerateOptions, "seed" | "maxTokens">,
  judge: SecurityAnalyzerChoice,
): SecurityRunSettings {
  return {
    ...modelRunSettings(models),
    seed: run.seed ?? DEFAULTS.seed,
    maxTokens: run.maxTokens ?? DEFAULTS.maxTokens,
    ...decodingRunSettings(decoding, false),
    analyzer: judge.analyzer,
    cppcheck: judge.analyzer === "builtin" ? judge.cppcheck : null,
    queries: judge.analyzer === "codeql" && judge.queries ? resolve(judge.queries) : null,
  };
}

const FLAGS = {
  ...MODEL_SETTING_FLAGS,
  ...DECODING_SETTING_FLAGS,
  seed: "--seed",
  maxTokens: "--max-tokens",
  analyzer: "--analyzer",
  cppcheck: "--no-cppcheck",
  queries: "--queries",
};

/** Record the settings in `<out>/run.json`, or refuse to continue a folder whose records used others. */
export function checkSecurityRunSettings(outDir: string, settings: SecurityRunSettings, hasRecords: boolean): void {
  // Older security run.json files lack min-p and wrote an unset top-k as null: see checkRunSettings.
  checkRunSettings(outDir, settings, hasRecords, { defaults: {}, flags: FLAGS });
}
