// TypeScript side of training: run the Python trainer and follow its progress.
export { CONTRACT_FILE, eventProblem, trainerContract, TrainerContractError, type TrainerContract } from "./contract.ts";
export { TrainerFailedError, TrainerInterruptedError, TrainerOutputError, TrainerProtocolError, TrainerStartError } from "./errors.ts";
export { LineSplitter, parseEventLine, type ProgressEvent, type TrainerEvent } from "./events.ts";
export { launchTrainer, pythonCommand, trainerEnv, TRAINER_PACKAGE, type LaunchOptions } from "./launch.ts";
export { formatDuration, formatRate, ProgressBar, renderProgress } from "./progress-bar.ts";
export { PHASES, runTrainer, trainerCommand, type Phase, type RunTrainerOptions } from "./run-trainer.ts";
