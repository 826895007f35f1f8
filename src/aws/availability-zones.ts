/**
 * The two Availability Zones of the aws target, by AZ ID. AZ names (us-east-1a) are shuffled per
 * account; AZ IDs (use1-az1) name the same physical zone in every account, which is what a list of
 * zones EKS cannot use has to be written in. Used by the config check, `meshgw up` and `meshgw doctor`.
 */
import { DEFAULT_AWS_REGION } from '../config/defaults.js';
import { MeshgwError } from '../errors.js';

/**
 * AZ IDs where EKS cannot place a cluster's control-plane network interfaces; CreateCluster answers
 * UnsupportedAvailabilityZoneException for subnets there. From the EKS user guide, "VPC and subnet
 * requirements" (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html).
 */
export const EKS_UNSUPPORTED_AZ_IDS: ReadonlySet<string> = new Set(['use1-az3', 'usw1-az2', 'cac1-az3']);

/** The pair used when meshgw.yaml names none and the region is the default one (both EKS-capable). */
export const DEFAULT_AZ_IDS: Readonly<Record<string, readonly [string, string]>> = {
  [DEFAULT_AWS_REGION]: ['use1-az1', 'use1-az2'],
};

const AZ_ID = /^([a-z]+\d+)-az\d+$/;

// An AZ ID starts with the region's code: the partition prefix (us, eu, ap, ...), the initials of its
// direction words (east → e, northeast → ne, central → c; "gov" → g), then its number:
// us-east-1 → use1, ap-northeast-1 → apne1, eu-central-2 → euc2, us-gov-west-1 → usgw1.
const DIRECTION: Readonly<Record<string, string>> = {
  east: 'e', west: 'w', north: 'n', south: 's', central: 'c',
  northeast: 'ne', northwest: 'nw', southeast: 'se', southwest: 'sw', gov: 'g',
};

/** use1 for us-east-1; undefined when a word of the region is not a known direction. */
export function azIdPrefix(region: string): string | undefined {
  const parts = region.split('-');
  const number = parts.pop();
  const [area, ...words] = parts;
  const letters = words.map((w) => DIRECTION[w]);
  if (!area || !number || letters.some((l) => l === undefined)) return undefined;
  return area + letters.join('') + number;
}

/** Why this pair cannot carry the stack's two subnets, one line per problem (empty: it can). */
export function availabilityZoneIdProblems(region: string, ids: readonly string[]): string[] {
  const problems: string[] = [];
  if (ids.length !== 2) problems.push(`expected exactly two AZ IDs, got ${ids.length}`);
  if (new Set(ids).size !== ids.length) problems.push(`the two AZ IDs must differ (EKS needs subnets in two zones), got ${ids.join(', ')}`);
  const prefix = azIdPrefix(region);
  for (const id of ids) {
    const m = AZ_ID.exec(id);
    if (!m) problems.push(`"${id}" is not an AZ ID (expected the form use1-az1)`);
    else if (prefix && m[1] !== prefix) problems.push(`${id} is not in ${region} (its AZ IDs start with ${prefix}-)`);
    if (EKS_UNSUPPORTED_AZ_IDS.has(id)) problems.push(`${id} is an AZ where EKS cannot create a cluster (UnsupportedAvailabilityZoneException)`);
  }
  return problems;
}

export const AZ_ID_HINT =
  'Set aws.availabilityZoneIds in meshgw.yaml to two AZ IDs of the region that EKS supports (not use1-az3, usw1-az2 or cac1-az3); ' +
  '`aws ec2 describe-availability-zones --region <region> --query "AvailabilityZones[].ZoneId"` lists them, and `meshgw doctor` checks them.';

/** The configured pair, or the default region's; throws a config error naming the fix otherwise. */
export function availabilityZoneIdsFor(aws: { region: string; availabilityZoneIds?: readonly string[] }): [string, string] {
  const ids = aws.availabilityZoneIds ?? DEFAULT_AZ_IDS[aws.region];
  if (!ids) {
    throw new MeshgwError('CONFIG_INVALID', `aws.availabilityZoneIds is not set, and meshgw has no default pair for ${aws.region}`, AZ_ID_HINT);
  }
  const problems = availabilityZoneIdProblems(aws.region, ids);
  if (problems.length > 0) throw new MeshgwError('CONFIG_INVALID', `aws.availabilityZoneIds: ${problems.join('; ')}`, AZ_ID_HINT);
  return [ids[0], ids[1]];
}
