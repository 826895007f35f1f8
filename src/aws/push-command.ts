import path from 'node:path';
import type { CommandContext } from '../cli/context.js';
import type { PushOptions } from '../cli/options.js';
import { ExitCode } from '../errors.js';
import { guardAwsErrors } from './aws-errors.js';
import { createAwsClients } from './clients.js';
import { createEcrApi } from './ecr.js';
import { readStackOutputs } from './outputs.js';
import { pushImagesToEcr } from './push.js';
import { writeImagesRecord, type ImagesRecord } from './push-record.js';
import { createExecaRunner } from './push-runner.js';

/** `meshgw push`: build, push, print each image's digest and record them for deploy. */
export async function pushImages(ctx: CommandContext, opts: PushOptions): Promise<number> {
  const { config, stateDir, file } = ctx.loaded;
  const outputs = await readStackOutputs(stateDir, config.aws.stackName);
  const clients = createAwsClients(opts.aws);
  const step = ctx.reporter.step('pushing images to ECR');
  let record: ImagesRecord;
  try {
    record = await guardAwsErrors(opts.aws, () =>
      pushImagesToEcr(
        { config, outputs, repoRoot: path.dirname(file), tag: opts.tag, platform: opts.platform },
        createExecaRunner(ctx.signal),
        createEcrApi(clients.ecr),
        { onStep: (t) => step.update(t) },
      ),
    );
    step.succeed(`images ${record.tag} in ECR`);
  } catch (err) {
    step.fail('push failed');
    throw err;
  }
  const saved = await writeImagesRecord(stateDir, record);
  ctx.reporter.result({ ...record, file: saved }, () =>
    [...record.images.map((i) => `${i.service.padEnd(10)} ${i.repositoryUri}:${i.tag}  ${i.digest}  (${i.action})`), `recorded in ${saved}`].join('\n'),
  );
  return ExitCode.ok;
}
