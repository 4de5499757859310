// A results folder belongs to one generation setting: resuming it with other models, seed or
// sampling would mix incomparable samples under the same keys, so that is refused. Settings that
// only select *which* samples exist (n, problems, strategies, k) may change between runs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError } from "../../errors.ts";

export interface GenerationSettings {
  target: string;
  expert: string | null;
  expertLora: string | null;
  expertLoraScale: number | null;
  seed: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  /** cosec-plus threshold, when set. */
  threshold: number | null;
  /** Whether programs ran without the sandbox (recorded so reports can say so). */
  unsafeNoSandbox: boolean;
}

/**
 * Record the settings in `<out>/run.json`, or check them against the recorded ones. Settings of a
 * folder without records yet (e.g. a run whose model failed to load) are simply replaced.
 */
export function checkRunSettings(outDir: string, settings: GenerationSettings, hasRecords: boolean): void {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, "run.json");
  if (existsSync(file) && hasRecords) {
    const before = JSON.parse(readFileSync(file, "utf8")) as Partial<GenerationSettings>;
    for (const key of Object.keys(settings) as (keyof GenerationSettings)[]) {
      if (key === "unsafeNoSandbox") continue;
      if (before[key] !== settings[key]) {
        throw new InvalidArgumentError(
          key,
          `${outDir} holds samples generated with ${key}=${JSON.stringify(before[key])}, not ${JSON.stringify(settings[key])}; ` +
            "use another --out folder (or the same settings to continue that run)",
        );
      }
    }
    if (settings.unsafeNoSandbox && !before.unsafeNoSandbox) writeFileSync(file, JSON.stringify(settings, null, 2) + "\n");
    return;
  }
  writeFileSync(file, JSON.stringify(settings, null, 2) + "\n");
}
