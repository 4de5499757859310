// Crash safety, measured: `cosec eval security`, `cosec eval humaneval` and `cosec train` are each
// run once uninterrupted into a reference folder, then again into another folder, where the whole
// process group is killed with SIGKILL at seeded random moments (--kills times) and the same
// command is re-run until it completes. Compared afterwards: the records (every field that is
// deterministic given the seed), none lost or duplicated; after every kill, that no file under its
// final name is half-written (JSON that parses, checkpoints that load; only an append-only JSONL
// may end in a torn line, which the resume drops); for training, the loss curve and the final
// weights against the uninterrupted run.
//
// A kill time is drawn uniformly over the attempt's expected remaining lifetime (start-up, the
// records still missing, the final writes; estimated from the reference run), so kills land
// during model loading, mid-run and during the last writes alike.
//
//   node --import tsx bench/crash-safety.ts [--seed N] [--kills 5] [--job security|humaneval|train|all]
//        [--work DIR] [--json out.json]
// Small configurations on the shipped demo models (models/demo) and a tiny training run; a few
// minutes on 2 cores; stops by itself.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { SHIPPED_DIR } from "../src/demo/shipped.ts";
import { mulberry32 } from "../src/eval/stats.ts";
import { dataRoot, repoRoot, venvPython } from "../src/paths.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    kills: { type: "string", default: "5" },
    job: { type: "string", default: "all" },
    work: { type: "string" },
    json: { type: "string" },
  },
});
const JOBS = ["security", "humaneval", "train"] as const;
type JobName = (typeof JOBS)[number];
if (values.job !== "all" && !(JOBS as readonly string[]).includes(values.job)) {
  throw new Error(`--job: expected security, humaneval, train or all, got ${values.job}`);
}
const SEED = Number(values.seed);
const KILLS = Number(values.kills);
if (!Number.isInteger(SEED) || !Number.isInteger(KILLS) || KILLS < 0) throw new Error("--seed and --kills take integers (kills >= 0)");
const work = values.work ?? join(tmpdir(), `cosec-crash-safety-${process.pid}`);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// ------------------------------------------------------------------ files

const readLines = (file: string): string[] => (existsSync(file) ? readFileSync(file, "utf8").split("\n") : []);

/** An append-only JSONL after a kill: complete lines must parse; only an unterminated tail may not. */
function jsonlState(file: string): { records: Record<string, unknown>[]; torn: boolean; damaged: number } {
  const lines = readLines(file);
  const records: Record<string, unknown>[] = [];
  let torn = false;
  let damaged = 0;
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    try {
      records.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      if (i === lines.length - 1) torn = true;
      else damaged++;
    }
  });
  return { records, torn, damaged };
}

/** Files under their final names that must be whole: JSON parses, HTML is closed. */
function halfWritten(dir: string, json: string[], html: string[]): string[] {
  const bad: string[] = [];
  for (const f of json) {
    const p = join(dir, f);
    if (!existsSync(p)) continue;
    try {
      JSON.parse(readFileSync(p, "utf8"));
    } catch (e) {
      bad.push(`${f}: ${(e as Error).message}`);
    }
  }
  for (const f of html) {
    const p = join(dir, f);
    if (existsSync(p) && !readFileSync(p, "utf8").trimEnd().endsWith("</html>")) bad.push(`${f}: not closed`);
  }
  return bad;
}

const tmpLeftovers = (dir: string): number => (existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((f) => /\.tmp/.test(String(f))).length : 0);

/** Every committed checkpoint loads (state, RNG, model weights and JSON); `latest` names one. */
const CHECK_CKPT = `
import json, sys, torch
from pathlib import Path
from safetensors.torch import load_file
root = Path(sys.argv[1]) / "checkpoints"
bad, checked = [], 0
if root.is_dir():
    latest = root / "latest"
    if latest.exists():
        name = latest.read_text()
        if not name.endswith("\\n") or not (root / name.strip() / "state.pt").is_file():
            bad.append(f"latest names {name!r}, not a complete checkpoint")
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        checked += 1
        try:
            torch.load(d / "state.pt", weights_only=False)
            torch.load(d / "rng-rank0.pt", weights_only=False)
            for f in (d / "model").rglob("*.safetensors"):
                load_file(str(f))
            for f in (d / "model").rglob("*.json"):
                json.loads(f.read_text())
        except Exception as e:
            bad.append(f"{d.name}: {type(e).__name__}: {e}")
print(json.dumps({"checked": checked, "bad": bad}))
`;

