/**
 * What `meshgw doctor` looks at, as narrow interfaces: AWS (one method per question, each shaped
 * after the API that answers it), the user's tools, and the configuration. Tests give moto-backed
 * SDK clients or a fake for the parts moto does not model.
 */
import type { ToolRunner } from '../aws/push-runner.js';
import type { MeshgwConfig } from '../config/schema.js';

/** An Availability Zone as EC2 DescribeAvailabilityZones reports it. */
export interface ZoneInfo {
  zoneName: string;
  zoneId: string;
  /** available | information | impaired | unavailable | constrained */
  state: string;
  /** availability-zone | local-zone | wavelength-zone */
  zoneType?: string;
}

export interface QuotaValue {
  value: number;
  /** applied: the account's value (GetServiceQuota); default: AWS's default (GetAWSDefaultServiceQuota). */
  source: 'applied' | 'default';
}

/** One action/resource pair as IAM SimulatePrincipalPolicy evaluated it. */
export interface SimulatedDecision {
  action: string;
  resource: string;
  /** allowed | explicitDeny | implicitDeny */
  decision: string;
}

export interface DoctorAwsApi {
  callerIdentity(): Promise<{ account: string; arn: string }>;
  availabilityZones(): Promise<ZoneInfo[]>;
  quota(serviceCode: string, quotaCode: string): Promise<QuotaValue>;
  countVpcs(): Promise<number>;
  countEksClusters(): Promise<number>;
  countNetworkLoadBalancers(): Promise<number>;
  /** The IAM principal to simulate for a caller ARN (an assumed role's role, with its path), or undefined when IAM cannot simulate it (root, federated user). */
  simulationPrincipal(callerArn: string): Promise<string | undefined>;
  simulate(principalArn: string, actions: string[], resources: string[], context: { key: string; values: string[] }[]): Promise<SimulatedDecision[]>;
}

export interface DoctorContext {
  config: MeshgwConfig;
  region: string;
  aws: DoctorAwsApi;
  run: ToolRunner;
  /** The deploy role's policy (templates/github-oidc.yaml): the permissions up, push, deploy and down use. */
  loadPermissionStatements(): Promise<PermissionStatement[]>;
}

/** An Allow statement of meshgw's policy, with its variables still unresolved (${AWS::AccountId}...). */
export interface PermissionStatement {
  sid: string;
  actions: string[];
  resources: string[];
}
