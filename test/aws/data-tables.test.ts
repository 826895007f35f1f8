// users' and orders' DynamoDB tables in the CloudFormation template (issue 14): durable, retained,
// reached through EKS Pod Identity with a role per service that allows exactly the item calls the
// service's repository makes on its own table. Those calls are recorded from the real repositories
// running against moto's DynamoDB (venvBin('moto_server')), on tables made from the template itself;
// cfn-lint and checkov on the same template run in template.test.ts and checkov.test.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadBaseTemplate, renderTemplate } from '../../src/aws/template.js';
import { parseConfigText } from '../../src/config/load.js';
import { renderForDeploy } from '../../src/k8s/deploy.js';
import { TABLE_OUTPUTS, renderServiceAccount } from '../../src/k8s/manifests/workloads.js';
import { createDynamoOrderRepository } from '../../services/orders/order-dynamodb.js';
import { createDynamoUserRepository } from '../../services/users/user-dynamodb.js';
import { createMotoTable, motoDocumentClient } from '../services/dynamodb-tables.js';
import { type MotoServer, startMoto } from './moto-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SERVICES = { users: { table: 'UsersTable', role: 'UsersDataRole', association: 'UsersPodIdentity' }, orders: { table: 'OrdersTable', role: 'OrdersDataRole', association: 'OrdersPodIdentity' } } as const;

async function rendered() {
  const cfg = parseConfigText(await readFile(path.join(root, 'meshgw.yaml'), 'utf8'), 'meshgw.yaml');
  return { cfg, ...renderTemplate(cfg, await loadBaseTemplate()) };
}

function at(value: unknown, ...keys: Array<string | number>): unknown {
  let cur = value;
  for (const k of keys) cur = (cur as Record<string | number, unknown> | undefined)?.[k];
  return cur;
}

type RecordingClient = ReturnType<typeof motoDocumentClient> & { actions: Set<string> };

/** A document client on moto that records the IAM action of every item call it makes. */
function recordingClient(endpoint: string): RecordingClient {
  const client = motoDocumentClient(endpoint) as RecordingClient;
  client.actions = new Set();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName).replace(/Command$/, '');
      // IAM checks a transaction's items by their own actions (Put → PutItem, ConditionCheck → ConditionCheckItem).
      if (name === 'TransactWriteItems') {
        for (const item of (args.input as { TransactItems: object[] }).TransactItems) for (const k of Object.keys(item)) client.actions.add(`dynamodb:${k === 'ConditionCheck' ? 'ConditionCheckItem' : `${k}Item`}`);
      } else {
        client.actions.add(`dynamodb:${name}`);
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordIamActions' },
  );
  return client;
}

