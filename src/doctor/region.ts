/**
 * The region answers, and has at least two zones where EKS can place cluster subnets; the zones
 * meshgw will use (aws.availabilityZoneIds, or the default pair) are among them.
 */
import { DEFAULT_AZ_IDS, EKS_UNSUPPORTED_AZ_IDS } from '../aws/availability-zones.js';
import type { CheckResult } from '../verify/checks.js';
import type { DoctorContext, ZoneInfo } from './context.js';

const EKS_MIN_ZONES = 2;

/** Why EKS cannot put cluster subnets in this zone, or undefined when it can. */
export function eksZoneProblem(zone: ZoneInfo): string | undefined {
  if (zone.zoneType && zone.zoneType !== 'availability-zone') return `${zone.zoneId} is a ${zone.zoneType}`;
  if (zone.state !== 'available') return `${zone.zoneId} is ${zone.state}`;
  if (EKS_UNSUPPORTED_AZ_IDS.has(zone.zoneId)) return `EKS does not support ${zone.zoneId} (${zone.zoneName})`;
  return undefined;
}

export async function checkRegionZones(ctx: DoctorContext): Promise<CheckResult> {
  const zones = await ctx.aws.availabilityZones();
  const capable = zones.filter((z) => !eksZoneProblem(z)).sort((a, b) => a.zoneId.localeCompare(b.zoneId));
  const capableIds = capable.map((z) => z.zoneId);
  const excluded = zones.map(eksZoneProblem).filter((p): p is string => p !== undefined);
  const data = { zones: zones.map((z) => z.zoneId), eksCapable: capableIds, excluded };
  if (capable.length < EKS_MIN_ZONES) {
    return { ok: false, detail: `${ctx.region} has ${capable.length} zone(s) EKS can use (${capableIds.join(', ') || 'none'})`, hint: 'EKS needs two zones: choose another region with --region or aws.region.', data };
  }
  const chosen = ctx.config.aws.availabilityZoneIds ?? DEFAULT_AZ_IDS[ctx.region];
  const suggestion = `aws.availabilityZoneIds: [${capableIds.slice(0, 2).join(', ')}]`;
  if (!chosen) {
    return { ok: false, detail: `EKS-capable zones: ${capableIds.join(', ')}; meshgw.yaml names none for ${ctx.region}`, hint: `Add ${suggestion} to meshgw.yaml.`, data };
  }
  const unusable = chosen.filter((id) => !capableIds.includes(id));
  if (unusable.length > 0) {
    const why = unusable.map((id) => eksZoneProblem(zones.find((z) => z.zoneId === id) ?? { zoneId: id, zoneName: '?', state: 'absent' })).join('; ');
    return { ok: false, detail: `zone(s) ${unusable.join(', ')} cannot hold the cluster's subnets (${why})`, hint: `Set ${suggestion} in meshgw.yaml.`, data: { ...data, chosen } };
  }
  return { ok: true, detail: `subnets in ${chosen.join(', ')} (EKS-capable: ${capableIds.join(', ')})`, data: { ...data, chosen } };
}
