import type { Writable } from 'node:stream';

export type OutputMode = 'text' | 'json';

/** A long step shown as a spinner on a terminal, as plain lines otherwise. */
export interface Step {
  update(text: string): void;
  succeed(text?: string): void;
  /** Done, but with a warning (⚠): e.g. a verify check that passed below a policy threshold. Optional so that test reporters need not implement it. */
  warn?(text?: string): void;
  fail(text?: string): void;
}

/**
 * The one place that writes to the terminal (after the AWS CDK's I/O host): feature code returns
 * data or emits events, commands hand them here. Progress goes to stderr so that stdout carries
 * only the result, which under --output json is one JSON document.
 */
export interface Reporter {
  readonly mode: OutputMode;
  step(text: string): Step;
  /** A progress line (stderr). Silent in json mode unless verbose. */
  info(text: string): void;
  warn(text: string): void;
  /** The command's result: JSON on stdout in json mode, the rendered text otherwise. */
  result(data: unknown, renderText: () => string): void;
}

export interface ReporterStreams {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

export async function createReporter(mode: OutputMode, streams: ReporterStreams = process): Promise<Reporter> {
  const interactive = mode === 'text' && Boolean(streams.stderr.isTTY) && !process.env.CI;
  const ora = interactive ? (await import('ora')).default : undefined;
  const err = (line: string) => streams.stderr.write(line + '\n');
  return {
    mode,
    step(text) {
      if (ora) {
        const spinner = ora({ text, stream: streams.stderr }).start();
        return {
          update: (t) => void (spinner.text = t),
          succeed: (t) => void spinner.succeed(t ?? spinner.text),
          warn: (t) => void spinner.warn(t ?? spinner.text),
          fail: (t) => void spinner.fail(t ?? spinner.text),
        };
      }
      if (mode === 'text') err(`… ${text}`);
      let current = text;
      return {
        update: (t) => {
          current = t;
          if (mode === 'text') err(`  ${t}`);
        },
        succeed: (t) => void (mode === 'text' && err(`✔ ${t ?? current}`)),
        warn: (t) => void (mode === 'text' && err(`⚠ ${t ?? current}`)),
        fail: (t) => void (mode === 'text' && err(`✖ ${t ?? current}`)),
      };
    },
    info(text) {
      if (mode === 'text') err(text);
    },
    warn(text) {
      err(`warning: ${text}`);
    },
    result(data, renderText) {
      if (mode === 'json') streams.stdout.write(JSON.stringify(data, null, 2) + '\n');
      else streams.stdout.write(renderText() + '\n');
    },
  };
}
