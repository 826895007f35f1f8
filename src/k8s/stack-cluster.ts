/**
 * The connection deploy, down and verify (aws) use: to the stack's own EKS cluster, never to
 * whatever the kubeconfig's current context happens to be. The KubeConfig is built in memory from
 * DescribeCluster (endpoint and CA) and an EKS token signed with the command's --profile and
 * --region credentials. --kubeconfig/--context remain an explicit override, accepted only when the
 * context's server is the stack's cluster endpoint.
 */
import { KubeConfig, type User } from '@kubernetes/client-node';
import type { AwsClients } from '../aws/clients.js';
import { createEksApi, type EksApi, type EksClusterInfo } from '../aws/eks-cluster.js';
import { createEksTokenSource } from '../aws/eks-token.js';
import { MeshgwError } from '../errors.js';
import { loadKubeConfig } from './client.js';

/** --kubeconfig / --context, when the user gives them. */
export interface ClusterOverride {
  kubeconfig?: string;
  context?: string;
}

export interface StackClusterTarget {
  clusterName: string;
  region: string;
}

export interface StackClusterDeps {
  eks: EksApi;
  /** A source of bearer tokens for the named cluster (it renews them before they expire). */
  tokenSource(clusterName: string): () => Promise<string>;
}

export interface ClusterConnection {
  kubeConfig: KubeConfig;
  /** The API server URL requests go to. */
  server: string;
  clusterName: string;
  /** eks-token: built in memory; kubeconfig: the user's override, checked against the stack. */
  via: 'eks-token' | 'kubeconfig';
}

const EKS_USER = 'meshgw-eks-token';

/** Cluster name from the stack outputs (ClusterName), else the configured aws.clusterName. */
export function stackClusterName(outputs: { ClusterName?: string } | undefined, configured: string): string {
  return outputs?.ClusterName || configured;
}

/** Two server URLs name the same API server (scheme, host, port; a trailing slash does not matter). */
export function sameServer(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.protocol === y.protocol && x.host.toLowerCase() === y.host.toLowerCase() && x.pathname.replace(/\/+$/, '') === y.pathname.replace(/\/+$/, '');
  } catch {
    return false;
  }
}

async function describeActive(target: StackClusterTarget, eks: EksApi): Promise<EksClusterInfo> {
  const cluster = await eks.describeCluster(target.clusterName);
  if (!cluster) {
    throw new MeshgwError(
      'CLUSTER_UNREACHABLE',
      `EKS cluster ${target.clusterName} does not exist in ${target.region}`,
      'Run `meshgw up --target aws` to create the stack (and its cluster), or pass the --region the stack lives in.',
    );
  }
  if (cluster.status !== 'ACTIVE' && cluster.status !== 'UPDATING') {
    throw new MeshgwError('CLUSTER_UNREACHABLE', `EKS cluster ${target.clusterName} is ${cluster.status}, not ACTIVE`, 'Wait until `meshgw status --target aws` shows the stack complete, then run the command again.');
  }
  if (!cluster.endpoint || !cluster.certificateAuthorityData) {
    throw new MeshgwError('CLUSTER_UNREACHABLE', `EKS cluster ${target.clusterName} reports no endpoint or CA yet`, 'Wait a minute for EKS to publish them, then run the command again.');
  }
  return cluster;
}

/** A KubeConfig held in memory: the cluster's endpoint and CA, and a token renewed as it ages. */
export function inMemoryKubeConfig(cluster: EksClusterInfo, token: () => Promise<string>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: cluster.name, server: cluster.endpoint, caData: cluster.certificateAuthorityData, skipTLSVerify: false }],
    users: [{ name: EKS_USER }],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: EKS_USER }],
    currentContext: cluster.name,
  });
  // A custom authenticator runs before every request (REST and exec/websocket alike), so the token
  // is fetched from the source each time and can be renewed mid-command.
  kc.addAuthenticator({
    isAuthProvider: (user: User) => user?.name === EKS_USER,
    async applyAuthentication(_user, opts) {
      const headers = ((opts as { headers?: Record<string, unknown> }).headers ??= {});
      headers.Authorization = `Bearer ${await token()}`;
    },
  });
  return kc;
}

/** Connects to the stack's cluster, or checks that the override names it; nothing is sent to the cluster yet. */
export async function connectStackCluster(target: StackClusterTarget, override: ClusterOverride, deps: StackClusterDeps): Promise<ClusterConnection> {
  const cluster = await describeActive(target, deps.eks);
  if (override.kubeconfig === undefined && override.context === undefined) {
    return { kubeConfig: inMemoryKubeConfig(cluster, deps.tokenSource(cluster.name)), server: cluster.endpoint, clusterName: cluster.name, via: 'eks-token' };
  }
  const kc = loadKubeConfig(override);
  const server = kc.getCurrentCluster()?.server ?? '';
  if (!sameServer(server, cluster.endpoint)) {
    const which = override.context ? `context ${override.context}` : `the current context (${kc.getCurrentContext()})`;
    throw new MeshgwError(
      'USAGE',
      `${which} points at ${server}, not at the stack's cluster ${cluster.name} (${cluster.endpoint}); refusing to act on another cluster`,
      `Leave out --kubeconfig and --context (meshgw then connects to ${cluster.name} itself), or pick the context of that cluster (\`aws eks update-kubeconfig --name ${cluster.name} --region ${target.region}\`).`,
    );
  }
  return { kubeConfig: kc, server, clusterName: cluster.name, via: 'kubeconfig' };
}

/** The real dependencies: EKS through the SDK, tokens signed with the same credential chain. */
export function stackClusterDeps(clients: Pick<AwsClients, 'eks' | 'credentials' | 'region'>): StackClusterDeps {
  return {
    eks: createEksApi(clients.eks),
    tokenSource: (clusterName) => createEksTokenSource({ clusterName, region: clients.region, credentials: clients.credentials }),
  };
}