function checkCheckpoints(runDir: string): { checked: number; bad: string[] } {
  const p = spawnSync(venvPython(), ["-c", CHECK_CKPT, runDir], { encoding: "utf8" });
  if (p.status !== 0) throw new Error(`checkpoint check failed: ${p.stderr}`);
  return JSON.parse(p.stdout) as { checked: number; bad: string[] };
}

// ------------------------------------------------------------------ jobs

interface Job {
  name: JobName;
  /** argv after `node bin/cosec.mjs`, the same for every attempt. */
  argv: (out: string) => string[];
  /** Records on disk (kill scheduling): results lines, or training steps logged. */
  progress: (out: string) => number;
  /** Where a resumed attempt starts (records kept; for training the last checkpoint's step). */
  resumesAt: (out: string) => number;
  total: number;
  /** Half-written files under final names, after a kill. */
  check: (out: string) => { bad: string[]; torn: boolean; checkpoints?: number };
  /** Compare the finished killed run with the reference. */
  compare: (ref: string, got: string, stdout: { ref: string; got: string }) => Comparison;
}

interface Comparison {
  records: number;
  lost: number;
  duplicated: number;
  differing: number;
  extra: Record<string, string | number | boolean>;
}

const models = ["--target", join(SHIPPED_DIR, "target.gguf"), "--expert", join(SHIPPED_DIR, "expert.gguf"), "--expert-lora", join(SHIPPED_DIR, "expert-security-lora.gguf")];

/** Records keyed; duplicates and the fields compared (everything but `ignore`). */
function compareRecords(refFile: string, gotFile: string, keyOf: (r: Record<string, unknown>) => string, ignore: string[]): Comparison {
  const strip = (r: Record<string, unknown>) => JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => !ignore.includes(k))));
  const ref = new Map(jsonlState(refFile).records.map((r) => [keyOf(r), strip(r)]));
  const gotState = jsonlState(gotFile);
  const got = new Map<string, string>();
  let duplicated = 0;
  for (const r of gotState.records) {
    const k = keyOf(r);
    if (got.has(k)) duplicated++;
    got.set(k, strip(r));
  }
  let lost = 0;
  let differing = 0;
  for (const [k, v] of ref) {
    if (!got.has(k)) lost++;
    else if (got.get(k) !== v) differing++;
  }
  const unexpected = [...got.keys()].filter((k) => !ref.has(k)).length;
  return { records: ref.size, lost, duplicated, differing, extra: { unexpected, damagedLines: gotState.damaged + (gotState.torn ? 1 : 0) } };
}

function sameJson(a: string, b: string, drop: string[] = []): boolean {
  if (!existsSync(a) || !existsSync(b)) return false;
  const clean = (p: string) => {
    const o = JSON.parse(readFileSync(p, "utf8")) as Record<string, unknown>;
    for (const k of drop) delete o[k];
    return JSON.stringify(o);
  };
  return clean(a) === clean(b);
}

const securityJob: Job = {
  name: "security",
  argv: (out) => [
    "eval", "security", ...models,
    "--only", "cwe-089/0-py,cwe-078/0-py,cwe-022/0-py,cwe-476/0-c",
    "--strategies", "target,cosec-plus", "--samples", "6", "--batch", "2", "--max-tokens", "64", "--seed", "3",
    "--analyzer", "builtin", "--threads", "1", "--out", out,
  ],
  progress: (out) => jsonlState(join(out, "results.jsonl")).records.length,
  resumesAt: (out) => jsonlState(join(out, "results.jsonl")).records.length,
  total: 4 * 2 * 6,
  check: (out) => {
    const s = jsonlState(join(out, "results.jsonl"));
    const bad = halfWritten(out, ["run.json", "summary.json", "findings.sarif"], ["report.html"]);
    if (s.damaged) bad.push(`results.jsonl: ${s.damaged} damaged lines before the end`);
    return { bad, torn: s.torn };
  },
  compare: (ref, got) => {
    const c = compareRecords(join(ref, "results.jsonl"), join(got, "results.jsonl"), (r) => `${String(r.scenario)}|${String(r.strategy)}|${String(r.sample)}`, []);
    c.extra.summaryEqual = sameJson(join(ref, "summary.json"), join(got, "summary.json"));
    return c;
  },
};

