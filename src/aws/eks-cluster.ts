/** Our narrow view of the EKS API: what connecting to the stack's cluster needs. */
import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';

export interface EksClusterInfo {
  name: string;
  /** https://<id>.<gr>.<region>.eks.amazonaws.com */
  endpoint: string;
  /** The cluster CA bundle, base64 PEM (certificateAuthority.data). */
  certificateAuthorityData: string;
  /** CREATING | ACTIVE | DELETING | FAILED | UPDATING | PENDING */
  status: string;
}

export interface EksApi {
  /** undefined when the cluster does not exist (ResourceNotFoundException). */
  describeCluster(name: string): Promise<EksClusterInfo | undefined>;
}

export function createEksApi(client: Pick<EKSClient, 'send'>): EksApi {
  return {
    async describeCluster(name) {
      try {
        const { cluster } = await client.send(new DescribeClusterCommand({ name }));
        return {
          name: cluster?.name ?? name,
          endpoint: cluster?.endpoint ?? '',
          certificateAuthorityData: cluster?.certificateAuthority?.data ?? '',
          status: cluster?.status ?? 'UNKNOWN',
        };
      } catch (err) {
        if ((err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
        throw err;
      }
    },
  };
}
