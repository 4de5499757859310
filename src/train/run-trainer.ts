// `python -m cosec_trainer <phase> ...`: the trainer's phases, started through launch.ts.
import { launchTrainer, pythonCommand, TRAINER_PACKAGE, type LaunchOptions } from "./launch.ts";
import type { TrainerEvent } from "./events.ts";

export const PHASES = ["create", "pretrain", "distill", "security", "export"] as const;
export type Phase = (typeof PHASES)[number];

export type RunTrainerOptions = LaunchOptions;

export function trainerCommand(phase: Phase, args: string[], processes = 1, python?: string): { cmd: string; args: string[] } {
  return pythonCommand(TRAINER_PACKAGE, [phase, ...args], processes, python);
}

/** Runs one phase; resolves with its events, rejects with a named error (see errors.ts). */
export function runTrainer(phase: Phase, args: string[], opts: RunTrainerOptions = {}): Promise<TrainerEvent[]> {
  return launchTrainer(TRAINER_PACKAGE, [phase, ...args], opts);
}
