// Where the project finds its own files and the shared data.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { trainerContract } from "./train/contract.ts";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The data folder (SVEN datasets, tokenizers): `--data`, then $COSEC_DATA, then `../shared`
 * (the variable and the default are trainer/contract.json's, which the Python side reads too). */
export function dataRoot(explicit?: string): string {
  const rule = trainerContract().dataRoot;
  // An empty variable counts as unset, as in cosec_trainer/contract.py.
  const dir = explicit ?? (process.env[rule.env] || join(repoRoot, rule.default));
  if (!existsSync(dir)) {
    throw new Error(
      `data folder not found: ${dir}. Pass --data or set ${rule.env} to a folder laid out like the SVEN repository (datasets/sven/...).`,
    );
  }
  return dir;
}

export const cacheRoot = join(repoRoot, ".cache");

/** The project's Python (the trainer's venv made by `npm run setup`); COSEC_PYTHON overrides it. */
export function venvPython(): string {
  return process.env.COSEC_PYTHON ?? join(repoRoot, ".venv", "bin", "python");
}
