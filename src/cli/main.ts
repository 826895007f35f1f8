import { Command, CommanderError, Option } from 'commander';
import { ExitCode, isMeshgwError } from '../errors.js';
import type { CommandContext, GlobalOptions } from './context.js';
import type { CommanderValues } from './options.js';

/**
 * The CLI's only entry: wires commander, maps errors to exit codes, and is the one place that
 * sets the process exit code. Command modules load lazily inside their action so that --help
 * pulls in neither the AWS SDK nor the Kubernetes client.
 */
// Each runner parses commander's values into its command's typed options (src/cli/options.ts).
type Runner = (ctx: CommandContext, raw: CommanderValues, args: string[]) => Promise<number>;
type Loader = () => Promise<Runner>;

const controller = new AbortController();

function action(load: Loader) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const opts = cmd.optsWithGlobals() as GlobalOptions & CommanderValues;
    const positional = args.slice(0, -2).filter((a): a is string => typeof a === 'string');
    // Loaded here, not at the top: --help must not pay for zod, yaml or the SDKs.
    const { buildContext } = await import('./context.js');
    const ctx = await buildContext(opts, controller.signal);
    const run = await load();
    process.exitCode = await run(ctx, opts, positional);
  };
}

export function buildProgram(): Command {
  const program = new Command('meshgw')
    .description('Stand up an API gateway and a service mesh in front of users, products and orders, then prove they hold.')
    .addOption(new Option('-c, --config <file>', 'configuration file (default: $MESHGW_CONFIG or ./meshgw.yaml)'))
    .addOption(new Option('-o, --output <format>', 'text or json').default('text'))
    .addOption(new Option('--debug', 'print stack traces of unexpected errors'))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const target = () => new Option('-t, --target <target>', 'local or aws (default: target in meshgw.yaml)');
  // The stack's cluster is reached through EKS (DescribeCluster and a token); these only override it.
  const cluster = (cmd: Command, what: string) =>
    cmd
      .option('--kubeconfig <file>', `kubeconfig to use instead of connecting to the stack's cluster through EKS (${what})`)
      .option('--context <name>', "kubeconfig context; refused unless its server is the stack's cluster");
  const aws = (cmd: Command) =>
    cmd.option('--profile <name>', 'AWS profile (aws target)').option('--region <region>', 'AWS region (aws target; default: aws.region)');

  aws(
    program
      .command('up')
      .description('start the stack: local processes, or the CloudFormation stack on aws')
      .addOption(target())
      .option('-y, --yes', 'execute the change set without asking (aws)')
      .option('--dry-run', 'print the change set and stop (aws)')
      .option('-p, --port <port>', 'gateway port on 127.0.0.1 (local; 0 picks a free one)'),
  ).action(action(async () => (await import('./commands/up.js')).runUp));

  aws(
    program
      .command('push')
      .description('build the three service images and push them to ECR')
      .option('--tag <tag>', 'image tag (default: the git commit)')
      .option('--platform <platform>', 'image platform (default: aws.imagePlatform)'),
  ).action(action(async () => (await import('./commands/push.js')).runPush));

  aws(
    cluster(
      program
        .command('deploy')
        .description('install Istio and the Gateway API if missing, then apply the manifests to EKS')
        .option('--dry-run', 'print the rendered manifests instead of applying them'),
      'deploy',
    ),
  ).action(action(async () => (await import('./commands/deploy.js')).runDeploy));

  aws(
    cluster(
      program
        .command('verify')
        .description('prove the gateway and mesh hold: throttle, auth, mtls, resilience or all')
        .argument('<scenario>', 'throttle | auth | mtls | resilience | all')
        .addOption(target())
        .option('--quick', 'short phases (a few seconds each)')
        .option('--tolerance <fraction>', 'allowed relative deviation from the token-bucket model')
        .option('--report <file>', 'write an HTML report with the throttle chart')
        .option('--evidence <dir>', 'write the evidence bundle: DIR/report.html (self-contained, opens offline) and DIR/evidence.json')
        .option('--normal-rps <n>', 'normal phase rate (default 50)')
        .option('--normal-seconds <n>', 'normal phase duration (default 10)')
        .option('--over-rps <n>', 'over-limit phase rate (default 150)')
        .option('--over-seconds <n>', 'over-limit phase duration (default 15)')
        .option('--fail-on <level>', 'warn: exit 1 on warnings too (e.g. a certificate close to expiry), for CI gates')
        .option('--cert-warn-days <days>', 'warn when the mesh CA expires within this many days (default 60)'),
      'mtls on aws',
    ),
  ).action(action(async () => (await import('./commands/verify.js')).runVerify));

  aws(
    program
      .command('trace')
      .description("one request's waterfall across gateway → orders → users / products (default: the slowest recent POST /orders)")
      .argument('[request-id]', 'the x-request-id of an answer (local), or an X-Ray trace id or API Gateway request id (aws)')
      .addOption(target())
      .option('--html <file>', 'also write the waterfall as a self-contained HTML page')
      .option('--since <minutes>', 'aws: how far back to search X-Ray (default 60)'),
  ).action(action(async () => (await import('./commands/trace.js')).runTrace));

  aws(
    cluster(
      program
        .command('top')
        .description('live traffic between workloads (after linkerd viz top/edges): rps, success, p50/p95/p99, 429s, mTLS identities')
        .addOption(target())
        .option('--interval <seconds>', 'seconds between scrapes, the window each row covers (default 2)'),
      'aws',
    ),
  ).action(action(async () => (await import('./commands/top.js')).runTop));

  aws(
    program
      .command('status')
      .description('what is running: gateway URL, keys, workloads, certificates (or the stack)')
      .addOption(target())
      .option('--drift', 'detect stack drift (aws)'),
  ).action(action(async () => (await import('./commands/status.js')).runStatus));

  aws(
    cluster(
      program
        .command('down')
        .description('stop the local stack, or remove the cluster objects and delete the stack')
        .addOption(target())
        .option('-y, --yes', 'do not ask before deleting (aws)'),
      'aws',
    ),
  ).action(action(async () => (await import('./commands/down.js')).runDown));

  program
    .command('demo')
    .description('local up, verify all, down: the whole story in about a minute')
    .option('--full', "the assignment's exact phase durations")
    .action(action(async () => (await import('./commands/demo.js')).runDemo));

  aws(
    program
      .command('ci-role')
      .description("deploy the GitHub OIDC provider and the pipeline's deploy role (templates/github-oidc.yaml)")
      .option('--repository <owner/name>', 'the GitHub repository whose production environment may deploy')
      .option('--stack-name <name>', 'stack name (default: github-oidc-meshgw)')
      .option('--existing-provider-arn <arn>', "reuse the account's GitHub OIDC provider (an account holds only one)")
      .option('-y, --yes', 'execute the change set without asking')
      .option('--dry-run', 'print the change set and stop'),
  ).action(action(async () => (await import('./commands/ci-role.js')).runCiRole));

  aws(
    program
      .command('doctor')
      .description('before the first aws up: credentials, region and AZs, tools, quotas and IAM permissions'),
  ).action(action(async () => (await import('./commands/doctor.js')).runDoctor));

  cluster(
    aws(
      program
        .command('certs')
        .description('create the mesh CA and workload certificates, rotate the leaves, or rotate the aws mesh root')
        .argument('[action]', 'rotate: reissue every leaf certificate without downtime; rotate-root: replace the aws mesh root, overlapping old and new')
        .argument('[step]', 'rotate-root only: start (default), switch, finish or status')
        .addOption(target()),
    ),
    'rotate-root',
  ).action(action(async () => (await import('./commands/certs.js')).runCerts));

  return program;
}

export async function main(argv: string[]): Promise<void> {
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    controller.abort();
  });
  const program = buildProgram();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err, debug);
  }
}

function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // help and version are "errors" to commander's exitOverride.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return ExitCode.ok;
    return ExitCode.usage;
  }
  if (isMeshgwError(err)) {
    process.stderr.write(`meshgw: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    if (debug && err.cause) process.stderr.write(`${(err.cause as Error).stack ?? String(err.cause)}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`meshgw: unexpected error: ${e?.message ?? String(err)}\n`);
  process.stderr.write(debug ? `${e?.stack}\n` : '  hint: run again with --debug for the stack trace, and report it as a bug.\n');
  return ExitCode.checkFailed;
}

await main(process.argv);
