// The demo family's manifest (`<out>/manifest.json`): what was built, from what, how long it took.
// Each stage is recorded when it finishes, with a key of everything that determines its output;
// a rerun skips a stage whose key matches and whose outputs still exist, so an interrupted build
// resumes at the first unfinished stage and a finished build is a no-op.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { CosecError } from "../errors.ts";

export const MANIFEST_VERSION = 1;

export const STAGES = ["corpus", "tokenizer", "target", "expert", "security", "export"] as const;
export type StageName = (typeof STAGES)[number];

export interface StageRecord {
  /** JSON of the settings this stage's output depends on (including the previous stages' keys). */
  key: string;
  /** Output paths relative to the manifest's folder. */
  outputs: string[];
  seconds: number;
  finishedAt: string;
  /** Stage-specific facts (counts, steps, losses, sizes). */
  info: Record<string, unknown>;
}

export interface Manifest {
  version: number;
  seed: number;
  budget: string;
  data: string;
  stages: Partial<Record<StageName, StageRecord>>;
  /** Keys of stages started but not finished (their trainer runs can be resumed). */
  partial?: Partial<Record<StageName, string>>;
  /** The files `cosec demo` loads (relative to the manifest's folder), once the export stage is done. */
  gguf?: { target: string; expert: string; expertLora: string };
  /** Sizes, data counts, near-duplicate count and stage timings of the finished family. */
  summary?: Record<string, unknown>;
}

export class DemoManifestError extends CosecError {}

export function manifestPath(outDir: string): string {
  return join(outDir, "manifest.json");
}

export function readManifest(outDir: string): Manifest | null {
  const path = manifestPath(outDir);
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new DemoManifestError(`${path}: not valid JSON (${(err as Error).message}); delete it to rebuild`);
  }
  const m = parsed as Manifest;
  if (typeof m !== "object" || m === null || m.version !== MANIFEST_VERSION || typeof m.stages !== "object") {
    throw new DemoManifestError(`${path}: not a version ${MANIFEST_VERSION} demo manifest; delete it to rebuild`);
  }
  return m;
}

/** Written through a temporary file so an interrupted write never leaves a broken manifest. */
export function writeManifest(outDir: string, manifest: Manifest): void {
  mkdirSync(outDir, { recursive: true });
  const path = manifestPath(outDir);
  writeFileSync(`${path}.tmp`, JSON.stringify(manifest, null, 2) + "\n");
  renameSync(`${path}.tmp`, path);
}

export function resolveIn(outDir: string, p: string): string {
  return isAbsolute(p) ? p : join(outDir, p);
}

/** A finished stage whose key matches and whose outputs are all present. */
export function stageIsDone(outDir: string, manifest: Manifest, stage: StageName, key: string): boolean {
  const rec = manifest.stages[stage];
  return !!rec && rec.key === key && rec.outputs.every((o) => existsSync(resolveIn(outDir, o)));
}

/** Drop a stage and every stage after it (their inputs changed). */
export function invalidateFrom(manifest: Manifest, stage: StageName): void {
  for (const s of STAGES.slice(STAGES.indexOf(stage))) delete manifest.stages[s];
  delete manifest.gguf;
  delete manifest.summary;
}

/** The GGUF paths of a complete family, or null when the build has not finished. */
export function familyPaths(outDir: string): { target: string; expert: string; expertLora: string } | null {
  const m = readManifest(outDir);
  if (!m?.gguf) return null;
  const g = { target: resolveIn(outDir, m.gguf.target), expert: resolveIn(outDir, m.gguf.expert), expertLora: resolveIn(outDir, m.gguf.expertLora) };
  return existsSync(g.target) && existsSync(g.expert) && existsSync(g.expertLora) ? g : null;
}

export function ensureDir(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  return path;
}