const humanevalJob: Job = {
  name: "humaneval",
  argv: (out) => [
    "eval", "humaneval", ...models,
    "--strategies", "target,cosec-plus", "--limit", "4", "--n", "4", "--k", "1,2", "--batch", "2", "--max-tokens", "48", "--seed", "7",
    "--jobs", "1", "--timeout", "5", "--threads", "1", "--out", out,
  ],
  progress: (out) => jsonlState(join(out, "samples.jsonl")).records.length,
  resumesAt: (out) => jsonlState(join(out, "samples.jsonl")).records.length,
  total: 4 * 2 * 4,
  check: (out) => {
    const s = jsonlState(join(out, "samples.jsonl"));
    const bad = halfWritten(out, ["run.json", "summary.json"], ["report.html"]);
    if (s.damaged) bad.push(`samples.jsonl: ${s.damaged} damaged lines before the end`);
    return { bad, torn: s.torn };
  },
  // executionMs is wall-clock time, the one field not fixed by the seed
  compare: (ref, got) => {
    const c = compareRecords(join(ref, "samples.jsonl"), join(got, "samples.jsonl"), (r) => `${String(r.problem)}|${String(r.strategy)}|${String(r.sample)}`, ["executionMs"]);
    c.extra.summaryEqual = sameJson(join(ref, "summary.json"), join(got, "summary.json"));
    return c;
  },
};

const TRAIN_STEPS = 24;
const corpus = join(work, "train-text.jsonl");
const lossLines = (out: string) => jsonlState(join(out, "metrics.jsonl")).records.filter((r) => typeof r.loss === "number");
const trainJob: Job = {
  name: "train",
  argv: (out) => [
    "train", "pretrain", "--data", corpus, "--size", "tiny", "--block", "32", "--val-fraction", "0.2", "--max-val", "4",
    "--steps", String(TRAIN_STEPS), "--batch-size", "4", "--lr", "3e-3", "--warmup", "2", "--save-every", "4", "--eval-every", "8",
    "--threads", "1", "--seed", "5", "--run-dir", out, "--resume", "--json",
  ],
  progress: (out) => lossLines(out).length,
  resumesAt: (out) => {
    const latest = join(out, "checkpoints", "latest");
    return existsSync(latest) ? Number(/step-(\d+)/.exec(readFileSync(latest, "utf8"))?.[1] ?? 0) : 0;
  },
  total: TRAIN_STEPS,
  check: (out) => {
    const m = jsonlState(join(out, "metrics.jsonl"));
    const bad = halfWritten(out, ["config.json"], []);
    if (m.damaged) bad.push(`metrics.jsonl: ${m.damaged} damaged lines before the end`);
    const ck = checkCheckpoints(out);
    bad.push(...ck.bad);
    return { bad, torn: m.torn, checkpoints: ck.checked };
  },
  compare: (ref, got, stdout) => {
    const curve = (out: string) => {
      const steps = new Map<number, number>();
      let dup = 0;
      for (const r of lossLines(out)) {
        if (steps.has(r.step as number)) dup++;
        steps.set(r.step as number, r.loss as number);
      }
      return { steps, dup };
    };
    const a = curve(ref);
    const b = curve(got);
    let lost = 0;
    let differing = 0;
    let maxDiff = 0;
    for (const [s, l] of a.steps) {
      const m = b.steps.get(s);
      if (m === undefined) lost++;
      else {
        maxDiff = Math.max(maxDiff, Math.abs(m - l));
        if (m !== l) differing++;
      }
    }
    const evals = (out: string) => JSON.stringify(jsonlState(join(out, "metrics.jsonl")).records.filter((r) => r.eval).map((r) => [r.step, r.eval]));
    const digest = (s: string) => /"weights_sha256": ?"([0-9a-f]+)"/.exec(s)?.[1] ?? null;
    return {
      records: a.steps.size,
      lost,
      duplicated: b.dup,
      differing,
      extra: {
        maxAbsLossDiff: maxDiff,
        evalsEqual: evals(ref) === evals(got),
        weightsEqual: digest(stdout.ref) !== null && digest(stdout.ref) === digest(stdout.got),
      },
    };
  },
};

// ------------------------------------------------------------------ running

