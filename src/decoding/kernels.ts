// Per-token distribution kernels, in C++ (native/cosec_addon.cpp): each touches the whole
// vocabulary, which JS's Math.exp makes cost ~1 ms per pass for 50k tokens.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { repoRoot } from "../paths.ts";

export interface Kernels {
  logSumExp(row: Float32Array, scale: number): number;
  gumbelMax(row: Float32Array, scale: number, key: number): number;
  argmax(row: Float32Array): number;
  topK(row: Float32Array, k: number, out: Int32Array): number;
  atLeast(row: Float32Array, threshold: number, out: Int32Array): number;
}

function load(): Kernels {
  const path = join(repoRoot, "native", "build", "cosec_addon.node");
  if (!existsSync(path)) throw new Error(`native addon missing at ${path}: run \`npm run setup\``);
  return createRequire(import.meta.url)(path) as Kernels;
}

export const kernels: Kernels = load();
