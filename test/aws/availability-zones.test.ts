// AZ ID validation, shaped by what AWS documents: AZ IDs are <region code>-az<n> (use1-az1 in us-east-1,
// apne1-az4 in ap-northeast-1, usw2-az2 in us-west-2, ...), and the EKS user guide ("VPC and subnet
// requirements") names the AZ IDs where CreateCluster fails with UnsupportedAvailabilityZoneException.
// Also the config loader's error for them (the real parser, src/config/load.ts) and the renderer's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { availabilityZoneIdProblems, availabilityZoneIdsFor, azIdPrefix, EKS_UNSUPPORTED_AZ_IDS } from '../../src/aws/availability-zones.js';
import { loadBaseTemplate, renderTemplate } from '../../src/aws/template.js';
import { parseConfigText } from '../../src/config/load.js';
import { MeshgwError } from '../../src/errors.js';

const SERVICES = 'services:\n  users: { pathPrefix: /users, requireApiKey: false }\n';

describe('AZ IDs for the aws target', () => {
  it('derives the AZ ID prefix of a region as AWS writes it', () => {
    // Documented AZ IDs: use1-az1, usw2-az1, euw1-az1, euc1-az1, apne1-az1, apse2-az1, aps1-az1, cac1-az1, sae1-az1, usgw1-az1, mes1-az1.
    const expected: Record<string, string> = {
      'us-east-1': 'use1', 'us-west-2': 'usw2', 'eu-west-1': 'euw1', 'eu-central-1': 'euc1', 'ap-northeast-1': 'apne1',
      'ap-southeast-2': 'apse2', 'ap-south-1': 'aps1', 'ca-central-1': 'cac1', 'sa-east-1': 'sae1', 'us-gov-west-1': 'usgw1', 'me-south-1': 'mes1',
    };
    for (const [region, prefix] of Object.entries(expected)) assert.equal(azIdPrefix(region), prefix, region);
  });

  it('refuses each AZ ID where EKS cannot create a cluster', () => {
    assert.deepEqual([...EKS_UNSUPPORTED_AZ_IDS].sort(), ['cac1-az3', 'use1-az3', 'usw1-az2']);
    for (const [region, bad, good] of [['us-east-1', 'use1-az3', 'use1-az1'], ['us-west-1', 'usw1-az2', 'usw1-az1'], ['ca-central-1', 'cac1-az3', 'cac1-az1']]) {
      const problems = availabilityZoneIdProblems(region, [good, bad]);
      assert.equal(problems.length, 1, problems.join('; '));
      assert.match(problems[0], new RegExp(`${bad} is an AZ where EKS cannot create a cluster`));
    }
    assert.deepEqual(availabilityZoneIdProblems('us-east-1', ['use1-az1', 'use1-az2']), []);
  });

  it('refuses one zone twice, a zone of another region, a zone name, and a count other than two', () => {
    assert.match(availabilityZoneIdProblems('us-east-1', ['use1-az1', 'use1-az1']).join(), /must differ/);
    assert.match(availabilityZoneIdProblems('eu-west-1', ['use1-az1', 'euw1-az2']).join(), /use1-az1 is not in eu-west-1 \(its AZ IDs start with euw1-\)/);
    assert.match(availabilityZoneIdProblems('us-east-1', ['us-east-1a', 'use1-az2']).join(), /"us-east-1a" is not an AZ ID/);
    assert.match(availabilityZoneIdProblems('us-east-1', ['use1-az1']).join(), /exactly two AZ IDs, got 1/);
  });

  it('fails loading a meshgw.yaml that names an AZ EKS cannot use, naming the field', () => {
    assert.throws(
      () => parseConfigText(`version: 1\n${SERVICES}aws:\n  availabilityZoneIds: [use1-az1, use1-az3]\n`, 'meshgw.yaml'),
      (err: unknown) => {
        assert.ok(err instanceof MeshgwError);
        assert.equal(err.exitCode, 2);
        assert.match(err.message, /aws\.availabilityZoneIds/);
        assert.match(err.message, /use1-az3 is an AZ where EKS cannot create a cluster/);
        return true;
      },
    );
  });

  it('uses use1-az1 and use1-az2 in the default region, and asks for a pair elsewhere before deploying', async () => {
    const defaults = parseConfigText(`version: 1\n${SERVICES}`, 'meshgw.yaml');
    assert.deepEqual(availabilityZoneIdsFor(defaults.aws), ['use1-az1', 'use1-az2']);
    const elsewhere = parseConfigText(`version: 1\n${SERVICES}aws:\n  region: eu-west-1\n`, 'meshgw.yaml');
    const base = await loadBaseTemplate();
    assert.throws(() => renderTemplate(elsewhere, base), (err: unknown) => {
      assert.ok(err instanceof MeshgwError);
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.match(err.message, /aws\.availabilityZoneIds is not set, and meshgw has no default pair for eu-west-1/);
      assert.match(err.hint ?? '', /describe-availability-zones/);
      return true;
    });
  });
});
