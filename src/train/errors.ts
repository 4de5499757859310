// What can go wrong running the Python trainer, one class per cause so callers can tell them apart.
import { CosecError } from "../errors.ts";

/** The interpreter is missing or could not be started. */
export class TrainerStartError extends CosecError {}

/** The trainer exited non-zero or was killed: its own error message, else the tail of its stderr. */
export class TrainerFailedError extends CosecError {
  constructor(
    message: string,
    /** null when it was killed by a signal or never ran. */
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null = null,
  ) {
    super(message);
  }
}

/** Stopped through the caller's AbortSignal; a rerun with --resume continues from its checkpoint. */
export class TrainerInterruptedError extends CosecError {}

/** A stdout line that is a JSON event the contract (trainer/contract.json) does not allow. */
export class TrainerProtocolError extends CosecError {
  constructor(
    readonly line: string,
    reason: string,
  ) {
    super(`trainer protocol: ${reason} in line ${line.length > 300 ? `${line.slice(0, 300)}...` : line}`);
  }
}

/** The trainer finished but did not write what it should have (a checkpoint, a file). */
export class TrainerOutputError extends CosecError {}
