// Loads cosec's native addon and points it at the llama.cpp libraries of the node-llama-cpp binary
// variant in use. node-llama-cpp picks the variant (it knows GPU detection and fallbacks); we load
// the same library files, so both share one llama.cpp in the process.
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { ModelLoadError } from "../errors.ts";
import { repoRoot } from "../paths.ts";
import type { GpuChoice } from "./types.ts";

export interface AddonModel {
  info(): {
    architecture: string;
    vocabSize: number;
    trainContextSize: number;
    parameterCount: number;
    bos: number;
    eos: number;
    eot: number;
    pad: number;
    fimPre: number;
    fimSuf: number;
    fimMid: number;
    fimPad: number;
    fimRep: number;
    fimSep: number;
    addBos: boolean;
  };
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  tokenBytes(token: number): Buffer;
  tokenText(token: number): Buffer;
  isEog(token: number): boolean;
  dispose(): void;
}

export interface AddonContext {
  decode(tokens: Int32Array, seqIds: Int32Array, positions: Int32Array, want: Uint8Array, out: Float32Array, threads?: number): Promise<void>;
  /** The same pass on the calling thread (blocks the event loop): for passes shorter than a thread hop. */
  decodeSync(tokens: Int32Array, seqIds: Int32Array, positions: Int32Array, want: Uint8Array, out: Float32Array, threads?: number): void;
  seqRemove(seq: number, from: number): boolean;
  contextSize(): number;
  dispose(): void;
}

export interface Addon {
  init(libraryFile: string, backendDir: string): void;
  devices(): { name: string; type: "cpu" | "gpu" | "other" }[];
  Model: new (path: string, gpuLayers: number) => AddonModel;
  Context: new (
    model: AddonModel,
    options: {
      contextSize: number;
      sequences: number;
      batchSize: number;
      threads: number;
      /** Size of the persistent thread pool: the most threads one decode call may ask for. */
      maxThreads?: number;
      lora?: string;
      loraScale?: number;
      kvF32?: boolean;
      flashAttention?: boolean;
    },
  ) => AddonContext;
}

export interface Runtime {
  addon: Addon;
  /** The compute device family in use: "cpu", "cuda", "vulkan", "metal". */
  device: string;
  /** Physical cores usable for maths (node-llama-cpp's measure). */
  mathCores: number;
  llama: Llama;
}

let runtime: Promise<Runtime> | null = null;
let runtimeGpu: GpuChoice | null = null;

function findLibrary(gpu: string | false): { file: string; dir: string } {
  // The variant packages export no package.json subpath: find them beside node-llama-cpp.
  const nlcEntry = fileURLToPath(import.meta.resolve("node-llama-cpp"));
  const nodeModules = nlcEntry.slice(0, nlcEntry.lastIndexOf(`${sep}node-llama-cpp${sep}`));
  const base = `${process.platform}-${process.arch}`;
  const names = gpu ? [`${base}-${gpu}`, `${base}-${gpu}-ext`] : [base];
  for (const name of names) {
    const pkgDir = join(nodeModules, "@node-llama-cpp", name);
    const binsRoot = join(pkgDir, "bins");
    for (const dir of existsSync(binsRoot) ? readdirSync(binsRoot) : []) {
      const folder = join(binsRoot, dir);
      const lib = readdirSync(folder).find((f) => /^libllama(\.[a-z]+)?\.v[\d.]+\.(so|dylib)$|^llama\.dll$/.test(f));
      if (lib) return { file: join(folder, lib), dir: folder };
    }
  }
  throw new ModelLoadError(`no prebuilt llama.cpp library found for ${gpu || "cpu"} (looked for @node-llama-cpp/${names.join(", ")})`);
}

/** The process-wide llama.cpp runtime (one variant per process, like node-llama-cpp's). */
export function getRuntime(gpu: GpuChoice = "auto"): Promise<Runtime> {
  if (runtime) {
    if (runtimeGpu !== gpu && gpu !== "auto" && runtimeGpu !== "auto") {
      return Promise.reject(new ModelLoadError(`llama.cpp is already loaded for --gpu ${runtimeGpu}; one variant per process`));
    }
    return runtime;
  }
  runtimeGpu = gpu;
  runtime = (async () => {
    const llama = await getLlama({
      gpu: gpu === "auto" ? "auto" : gpu === "cpu" ? false : gpu,
      build: "never",
      logLevel: LlamaLogLevel.error,
      progressLogs: false,
    });
    const device = llama.gpu === false ? "cpu" : llama.gpu;
    const lib = findLibrary(llama.gpu);
    const require = createRequire(import.meta.url);
    const addonPath = join(repoRoot, "native", "build", "cosec_addon.node");
    if (!existsSync(addonPath)) {
      throw new ModelLoadError(`native addon missing at ${addonPath}: run \`npm run setup\` (or node scripts/build-addon.mjs)`);
    }
    const addon = require(addonPath) as Addon;
    addon.init(lib.file, lib.dir);
    return { addon, device, mathCores: llama.cpuMathCores, llama };
  })();
  runtime.catch(() => {
    runtime = null;
  });
  return runtime;
}
