// `cosec` entry: dispatches to one thin file per command (loaded lazily so start-up stays fast).
import { CosecError } from "../errors.ts";

type CommandModule = { run(argv: string[]): Promise<number> };
export type Commands = Record<string, { summary: string; load: () => Promise<CommandModule> }>;

const COMMANDS: Commands = {
  generate: { summary: "generate text with a target (+ expert) GGUF pair", load: () => import("./generate.ts") },
  train: { summary: "pretrain | distill | security | export (PyTorch trainer)", load: () => import("./train.ts") },
  "eval": { summary: "security | analyzer | humaneval evaluations", load: () => import("./eval.ts") },
  analyze: { summary: "judge .py/.c files with an analyzer; findings as text or SARIF", load: () => import("./analyze.ts") },
  serve: { summary: "OpenAI-compatible HTTP server with co-decoding", load: () => import("./serve.ts") },
  demo: { summary: "build the small model family and show co-decoding (build | evaluate)", load: () => import("./demo.ts") },
};

/**
 * `prog <noun> ...`: the command the first argument names, with the rest of the arguments; or,
 * after printing the usage (no name, --help) or an unknown name's error, the exit status.
 */
export function pickCommand(argv: string[], commands: Commands, prog: string, noun: string, helpFor: string) {
  const usage = [`usage: ${prog} <${noun}> [options]`, "", `${noun}s:`];
  for (const [name, c] of Object.entries(commands)) usage.push(`  ${name.padEnd(10)} ${c.summary}`);
  usage.push("", `Run \`${prog} <${noun}> --help\` for ${helpFor}.`);
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    console.log(usage.join("\n"));
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`${prog}: unknown ${noun} '${name}'\n\n${usage.join("\n")}`);
    return 2;
  }
  return { name, load: command.load, rest };
}

function isArgumentError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

export async function main(argv: string[]): Promise<number> {
  const picked = pickCommand(argv, COMMANDS, "cosec", "command", "a command's options");
  if (typeof picked === "number") return picked;
  const { name, load, rest } = picked;
  try {
    return await (await load()).run(rest);
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
