// `cosec eval <security|analyzer|humaneval>`: each evaluation has its own thin command file.
import { pickCommand, type Commands } from "./main.ts";

const SUBCOMMANDS: Commands = {
  security: { summary: "security ratio of generated code on SVEN scenarios", load: () => import("./eval-security.ts") },
  analyzer: { summary: "accuracy of an analyzer on SVEN's vulnerable/fixed pairs", load: () => import("./eval-analyzer.ts") },
  humaneval: { summary: "functional correctness (pass@k) on HumanEval", load: () => import("./eval-humaneval.ts") },
};

export async function run(argv: string[]): Promise<number> {
  const picked = pickCommand(argv, SUBCOMMANDS, "cosec eval", "evaluation", "its options");
  return typeof picked === "number" ? picked : (await picked.load()).run(picked.rest);
}
