#!/usr/bin/env node
// One set-up for every entry point (`npm run demo`, `npm test`, CI): idempotent, prints what it did.
// Plain Node (no dependencies) because it runs before node_modules exists.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cacheDir = join(root, ".cache");
const stampPath = join(cacheDir, "setup-stamp.json");
const quiet = process.argv.includes("--quiet");

// Debian tools used by the analyzers (cppcheck, flawfinder, gcc) and the HumanEval sandbox (bubblewrap).
const APT_TOOLS = [
  { bin: "bwrap", pkg: "bubblewrap" },
  { bin: "cppcheck", pkg: "cppcheck" },
  { bin: "flawfinder", pkg: "flawfinder" },
  { bin: "gcc", pkg: "gcc" },
  { bin: "bandit", pkg: "bandit" },
  { bin: "clang-16", pkg: "clang-16" },
];

function log(msg) {
  if (!quiet) console.log(`[setup] ${msg}`);
}

function sha(...files) {
  const h = createHash("sha256");
  for (const f of files) h.update(existsSync(f) ? readFileSync(f) : "");
  return h.digest("hex").slice(0, 16);
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: root, stdio: quiet ? "pipe" : "inherit", ...opts });
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(stampPath, "utf8"));
  } catch {
    return {};
  }
}

function which(bin) {
  return spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "pipe" }).status === 0;
}

mkdirSync(cacheDir, { recursive: true });
const stamp = readStamp();
const done = [];

// 1. Node dependencies.
const lockHash = sha(join(root, "package.json"), join(root, "package-lock.json"));
if (!existsSync(join(root, "node_modules", "node-llama-cpp")) || stamp.node !== lockHash) {
  log("installing node dependencies (npm ci)");
  const r = run("npm", ["ci", "--no-audit", "--no-fund"]);
  if (r.status !== 0) throw new Error("npm ci failed");
  stamp.node = lockHash;
  done.push("node dependencies installed");
} else done.push("node dependencies: up to date");

// 2. Python venv for the trainer: local wheels, then Debian's torch, then a plain index.
const py = join(root, ".venv", "bin", "python");
const reqPath = join(root, "trainer", "requirements.txt");
const reqHash = sha(reqPath);
const venvOk = () =>
  existsSync(py) &&
  spawnSync(py, ["-c", "import torch, numpy, safetensors, gguf, transformers, peft, tokenizers, pytest, yaml"], {
    stdio: "pipe",
  }).status === 0;

if (!venvOk() || stamp.venv !== reqHash) {
  let how = null;
  log("creating .venv (1/3: pip with the machine's local wheel folders)");
  run("python3", ["-m", "venv", ".venv"]);
  let r = run(join(root, ".venv", "bin", "pip"), ["install", "--retries", "0", "-q", "-r", reqPath]);
  if (r.status === 0 && venvOk()) how = "pip (local wheels / configured index)";
  if (!how) {
    log("2/3: Debian python3-torch + libopenblas0-pthread, rest from pip");
    run("apt-get", ["install", "-y", "-q", "python3-torch", "libopenblas0-pthread", "python3-venv"]);
    run("python3", ["-m", "venv", "--clear", "--system-site-packages", ".venv"]);
    const rest = readFileSync(reqPath, "utf8")
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("#") && !l.startsWith("torch"));
    r = run(join(root, ".venv", "bin", "pip"), ["install", "--retries", "0", "-q", ...rest]);
    if (venvOk()) how = "Debian python3-torch + pip for the rest";
  }
  if (!how) {
    log("3/3: plain pip index");
    r = run(join(root, ".venv", "bin", "pip"), ["install", "-q", "-r", reqPath]);
    if (venvOk()) how = "plain pip index";
  }
  if (!how) throw new Error("could not create a Python environment with torch; see the messages above");
  stamp.venv = reqHash;
  done.push(`.venv created via ${how}`);
} else done.push(".venv: up to date");

// 3. Debian tools (analyzers, sandbox); best effort: evaluation reports which are missing.
const missing = APT_TOOLS.filter((t) => !which(t.bin));
if (missing.length > 0) {
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    log(`installing ${missing.map((t) => t.pkg).join(", ")} (apt-get)`);
    if (!stamp.aptUpdated) {
      run("apt-get", ["update", "-q"]);
      stamp.aptUpdated = true;
    }
    run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing.map((t) => t.pkg)], {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  }
  const still = APT_TOOLS.filter((t) => !which(t.bin));
  done.push(
    still.length === 0
      ? `installed ${missing.map((t) => t.pkg).join(", ")}`
      : `missing tools (install them with apt): ${still.map((t) => t.pkg).join(", ")}`,
  );
} else done.push("analyzer/sandbox tools: present");

// 4. The native logits addon over node-llama-cpp's llama.cpp.
const addonHash = sha(join(root, "native", "cosec_addon.cpp"), join(root, "scripts", "build-addon.mjs"), lockHash);
const addonPath = join(root, "native", "build", "cosec_addon.node");
if (!existsSync(addonPath) || stamp.addon !== addonHash) {
  log("building the native logits addon");
  execFileSync(process.execPath, [join(root, "scripts", "build-addon.mjs")], { cwd: root, stdio: quiet ? "pipe" : "inherit" });
  stamp.addon = addonHash;
  done.push("native addon built");
} else done.push("native addon: up to date");

writeFileSync(stampPath, JSON.stringify(stamp, null, 2));
log(done.join("; "));
