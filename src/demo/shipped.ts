// The demo family that ships with the repository (`models/demo/`): its GGUF files, the build
// manifest they came from (stage keys included) and `shipped.json` with each file's SHA-256 and
// size, the command that rebuilds it and the figures measured on it. `cosec demo` runs on it
// without training; every load checks the checksums first and never writes to the folder.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { repoRoot } from "../paths.ts";
import { LAYOUT } from "./build.ts";
import { DemoManifestError, familyPaths, readManifest, writeManifest, type Manifest } from "./manifest.ts";

/** COSEC_DEMO_MODELS points `cosec demo` at another copy (tests use a damaged one). */
export const SHIPPED_DIR = process.env.COSEC_DEMO_MODELS ?? join(repoRoot, "models", "demo");

/** Where `cosec demo` keeps its results on the shipped family in `modelsDir` (the folder itself is
 * never written to): `demo-shipped` for the repository's own copy, a folder named after any other
 * copy's path, so that two copies never stamp or continue each other's results. */
export function shippedResultsDir(cacheRoot: string, modelsDir = SHIPPED_DIR): string {
  const own = resolve(modelsDir) === resolve(repoRoot, "models", "demo");
  return join(cacheRoot, own ? "demo-shipped" : `demo-shipped-${createHash("sha256").update(resolve(modelsDir)).digest("hex").slice(0, 12)}`);
}
export const SHIPPED_VERSION = 1;

export type FamilyRole = "target" | "expert" | "expertLora";
export const ROLES: readonly FamilyRole[] = ["target", "expert", "expertLora"];
/** File names inside the shipped folder. */
export const SHIPPED_FILES: Record<FamilyRole, string> = { target: "target.gguf", expert: "expert.gguf", expertLora: "expert-security-lora.gguf" };

export interface ShippedFile {
  file: string;
  sha256: string;
  bytes: number;
}

export interface ShippedFamily {
  version: number;
  budget: string;
  seed: number;
  /** Commands that rebuild the family from scratch and ship it again. */
  rebuild: string[];
  files: Record<FamilyRole, ShippedFile>;
  /** Figures of `cosec demo evaluate` on these files, copied from its summary when it was run. */
  figures: Record<string, unknown> | null;
  shippedAt: string;
}

/** The shipped family is missing, damaged or inconsistent; the message says how to restore it. */
export class ShippedFamilyError extends DemoManifestError {}

export function rebuildCommands(budget: string, seed: number): string[] {
  const out = `.cache/demo-${budget}`;
  return [
    `node bin/cosec.mjs demo build --budget ${budget}${seed ? ` --seed ${seed}` : ""} --out ${out}`,
    `node bin/cosec.mjs demo evaluate --out ${out}`,
    `node bin/cosec.mjs demo ship --from ${out}`,
  ];
}

function howToRestore(dir: string, s?: Pick<ShippedFamily, "rebuild">): string {
  const rebuild = (s?.rebuild ?? rebuildCommands("medium", 0)).join(" && ");
  return `restore it with \`git checkout -- ${relative(process.cwd(), dir) || dir}\`, or rebuild it (about an hour on 2 cores): ${rebuild}`;
}

/**
 * Results under `resultsDir` (show/, eval/: resumable, so a re-run continues them) belong to the
 * shipped family whose checksums `family.json` there records. A different family (a new one after
 * `git pull`, or one shipped here) must not continue them: they are removed, as a rebuild removes a
 * built family's (build.ts). Returns whether anything was removed.
 */
