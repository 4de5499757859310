// The HumanEval results folder's generation settings (see ../run-settings.ts). Settings that only
// select *which* samples exist (n, problems, strategies, k) may change between runs; the strategies'
// own parameters (threshold, mode, alpha) may not, since records are keyed by strategy name alone.
import { DECODING_SETTING_FLAGS, MODEL_SETTING_DEFAULTS, MODEL_SETTING_FLAGS, checkRunSettings as checkRecorded, type ModelRunSettings } from "../run-settings.ts";

export type GenerationSettings = ModelRunSettings & {
  seed: number;
  maxTokens: number;
  /** Whether programs ran without the sandbox (recorded so reports can say so). */
  unsafeNoSandbox: boolean;
} & Record<string, string | number | boolean | null>; // and every decoding value declared `run`

/**
 * Record the settings in `<out>/run.json`, or check them against the recorded ones. Settings of a
 * folder without records yet (e.g. a run whose model failed to load) are simply replaced.
 */
export function checkRunSettings(outDir: string, settings: GenerationSettings, hasRecords: boolean): void {
  checkRecorded(outDir, settings, hasRecords, {
    defaults: MODEL_SETTING_DEFAULTS,
    unchecked: ["unsafeNoSandbox"],
    flags: { ...MODEL_SETTING_FLAGS, ...DECODING_SETTING_FLAGS, seed: "--seed", maxTokens: "--max-tokens" },
    // Once any program ran unsandboxed, the folder says so for good.
    merge: (before, now) => ({ ...now, unsafeNoSandbox: before.unsafeNoSandbox || now.unsafeNoSandbox }),
  });
}
