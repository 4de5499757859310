#!/usr/bin/env node
// Builds native/build/cosec_addon.node: g++ against llama.h from the llama.cpp source that
// node-llama-cpp ships (its git bundle), so struct layouts match its prebuilt libraries. The addon
// dlopens libllama at run time, so it is not linked to any one binary variant.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
// node-llama-cpp exports no package.json subpath: locate it beside node-addon-api in node_modules.
const nlcDir = join(dirname(dirname(require.resolve("node-addon-api/package.json"))), "node-llama-cpp");
const bundle = join(nlcDir, "llama", "gitRelease.bundle");
const info = JSON.parse(readFileSync(join(nlcDir, "llama", "llama.cpp.info.json"), "utf8"));
const srcDir = join(root, ".cache", `llama.cpp-${info.tag}`);

if (!existsSync(join(srcDir, "include", "llama.h"))) {
  rmSync(srcDir, { recursive: true, force: true });
  mkdirSync(dirname(srcDir), { recursive: true });
  console.log(`[build-addon] extracting llama.cpp ${info.tag} headers from node-llama-cpp's bundle`);
  execFileSync("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", "--depth", "1", bundle, srcDir], { stdio: "inherit" });
}

const nodeInclude = join(dirname(dirname(process.execPath)), "include", "node");
if (!existsSync(join(nodeInclude, "node_api.h"))) throw new Error(`Node headers not found at ${nodeInclude}`);
const napiInclude = dirname(require.resolve("node-addon-api/package.json"));
const outDir = join(root, "native", "build");
mkdirSync(outDir, { recursive: true });
const args = [
  "-std=c++17", "-O3", "-fno-math-errno", "-fassociative-math", "-fno-signed-zeros", "-fno-trapping-math", "-shared", "-fPIC", "-fvisibility=hidden",
  "-DNAPI_VERSION=8", "-DNAPI_CPP_EXCEPTIONS", "-DNODE_ADDON_API_DISABLE_DEPRECATED",
  `-I${nodeInclude}`, `-I${napiInclude}`, `-I${join(srcDir, "include")}`, `-I${join(srcDir, "ggml", "include")}`,
  join(root, "native", "cosec_addon.cpp"), "-o", join(outDir, "cosec_addon.node"), "-ldl",
];
const t0 = Date.now();
execFileSync(process.env.CXX ?? "g++", args, { stdio: "inherit" });
console.log(`[build-addon] built native/build/cosec_addon.node in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
