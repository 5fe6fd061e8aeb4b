/** Exit codes: 0 done, 1 refused or failed, 2 usage (unknown command or option, a bad value). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A failure the CLI reports as `error: CODE: message` on stderr, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage mistake found after parsing (values that only make sense together): exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, undefined, EXIT.usage);
    this.name = 'UsageError';
  }
}

/** The API refused or failed: its status, and the body's stable `code` and message. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message, code, EXIT.failed);
    this.name = 'ApiError';
  }
}