export function resultsForShipped(resultsDir: string, shipped: ShippedFamily): boolean {
  const stampFile = join(resultsDir, "family.json");
  const stamp = JSON.stringify(Object.fromEntries(ROLES.map((r) => [r, shipped.files[r].sha256])));
  const recorded = existsSync(stampFile) ? readFileSync(stampFile, "utf8").trim() : null;
  if (recorded === stamp) return false;
  const stale = [LAYOUT.show, LAYOUT.eval].map((d) => join(resultsDir, d)).filter((d) => existsSync(d));
  for (const d of stale) rmSync(d, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(stampFile, stamp + "\n");
  return stale.length > 0;
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export function readShipped(dir = SHIPPED_DIR): ShippedFamily {
  const path = join(dir, "shipped.json");
  if (!existsSync(path)) throw new ShippedFamilyError(`no shipped demo family: ${path} is missing; ${howToRestore(dir)}`);
  let s: ShippedFamily;
  try {
    s = JSON.parse(readFileSync(path, "utf8")) as ShippedFamily;
  } catch (err) {
    throw new ShippedFamilyError(`${path}: not valid JSON (${(err as Error).message}); ${howToRestore(dir)}`);
  }
  if (s.version !== SHIPPED_VERSION || typeof s.files !== "object" || !ROLES.every((r) => typeof s.files[r]?.sha256 === "string")) {
    throw new ShippedFamilyError(`${path}: not a version ${SHIPPED_VERSION} shipped-family record; ${howToRestore(dir)}`);
  }
  return s;
}

/**
 * The shipped family's GGUF paths after checking every file's size and SHA-256 (read only: a
 * damaged file is reported, never rewritten).
 */
export function verifiedShipped(dir = SHIPPED_DIR): { paths: Record<FamilyRole, string>; shipped: ShippedFamily; manifest: Manifest } {
  const shipped = readShipped(dir);
  const paths = {} as Record<FamilyRole, string>;
  for (const role of ROLES) {
    const f = shipped.files[role];
    const path = join(dir, f.file);
    if (!existsSync(path)) throw new ShippedFamilyError(`shipped demo ${role} ${path} is missing; ${howToRestore(dir, shipped)}`);
    const bytes = statSync(path).size;
    if (bytes !== f.bytes) throw new ShippedFamilyError(`shipped demo ${role} ${path} has ${bytes} bytes, expected ${f.bytes} (truncated or replaced); ${howToRestore(dir, shipped)}`);
    const sum = sha256File(path);
    if (sum !== f.sha256) throw new ShippedFamilyError(`shipped demo ${role} ${path}: SHA-256 ${sum} does not match the recorded ${f.sha256} (the file is damaged); ${howToRestore(dir, shipped)}`);
    paths[role] = path;
  }
  const manifest = readManifest(dir);
  if (!manifest) throw new ShippedFamilyError(`shipped demo family ${dir} has no manifest.json; ${howToRestore(dir, shipped)}`);
  return { paths, shipped, manifest };
}

/** The headline figures of a `cosec demo evaluate` summary (summary.json of the security evaluation). */
function figuresOf(from: string, seed: number): Record<string, unknown> | null {
  const dir = join(from, LAYOUT.evalRun(seed, 128));
  const path = join(dir, "summary.json");
  if (!existsSync(path)) return null;
  const s = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  const demoPath = join(dir, "demo-figures.json");
  return {
    command: `node bin/cosec.mjs demo evaluate (24 trained scenarios, 25 samples, seed ${seed}, 128 tokens)`,
    analyzer: s.analyzer,
    overall: s.overall,
    byCwe: s.byCwe,
    ...(existsSync(demoPath) ? (JSON.parse(readFileSync(demoPath, "utf8")) as Record<string, unknown>) : {}),
  };
}

/**
 * Copies a finished family (`cosec demo build --out FROM`) into the shipped folder with its
 * checksums. Each file goes through a temporary name, and shipped.json is written last, so an
 * interrupted ship never leaves a record that matches half-copied files.
 */
export function shipFamily(from: string, to = SHIPPED_DIR, evalSeed = 1): ShippedFamily {
  const family = familyPaths(from);
  const m = readManifest(from);
  if (!family || !m) throw new ShippedFamilyError(`${from} holds no finished demo family (run \`cosec demo build --out ${from}\` first)`);
  mkdirSync(to, { recursive: true });
  const files = {} as Record<FamilyRole, ShippedFile>;
  for (const role of ROLES) {
    const dest = join(to, SHIPPED_FILES[role]);
    copyFileSync(family[role], `${dest}.tmp`);
    renameSync(`${dest}.tmp`, dest);
    files[role] = { file: SHIPPED_FILES[role], sha256: sha256File(dest), bytes: statSync(dest).size };
  }
  // The manifest without machine paths: the stage keys name the data by digest.
  writeManifest(to, { ...m, data: "shared data (SVEN); see the corpus stage's key for its digest", partial: undefined, gguf: { target: SHIPPED_FILES.target, expert: SHIPPED_FILES.expert, expertLora: SHIPPED_FILES.expertLora } });
  const shipped: ShippedFamily = {
    version: SHIPPED_VERSION,
    budget: m.budget,
    seed: m.seed,
    rebuild: rebuildCommands(m.budget, m.seed),
    files,
    figures: figuresOf(from, evalSeed),
    shippedAt: new Date().toISOString(),
  };
  const path = join(to, "shipped.json");
  writeFileSync(`${path}.tmp`, JSON.stringify(shipped, null, 2) + "\n");
  renameSync(`${path}.tmp`, path);
  return shipped;
}
