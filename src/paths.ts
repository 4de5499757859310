// Where the project finds its own files and the shared data.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The data folder (SVEN datasets, tokenizers): `--data`, then COSEC_DATA, then `../shared`. */
export function dataRoot(explicit?: string): string {
  const dir = explicit ?? process.env.COSEC_DATA ?? join(repoRoot, "..", "shared");
  if (!existsSync(dir)) {
    throw new Error(
      `data folder not found: ${dir}. Pass --data or set COSEC_DATA to a folder laid out like the SVEN repository (datasets/sven/...).`,
    );
  }
  return dir;
}

export const cacheRoot = join(repoRoot, ".cache");

/** The project's Python (the trainer's venv made by `npm run setup`); COSEC_PYTHON overrides it. */
export function venvPython(): string {
  return process.env.COSEC_PYTHON ?? join(repoRoot, ".venv", "bin", "python");
}
