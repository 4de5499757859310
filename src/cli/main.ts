// `cosec` entry: dispatches to one thin file per command (loaded lazily so start-up stays fast).
import { CosecError } from "../errors.ts";

type CommandModule = { run(argv: string[]): Promise<number> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  generate: { summary: "generate text with a target (+ expert) GGUF pair", load: () => import("./generate.ts") },
  train: { summary: "pretrain | distill | security | export (PyTorch trainer)", load: () => import("./train.ts") },
  "eval": { summary: "security | analyzer | humaneval evaluations", load: () => import("./eval.ts") },
  analyze: { summary: "judge .py/.c files with an analyzer; findings as text or SARIF", load: () => import("./analyze.ts") },
  serve: { summary: "OpenAI-compatible HTTP server with co-decoding", load: () => import("./serve.ts") },
  demo: { summary: "build the small model family and show co-decoding (build | evaluate)", load: () => import("./demo.ts") },
};

function usage(): string {
  const lines = ["usage: cosec <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push("", "Run `cosec <command> --help` for a command's options.");
  return lines.join("\n");
}

function isArgumentError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`cosec: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    if (err instanceof CosecError) {
      console.error(`cosec ${name}: ${err.message}`);
      return 1;
    }
    // node's parseArgs: an unknown option, a missing value, a value that looks like an option
    if (isArgumentError(err)) {
      console.error(`cosec ${name}: ${err.message}\nRun \`cosec ${name} --help\` for the options.`);
      return 2;
    }
    throw err;
  }
}