describe('the users and orders tables', { timeout: 120_000 }, () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto(root);
  });
  after(() => moto.stop());

  it('are on-demand, point-in-time recoverable, KMS-encrypted and retained when the stack or the table goes', async () => {
    const { template } = await rendered();
    for (const { table } of Object.values(SERVICES)) {
      const r = template.Resources[table];
      assert.equal(r.Type, 'AWS::DynamoDB::Table');
      assert.deepEqual([r.DeletionPolicy, r.UpdateReplacePolicy], ['Retain', 'Retain'], table);
      assert.equal(at(r.Properties, 'BillingMode'), 'PAY_PER_REQUEST');
      assert.equal(at(r.Properties, 'PointInTimeRecoverySpecification', 'PointInTimeRecoveryEnabled'), true);
      assert.deepEqual(at(r.Properties, 'SSESpecification'), { SSEEnabled: true, SSEType: 'KMS' });
      assert.equal(at(r.Properties, 'TableName'), undefined, 'a generated name: a new stack never collides with a retained table');
    }
  });

  it("give each service a Pod Identity role allowed exactly the item calls its repository makes, on its own table only", async () => {
    const { template } = await rendered();
    const users = recordingClient(moto.endpoint);
    const usersTable = `users-${randomUUID().slice(0, 8)}`;
    await createMotoTable(moto.endpoint, 'UsersTable', usersTable);
    const userRepo = createDynamoUserRepository(users, usersTable);
    const user = { id: `u-${randomUUID()}`, username: 'iam-check', password: { salt: randomBytes(16), hash: randomBytes(32), cost: 1024 } };
    await userRepo.insert(user);
    await userRepo.insert({ ...user, id: `u-${randomUUID()}` });
    await userRepo.findByUsername(user.username);
    await userRepo.findById(user.id);
    await userRepo.close();

    const orders = recordingClient(moto.endpoint);
    const ordersTable = `orders-${randomUUID().slice(0, 8)}`;
    await createMotoTable(moto.endpoint, 'OrdersTable', ordersTable);
    const orderRepo = createDynamoOrderRepository(orders, ordersTable);
    const order = { id: `o-${randomUUID()}`, userId: user.id, productId: 'p-1', quantity: 1, unitPrice: 1, total: 1, currency: 'EUR', createdAt: new Date(0).toISOString() };
    await orderRepo.create(order);
    await orderRepo.create({ ...order, id: `o-${randomUUID()}` }, { key: 'k', fingerprint: 'f' });
    await orderRepo.create({ ...order, id: `o-${randomUUID()}` }, { key: 'k', fingerprint: 'f' });
    await orderRepo.findByIdempotencyKey(user.id, 'k');
    await orderRepo.findById(order.id);
    await orderRepo.close();

    for (const [service, used] of [['users', users.actions], ['orders', orders.actions]] as const) {
      const names = SERVICES[service];
      const role = template.Resources[names.role];
      assert.deepEqual(at(role.Properties, 'AssumeRolePolicyDocument', 'Statement'), [
        { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] },
      ]);
      assert.equal(at(role.Properties, 'ManagedPolicyArns'), undefined, `${names.role}: no managed policy`);
      const policies = at(role.Properties, 'Policies') as Array<{ PolicyDocument: { Statement: Array<{ Effect: string; Action: string[]; Resource: unknown }> } }>;
      const statements = policies.flatMap((p) => p.PolicyDocument.Statement);
      assert.equal(statements.length, 1, names.role);
      assert.equal(statements[0].Effect, 'Allow');
      assert.deepEqual(statements[0].Resource, { 'Fn::GetAtt': [names.table, 'Arn'] }, `${names.role} reaches its own table only`);
      assert.deepEqual([...statements[0].Action].sort(), [...used].sort(), `${names.role} allows exactly what ${service} calls`);
    }
  });

  it('associate each role with the service account its Deployment runs as, in the mesh namespace', async () => {
    const { cfg, template, parameters } = await rendered();
    for (const [service, names] of Object.entries(SERVICES)) {
      const association = template.Resources[names.association];
      assert.equal(association.Type, 'AWS::EKS::PodIdentityAssociation');
      const sa = renderServiceAccount(cfg, service);
      assert.equal(at(association.Properties, 'ServiceAccount'), sa.metadata.name);
      assert.deepEqual(at(association.Properties, 'Namespace'), { Ref: 'MeshNamespace' });
      assert.equal(parameters.find((p) => p.ParameterKey === 'MeshNamespace')?.ParameterValue, sa.metadata.namespace);
      assert.deepEqual(at(association.Properties, 'RoleArn'), { 'Fn::GetAtt': [names.role, 'Arn'] });
    }
  });

  it("name each table in an output that meshgw deploy passes to its service's Deployment as DYNAMODB_TABLE", async () => {
    const { cfg, template } = await rendered();
    const tables = { users: 'meshgw-UsersTable-ABC', orders: 'meshgw-OrdersTable-DEF' };
    const objects = renderForDeploy({ config: cfg, images: { users: 'u:1', orders: 'o:1', products: 'p:1' }, ingressNodePort: 30080, tokenSecret: 'x', dataTables: tables, awsRegion: 'eu-west-1' });
    for (const [service, names] of Object.entries(SERVICES)) {
      assert.deepEqual(at(template.Outputs, TABLE_OUTPUTS[service], 'Value'), { Ref: names.table });
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === service);
      const env = at(deployment, 'spec', 'template', 'spec', 'containers', 0, 'env') as Array<{ name: string; value?: string }>;
      assert.equal(env.find((e) => e.name === 'DYNAMODB_TABLE')?.value, tables[service as keyof typeof tables]);
      assert.equal(env.find((e) => e.name === 'AWS_REGION')?.value, 'eu-west-1');
    }
    const products = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'products');
    const productsEnv = at(products, 'spec', 'template', 'spec', 'containers', 0, 'env') as Array<{ name: string }>;
    assert.ok(!productsEnv.some((e) => e.name === 'DYNAMODB_TABLE'), 'products keeps no data');
  });
});
