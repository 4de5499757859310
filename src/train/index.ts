// TypeScript side of training: run the Python trainer and follow its progress.
export { LineSplitter, parseEventLine, type ProgressEvent, type TrainerEvent } from "./events.ts";
export { formatDuration, formatRate, ProgressBar, renderProgress } from "./progress-bar.ts";
export { PHASES, runTrainer, trainerCommand, TrainerFailedError, type Phase, type RunTrainerOptions } from "./run-trainer.ts";
