// DynamoDB tables for the repository tests, made on moto's server from the very properties the
// CloudFormation template gives UsersTable and OrdersTable, so test and template cannot drift.
import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadBaseTemplate } from '../../src/aws/template.js';
import { createDocumentClient, type DocumentClient } from '../../services/shared/dynamodb.js';

export const MOTO_REGION = 'us-east-1';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

interface TableProperties {
  AttributeDefinitions: CreateTableCommandInput['AttributeDefinitions'];
  KeySchema: CreateTableCommandInput['KeySchema'];
  BillingMode: CreateTableCommandInput['BillingMode'];
  SSESpecification?: { SSEEnabled?: boolean; SSEType?: 'KMS' | 'AES256' };
  DeletionProtectionEnabled?: boolean;
}

/** The CreateTable input CloudFormation makes from the template's resource `logicalId`. */
export async function createTableInput(logicalId: 'UsersTable' | 'OrdersTable', tableName: string): Promise<CreateTableCommandInput> {
  const resource = (await loadBaseTemplate()).Resources[logicalId];
  if (resource?.Type !== 'AWS::DynamoDB::Table') throw new Error(`the template has no DynamoDB table ${logicalId}`);
  const p = resource.Properties as unknown as TableProperties;
  return {
    TableName: tableName,
    AttributeDefinitions: p.AttributeDefinitions,
    KeySchema: p.KeySchema,
    BillingMode: p.BillingMode,
    // CloudFormation's SSEEnabled is the API's Enabled.
    SSESpecification: p.SSESpecification && { Enabled: p.SSESpecification.SSEEnabled, SSEType: p.SSESpecification.SSEType },
  };
}

export function motoDocumentClient(endpoint: string): DocumentClient {
  return createDocumentClient({ endpoint, region: MOTO_REGION, credentials });
}

/** Creates the table on moto (a fresh name each time, so tests never share items). */
export async function createMotoTable(endpoint: string, logicalId: 'UsersTable' | 'OrdersTable', tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: MOTO_REGION, credentials });
  try {
    await client.send(new CreateTableCommand(await createTableInput(logicalId, tableName)));
  } finally {
    client.destroy();
  }
}
