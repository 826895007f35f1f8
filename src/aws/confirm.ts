import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { MeshgwError } from '../errors.js';
import type { Confirm } from './deploy-stack.js';

export interface ConfirmOptions {
  /** --yes: every question is answered yes without asking. */
  yes: boolean;
  input: Readable & { isTTY?: boolean };
  output: Writable;
  /** The flag to name when no one can answer. */
  flag?: string;
}

/**
 * A yes/no prompt on the terminal. With --yes it answers itself; without a terminal to ask on it
 * refuses rather than guessing, since the question is about changing or deleting AWS resources.
 */
export function createConfirm(opts: ConfirmOptions): Confirm {
  return async (question) => {
    if (opts.yes) return true;
    if (!opts.input.isTTY) {
      throw new MeshgwError('USAGE', `"${question}" needs an answer, and there is no terminal to ask on`, `Pass ${opts.flag ?? '--yes'} to proceed without asking.`);
    }
    const rl = createInterface({ input: opts.input, output: opts.output });
    // On a terminal readline takes Ctrl-C (and Ctrl-D ends the input) before the process sees it:
    // either one answers no.
    const gaveUp = new AbortController();
    rl.once('SIGINT', () => gaveUp.abort());
    rl.once('close', () => gaveUp.abort());
    try {
      const answer = await rl.question(`${question} [y/N] `, { signal: gaveUp.signal });
      return /^y(es)?$/i.test(answer.trim());
    } catch (err) {
      if (gaveUp.signal.aborted) return false;
      throw err;
    } finally {
      rl.close();
    }
  };
}
