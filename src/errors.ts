/** Exit codes meshgw promises (README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  environment: 3,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export type MeshgwErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'STATE_MISSING'
  | 'TOOL_MISSING'
  | 'CREDENTIALS_MISSING'
  | 'CLUSTER_UNREACHABLE'
  | 'STACK_FAILED'
  | 'STACK_BAD_STATE'
  | 'DEPLOY_FAILED'
  | 'STARTUP_FAILED'
  | 'CHECK_FAILED'
  | 'ABORTED';

const EXIT_BY_CODE: Record<MeshgwErrorCode, ExitCodeValue> = {
  USAGE: ExitCode.usage,
  CONFIG_INVALID: ExitCode.usage,
  CONFIG_NOT_FOUND: ExitCode.usage,
  STATE_MISSING: ExitCode.environment,
  TOOL_MISSING: ExitCode.environment,
  CREDENTIALS_MISSING: ExitCode.environment,
  CLUSTER_UNREACHABLE: ExitCode.environment,
  STACK_FAILED: ExitCode.checkFailed,
  STACK_BAD_STATE: ExitCode.checkFailed,
  DEPLOY_FAILED: ExitCode.checkFailed,
  STARTUP_FAILED: ExitCode.checkFailed,
  CHECK_FAILED: ExitCode.checkFailed,
  ABORTED: ExitCode.checkFailed,
};

/**
 * The one error type meant for the user: what happened (message) and what to do next (hint).
 * Anything else that reaches the CLI entry is a bug and prints its stack only with --debug.
 */
export class MeshgwError extends Error {
  readonly code: MeshgwErrorCode;
  readonly hint: string | undefined;

  constructor(code: MeshgwErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MeshgwError';
    this.code = code;
    this.hint = hint;
  }

  get exitCode(): ExitCodeValue {
    return EXIT_BY_CODE[this.code];
  }
}

export function isMeshgwError(err: unknown): err is MeshgwError {
  return err instanceof MeshgwError;
}
