// `cosec eval <security|analyzer|humaneval>`: each evaluation has its own thin command file.
type CommandModule = { run(argv: string[]): Promise<number> };

const SUBCOMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  security: { summary: "security ratio of generated code on SVEN scenarios", load: () => import("./eval-security.ts") },
  analyzer: { summary: "accuracy of an analyzer on SVEN's vulnerable/fixed pairs", load: () => import("./eval-analyzer.ts") },
  humaneval: { summary: "functional correctness (pass@k) on HumanEval", load: () => import("./eval-humaneval.ts") as Promise<CommandModule> },
};

function usage(): string {
  const lines = ["usage: cosec eval <evaluation> [options]", "", "evaluations:"];
  for (const [name, c] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push("", "Run `cosec eval <evaluation> --help` for its options.");
  return lines.join("\n");
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const sub = SUBCOMMANDS[name];
  if (!sub) {
    console.error(`cosec eval: unknown evaluation '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await sub.load()).run(rest);
}
