// Per-token distribution kernels, in C++ (native/cosec_addon.cpp): each touches the whole
// vocabulary, which JS's Math.exp makes cost ~1 ms per pass for 50k tokens. Loaded on first use,
// not at import, so commands that decode nothing (`--help`, analysis) run without a built addon.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { NativeAddonError } from "../errors.ts";
import { repoRoot } from "../paths.ts";

export interface Kernels {
  logSumExp(row: Float32Array, scale: number): number;
  gumbelMax(row: Float32Array, scale: number, key: number): number;
  argmax(row: Float32Array): number;
  topK(row: Float32Array, k: number, out: Int32Array): number;
  atLeast(row: Float32Array, threshold: number, out: Int32Array): number;
}

let loaded: Kernels | undefined;

/** The addon's kernels, loaded the first time a distribution is computed. */
export function kernels(): Kernels {
  if (loaded) return loaded;
  const path = join(repoRoot, "native", "build", "cosec_addon.node");
  if (!existsSync(path)) throw new NativeAddonError(`native addon missing at ${path}: run \`npm run setup\` (or \`node scripts/build-addon.mjs\`)`);
  loaded = createRequire(import.meta.url)(path) as Kernels;
  return loaded;
}
