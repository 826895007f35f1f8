/**
 * How meshgw runs the user's tools (docker, git, istioctl, helm): one narrow interface, so tests can
 * assert the exact argv and stdin, and so secrets can only travel on stdin.
 */
export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The executable was not found on PATH. */
  missing: boolean;
}

export interface ToolRunner {
  exec(cmd: string, args: string[], opts?: { input?: string; cwd?: string; env?: Record<string, string> }): Promise<ToolResult>;
}

/** `env` is added to the process environment (tests put fake tools first on PATH). */
export function createExecaRunner(signal?: AbortSignal, env?: Record<string, string>): ToolRunner {
  return {
    async exec(cmd, args, opts = {}) {
      const { execa } = await import('execa');
      const r = await execa(cmd, args, {
        reject: false,
        // Always close stdin: a tool waiting for input would otherwise hang the command.
        input: opts.input ?? '',
        cwd: opts.cwd,
        env: { ...env, ...opts.env },
        cancelSignal: signal,
        stripFinalNewline: true,
        // Builds print a lot: keep the tail, not the whole stream, in memory.
        maxBuffer: 64 * 1024 * 1024,
      });
      const missing = (r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String((r as { originalMessage?: string }).originalMessage ?? ''));
      return { exitCode: r.exitCode ?? (missing ? 127 : 1), stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), missing };
    },
  };
}

/** The last few lines of a tool's output, for an error message. */
export function tail(text: string, lines = 8): string {
  return text.split('\n').filter((l) => l.trim()).slice(-lines).join('\n');
}
