// Tiny deterministic GGUF models for tests, built once by the Python trainer into .cache/fixtures.
// Several test processes may ask at once: a lock directory (mkdir is atomic) lets one build while
// the others wait for its READY file.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { cacheRoot } from "../../src/paths.ts";
import { trainerContract } from "../../src/train/contract.ts";
import { launchTrainer } from "../../src/train/launch.ts";

/** The version cosec_trainer/fixtures.py writes into READY (trainer/contract.json); another one triggers a rebuild. */
export const FIXTURE_VERSION = trainerContract().fixtureVersion;

export const fixturesDir = process.env.COSEC_FIXTURES ?? join(cacheRoot, "fixtures");
const lockDir = `${fixturesDir}.lock`;
const STALE_LOCK_MS = 5 * 60_000;

export interface FixturePaths {
  dir: string;
  /** llama, 4 layers, hidden 128, F32 (and a Q8_0 copy). */
  targetLlama: string;
  targetLlamaQ8: string;
  /** llama, 2 layers, hidden 64, F32, same vocabulary as targetLlama. */
  expertLlama: string;
  /** LoRA adapter GGUF for expertLlama (r=8, alpha=16, non-zero B). */
  expertLlamaLora: string;
  /** qwen2 with attention biases, and a LoRA adapter for it. */
  targetQwen2: string;
  targetQwen2Lora: string;
  /** Same weights as expertLlama, but token `reference.renamedTokenId` has a different string. */
  otherVocab: string;
  /** targetLlama and expertLlama with Qwen2.5-Coder's FIM tokens as control tokens (`reference.fimTokens`). */
  targetFim: string;
  /** targetFim's weights, its GGUF recording a suffix-first training layout (cosec.fim.order = spm). */
  targetFimSpm: string;
  expertFim: string;
  reference: string;
  /** Hugging Face folders (model: config.json + safetensors + tokenizer; lora: PEFT adapter). */
  hf: {
    targetLlama: string;
    expertLlama: string;
    expertLlamaLora: string;
    targetQwen2: string;
    targetQwen2Lora: string;
  };
}

/** Keys of `reference.logits`: a model, or "<model>+lora" for model plus its adapter at scale 1. */
export type ReferenceName = "target-llama" | "expert-llama" | "expert-llama+lora" | "target-qwen2" | "target-qwen2+lora";

export interface Reference {
  version: number;
  prompt: string;
  /** The prompt tokenized by the Hugging Face tokenizer (no BOS: CodeGen adds none). */
  promptTokens: number[];
  vocabSize: number;
  renamedTokenId: number;
  /** FIM token text → id in targetFim / expertFim. */
  fimTokens: Record<string, number>;
  tokenization: { text: string; ids: number[] }[];
  logits: Record<ReferenceName, string>;
  models: Record<string, Record<string, unknown>>;
}

function paths(dir: string): FixturePaths {
  const f = (name: string) => join(dir, name);
  return {
    dir,
    targetLlama: f("target-llama.gguf"),
    targetLlamaQ8: f("target-llama-q8_0.gguf"),
    expertLlama: f("expert-llama.gguf"),
    expertLlamaLora: f("expert-llama-lora.gguf"),
    targetQwen2: f("target-qwen2.gguf"),
    targetQwen2Lora: f("target-qwen2-lora.gguf"),
    otherVocab: f("other-vocab.gguf"),
    targetFim: f("target-fim.gguf"),
    targetFimSpm: f("target-fim-spm.gguf"),
    expertFim: f("expert-fim.gguf"),
    reference: f("reference.json"),
    hf: {
      targetLlama: f("hf/target-llama"),
      expertLlama: f("hf/expert-llama"),
      expertLlamaLora: f("hf/expert-llama-lora"),
      targetQwen2: f("hf/target-qwen2"),
      targetQwen2Lora: f("hf/target-qwen2-lora"),
    },
  };
}

function readyVersion(): number | null {
  const ready = join(fixturesDir, "READY");
  if (!existsSync(ready)) return null;
  try {
    return (JSON.parse(readFileSync(ready, "utf8")) as { version: number }).version;
  } catch {
    return null;
  }
}

async function runBuilder(force: boolean): Promise<void> {
  await launchTrainer("cosec_trainer.fixtures", ["--out", fixturesDir, ...(force ? ["--force"] : [])]);
}

function tryLock(): boolean {
  mkdirSync(cacheRoot, { recursive: true });
  try {
    mkdirSync(lockDir);
    return true;
  } catch {
    // A builder that died leaves its lock behind; builds take well under a minute.
    try {
      if (Date.now() - statSync(lockDir).mtimeMs > STALE_LOCK_MS) rmSync(lockDir, { recursive: true, force: true });
    } catch {
      /* removed meanwhile by its owner */
    }
    return false;
  }
}

/** Builds the fixtures if needed (about 20 s) and returns their absolute paths. */
export async function ensureFixtures(): Promise<FixturePaths> {
  const deadline = Date.now() + 10 * 60_000;
  while (readyVersion() !== FIXTURE_VERSION) {
    if (tryLock()) {
      try {
        if (readyVersion() !== FIXTURE_VERSION) await runBuilder(true);
      } finally {
        rmSync(lockDir, { recursive: true, force: true });
      }
    } else {
      if (Date.now() > deadline) throw new Error(`timed out waiting for another process to build ${fixturesDir}`);
      await sleep(500);
    }
  }
  return paths(fixturesDir);
}

let referenceCache: Promise<Reference> | null = null;

export function readReference(): Promise<Reference> {
  referenceCache ??= ensureFixtures().then(async (p) => JSON.parse(await readFile(p.reference, "utf8")) as Reference);
  return referenceCache;
}

/** PyTorch next-token logits (full vocabulary) after `reference.promptTokens`. */
export async function readReferenceLogits(name: ReferenceName): Promise<Float32Array> {
  const ref = await readReference();
  const b64 = ref.logits[name];
  if (b64 === undefined) throw new Error(`no reference logits named ${name}`);
  const buf = Buffer.from(b64, "base64");
  // Copy into an aligned buffer: Buffer.from may share an unaligned pool slice.
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}
