// Typed errors carry what a user needs to fix the input; every front end prints `message`.

export class CosecError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A GGUF file that is missing, truncated, or not a model llama.cpp can load. */
export class ModelLoadError extends CosecError {}

/** The project's native kernels addon is not built (set-up builds it). */
export class NativeAddonError extends CosecError {}

/** Two models that would be co-decoded do not share a token list. */
export class VocabularyMismatchError extends CosecError {
  constructor(
    message: string,
    readonly firstDifferingId: number | null,
  ) {
    super(message);
  }
}

/** A prompt (plus generation budget) that does not fit the context. */
export class ContextOverflowError extends CosecError {}

/** An unknown strategy name or invalid strategy parameters. */
export class StrategyError extends CosecError {}

/** A malformed line in a dataset (names file and line). */
export class DatasetLineError extends CosecError {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }
}

/** A results file (JSONL) damaged other than by a torn final write: names the file and the byte. */
export class ResultsFileError extends CosecError {
  constructor(
    readonly file: string,
    readonly byteOffset: number,
    reason: string,
  ) {
    super(`${file}: ${reason} at byte ${byteOffset}`);
  }
}

/** Invalid user input to a command or API (names the field). */
export class InvalidArgumentError extends CosecError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** A security-evaluation scenario folder that cannot be used (names the folder and what is wrong). */
export class ScenarioError extends CosecError {
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`scenario ${dir}: ${reason}`);
  }
}

/** An external analyzer or checker (python worker, gcc, codeql) that failed to run. */
export class AnalyzerError extends CosecError {}

/**
 * An HTTP API request the server refuses: HTTP status plus OpenAI's error fields (`param` names the
 * offending request field, `code` a machine-readable reason).
 */
export class ApiRequestError extends CosecError {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type: string = status >= 500 ? "server_error" : "invalid_request_error",
  ) {
    super(message);
  }
}
