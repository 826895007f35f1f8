import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type DocumentClient = DynamoDBDocumentClient;

/**
 * The one place a service builds its DynamoDB client. On EKS the SDK's default chain finds the
 * Pod Identity credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI, injected by the agent) and the
 * region from AWS_REGION; tests pass moto's endpoint and dummy credentials.
 */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DocumentClient {
  // Binary attributes come back as Uint8Array; numbers stay numbers (ours are small integers).
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } });
}

interface CancellationReason {
  Code?: string;
}

/**
 * For a TransactWriteItems refused with TransactionCanceledException, the reason of each item in
 * order ("ConditionalCheckFailed", "None", ...); undefined for any other error.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 */
export function cancellationCodes(err: unknown): string[] | undefined {
  const e = err as { name?: unknown; CancellationReasons?: CancellationReason[] } | null;
  if (e?.name !== 'TransactionCanceledException') return undefined;
  return (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}