interface Attempt {
  ms: number;
  stdout: string;
  code: number | null;
  killed: boolean;
  /** ms from spawn to the first and the last new record, when any appeared. */
  firstRecordMs: number | null;
  lastRecordMs: number | null;
  leftProcesses: number;
}

/** Members of process group `pgid` still alive. */
function groupMembers(pgid: number): number {
  const p = spawnSync("ps", ["-eo", "pgid=,stat="], { encoding: "utf8" });
  return p.stdout.split("\n").filter((l) => {
    const [g, stat] = l.trim().split(/\s+/);
    return Number(g) === pgid && !stat?.startsWith("Z");
  }).length;
}

/** One attempt of the job's command; SIGKILL to its whole process group after `killAfterMs`. */
async function attempt(job: Job, out: string, killAfterMs: number | null): Promise<Attempt> {
  const start = Date.now();
  const before = job.progress(out);
  // own process group: the kill takes the CLI and everything it started (trainer, sandboxes)
  const child = spawn(process.execPath, [join(repoRoot, "bin", "cosec.mjs"), ...job.argv(out)], {
    cwd: repoRoot,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, TOKENIZERS_PARALLELISM: "false" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let code: number | null | undefined;
  const exited = new Promise<void>((r) => child.on("exit", (c) => ((code = c), r())));
  let firstRecordMs: number | null = null;
  let lastRecordMs: number | null = null;
  let seen = before;
  let killed = false;
  const deadline = start + 300_000;
  while (code === undefined) {
    const now = Date.now();
    const p = job.progress(out);
    if (p !== seen) {
      if (p > before && firstRecordMs === null) firstRecordMs = now - start;
      if (p > seen) lastRecordMs = now - start;
      seen = p;
    }
    if ((killAfterMs !== null && now - start >= killAfterMs) || now > deadline) {
      process.kill(-child.pid!, "SIGKILL");
      killed = true;
      await exited;
      break;
    }
    await Promise.race([exited, sleep(10)]);
  }
  const ms = Date.now() - start;
  // the group (and bwrap's --die-with-parent sandboxes) should be gone at once; wait up to 5 s
  let left = groupMembers(child.pid!);
  for (const until = Date.now() + 5000; left > 0 && Date.now() < until; left = groupMembers(child.pid!)) await sleep(100);
  if (!killed && code !== 0) throw new Error(`${job.name}: exit ${code}\n${stderr}`);
  return { ms, stdout, code: code ?? null, killed, firstRecordMs, lastRecordMs, leftProcesses: left };
}

interface JobFigures {
  job: JobName;
  records: number;
  referenceS: number;
  killedRunS: number;
  attempts: number;
  killsLanded: number;
  killTimesS: number[];
  killedAtRecords: number[];
  tornLastLinesDropped: number;
  halfWritten: string[];
  checkpointsChecked: number;
  tmpLeftovers: number;
  processesLeft: number;
  comparison: Comparison;
}

async function runJob(job: Job, index: number): Promise<JobFigures> {
  // Seeded, one stream per job, so --job X draws the same kills as in all.
  const rand = mulberry32(SEED * 1000 + index);
  const ref = join(work, `${job.name}-reference`);
  const got = join(work, `${job.name}-killed`);
  process.stderr.write(`${job.name}: reference run\n`);
  const r = await attempt(job, ref, null);
  if (job.progress(ref) !== job.total) throw new Error(`${job.name}: reference run wrote ${job.progress(ref)} records, expected ${job.total}`);
  // lifetime model from the reference: start-up, per record, final writes
  const startup = r.firstRecordMs ?? r.ms / 2;
  const perRecord = r.lastRecordMs !== null && r.firstRecordMs !== null ? (r.lastRecordMs - r.firstRecordMs) / Math.max(1, job.total - 1) : 0;
  const tail = r.lastRecordMs !== null ? r.ms - r.lastRecordMs : 0;

  const figures: JobFigures = {
    job: job.name,
    records: job.total,
    referenceS: r.ms / 1000,
    killedRunS: 0,
    attempts: 0,
    killsLanded: 0,
    killTimesS: [],
    killedAtRecords: [],
    tornLastLinesDropped: 0,
    halfWritten: [],
    checkpointsChecked: 0,
    tmpLeftovers: 0,
    processesLeft: 0,
    comparison: { records: 0, lost: 0, duplicated: 0, differing: 0, extra: {} },
  };
  let last: Attempt | null = null;
  // a kill may miss (the attempt finished first); a few spare attempts, then the run is done anyway
  while (figures.killsLanded < KILLS && figures.attempts < KILLS + 3) {
    const remaining = startup + (job.total - job.resumesAt(got)) * perRecord + tail;
    const at = Math.round(rand() * remaining);
    process.stderr.write(`${job.name}: attempt ${figures.attempts + 1}, kill at ${(at / 1000).toFixed(2)} s\n`);
    last = await attempt(job, got, at);
    figures.attempts++;
    figures.killedRunS += last.ms / 1000;
    figures.processesLeft += last.leftProcesses;
    if (!last.killed) break; // finished before the kill: complete
    figures.killsLanded++;
    figures.killTimesS.push(Math.round(at) / 1000);
    figures.killedAtRecords.push(job.progress(got));
    const c = job.check(got);
    figures.halfWritten.push(...c.bad.map((b) => `after kill ${figures.killsLanded}: ${b}`));
    if (c.torn) figures.tornLastLinesDropped++;
    figures.checkpointsChecked += c.checkpoints ?? 0;
  }
  if (!last || last.killed) {
    process.stderr.write(`${job.name}: final resume\n`);
    last = await attempt(job, got, null);
    figures.attempts++;
    figures.killedRunS += last.ms / 1000;
  }
  figures.halfWritten.push(...job.check(got).bad.map((b) => `at the end: ${b}`));
  figures.tmpLeftovers = tmpLeftovers(got);
  figures.comparison = job.compare(ref, got, { ref: r.stdout, got: last.stdout });
  return figures;
}

// ------------------------------------------------------------------ main

const selected = values.job === "all" ? [...JOBS] : [values.job as JobName];
if (selected.includes("train")) {
  // 20 functions of SVEN's training set, as the trainer's resume test uses
  const src = join(dataRoot(), "datasets", "sven", "data_train_val", "train", "cwe-022.jsonl");
  const funcs = readFileSync(src, "utf8").trim().split("\n").slice(0, 20).map((l) => (JSON.parse(l) as { func_src_after: string }).func_src_after.slice(0, 1200));
  writeFileSync(corpus, funcs.map((t) => JSON.stringify({ text: t })).join("\n") + "\n");
}
const byName = { security: securityJob, humaneval: humanevalJob, train: trainJob };
const t0 = Date.now();
const results: JobFigures[] = [];
for (const name of selected) results.push(await runJob(byName[name], JOBS.indexOf(name)));

const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
console.log(`\ncrash safety: seed ${SEED}, ${KILLS} kills per job (SIGKILL to the process group), ${((Date.now() - t0) / 1000).toFixed(0)} s in all; work folder ${work}\n`);
console.log(row(["job", "records", "kills landed (s after start; records on disk)", "attempts", "lost", "duplicated", "differing", "torn last lines dropped", "half-written files", "other"]));
console.log(row(Array(10).fill("---")));
for (const f of results) {
  const c = f.comparison;
  const other = Object.entries(c.extra).map(([k, v]) => `${k} ${typeof v === "number" ? Number(v.toPrecision(3)) : v}`);
  if (f.checkpointsChecked) other.push(`checkpoints loaded ${f.checkpointsChecked}`);
  other.push(`reference ${f.referenceS.toFixed(1)} s, killed run ${f.killedRunS.toFixed(1)} s`, `tmp files left ${f.tmpLeftovers}`, `processes left ${f.processesLeft}`);
  console.log(
    row([
      f.job,
      c.records,
      `${f.killsLanded}: ${f.killTimesS.map((t, i) => `${t.toFixed(2)} (${f.killedAtRecords[i]})`).join(", ")}`,
      f.attempts,
      c.lost,
      c.duplicated,
      c.differing,
      f.tornLastLinesDropped,
      f.halfWritten.length,
      other.join("; "),
    ]),
  );
}
for (const f of results) for (const h of f.halfWritten) console.log(`${f.job}: half-written: ${h}`);
if (values.json) writeFileSync(values.json, JSON.stringify({ seed: SEED, kills: KILLS, results }, null, 2) + "\n");
const failed = results.some((f) => f.comparison.lost || f.comparison.duplicated || f.comparison.differing || f.halfWritten.length || f.killsLanded < KILLS);
if (!values.work) rmSync(work, { recursive: true, force: true });
process.exitCode = failed ? 1 : 0;
