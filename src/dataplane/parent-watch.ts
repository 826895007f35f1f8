/**
 * A supervised process ends when its supervisor dies, even by SIGKILL: the local supervisor gives
 * each child a pipe as stdin and never writes to it, and the kernel closes the pipe's write end
 * when the supervisor exits, however it exits. The child then reads end-of-file at once.
 *
 * Why a pipe: Linux's PR_SET_PDEATHSIG is not reachable from Node and does not exist on macOS;
 * polling process.ppid notices late and costs a timer per process; Node's IPC channel would do
 * the same job but makes every child a Node IPC peer. A pipe's end-of-file is immediate and works
 * on every POSIX system. On Kubernetes no supervisor sets the variable, so nothing is watched.
 */

/** Set by the local supervisor in each child's environment: "stdin" means stdin is the lifeline. */
export const SUPERVISOR_PIPE_ENV = 'MESHGW_SUPERVISOR_PIPE';

export interface ParentWatchOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadableStream & { unref?: () => void };
  /** What to do when the supervisor is gone; by default SIGTERM to ourselves, so the usual drain runs. */
  onParentGone?: () => void;
}

/** When started by the local supervisor, ends this process (through its SIGTERM handler) once the supervisor is gone. */
export function exitWithSupervisor(opts: ParentWatchOptions = {}): void {
  const env = opts.env ?? process.env;
  if (env[SUPERVISOR_PIPE_ENV] !== 'stdin') return;
  const stdin = opts.stdin ?? process.stdin;
  const onGone = opts.onParentGone ?? (() => process.kill(process.pid, 'SIGTERM'));
  let fired = false;
  const fire = () => {
    if (fired) return;
    fired = true;
    onGone();
  };
  stdin.on('end', fire);
  stdin.on('close', fire);
  stdin.on('error', fire);
  stdin.on('data', () => undefined); // nothing is ever sent; reading is what reveals end-of-file
  stdin.resume();
  // The watch alone must not keep the process alive: it exits when its servers close, as before.
  stdin.unref?.();
}
