/**
 * The sweep's judging on stub contexts: a bulk observe makes one Describe
 * for all, answers each resource as its observe would, and says which ones
 * the listing does not show; which resources the sweep judges at all; and
 * which observations wake a workflow.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Subnet, Vpc } from '@aws-sdk/client-ec2';
import type { VpcSpec } from '../../crds/kinds/vpc.js';
import type { SubnetSpec } from '../../crds/kinds/subnet.js';
import { kindDefinition } from '../../crds/index.js';
import { Annotations, CLUSTER_TAG, FINALIZER, OWNER_TAG, ownerTagValue } from '../../contract/identity.js';
import type { Observation } from '../../contract/activities.js';
import { subnetHandler } from '../aws/ec2/subnet.js';
import { vpcHandler } from '../aws/ec2/vpc.js';
import type { BulkObservation } from '../aws/handler.js';
import { TEST_CLUSTER_ID, stubContext, type StubResponse } from '../aws/testing.js';
import { sweepIntervals } from '../../process/config.js';
import { candidateOf, driftOf, mapBounded } from './drift-sweep.js';

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const ref = (name: string, kind = 'VPC') => ({ kind, namespace: 'default', name, uid: `uid-${name}` });
const tagsOf = (name: string, kind = 'VPC') => ({ team: 'platform', [OWNER_TAG]: ownerTagValue(ref(name, kind)), [CLUSTER_TAG]: TEST_CLUSTER_ID });

function vpc(id: string, name: string, tags: Record<string, string> = tagsOf(name)): Vpc {
  return { VpcId: id, CidrBlock: '10.0.0.0/16', State: 'available', InstanceTenancy: 'default', Tags: tagList(tags) };
}

const spec: VpcSpec = { providerRef: { name: 'aws' }, cidrBlock: '10.0.0.0/16', tags: { team: 'platform' } };

/** A context per resource, all answering from one table, as one provider's contexts share one client. */
function contexts(responses: Record<string, StubResponse>, names: Array<[name: string, awsID: string | undefined]>, kind = 'VPC') {
  return names.map(([name, awsID]) =>
    stubContext(responses, { resource: ref(name, kind), tags: tagsOf(name, kind), ...(awsID ? { awsID } : {}), resolved: { 'VPC/default/net': 'vpc-net' } }),
  );
}

const observedOf = (outcome: BulkObservation | undefined): Observation => {
  assert.ok(outcome && 'observed' in outcome, `an observation, got ${JSON.stringify(outcome)}`);
  return outcome.observed;
};

describe('bulk observe (observeMany)', () => {
  test('one DescribeVpcs filtered by the cluster tag alone answers every VPC; one not listed is unlisted', async () => {
    const listing = { Vpcs: [vpc('vpc-1', 'a'), vpc('vpc-2', 'b', { ...tagsOf('b'), team: 'intruder' }), vpc('vpc-3', 'c')] };
    const [a, b, c, d] = contexts({ DescribeVpcsCommand: listing }, [
      ['a', 'vpc-1'],
      ['b', 'vpc-2'],
      // No recorded ID: found by its owner tag in the listing.
      ['c', undefined],
      ['d', 'vpc-9'],
    ]);
    const items = [a, b, c, d].map((context) => ({ context, desired: spec }));
    const outcomes = await vpcHandler.observeMany!(items);

    assert.deepEqual(a.callsTo('DescribeVpcsCommand'), [{ Filters: [{ Name: `tag:${CLUSTER_TAG}`, Values: [TEST_CLUSTER_ID] }] }]);
    for (const other of [b, c, d]) assert.deepEqual(other.calls, [], 'the others make no call of their own');
    assert.equal(observedOf(outcomes[0]).upToDate, true);
    assert.equal(observedOf(outcomes[1]).upToDate, false);
    assert.match(observedOf(outcomes[1]).differences.join(), /^tags: .*team/);
    assert.equal(observedOf(outcomes[2]).id, 'vpc-3');
    assert.deepEqual(outcomes[3], { unlisted: true });
  });

  test('what it says of a VPC is what observe says, from the same judging code', async () => {
    const listing = { Vpcs: [vpc('vpc-1', 'a', { ...tagsOf('a'), team: 'intruder' })] };
    const [bulk] = contexts({ DescribeVpcsCommand: listing }, [['a', 'vpc-1']]);
    const [single] = contexts({ DescribeVpcsCommand: listing }, [['a', 'vpc-1']]);
    const [outcome] = await vpcHandler.observeMany!([{ context: bulk, desired: spec }]);
    assert.deepEqual(observedOf(outcome), await vpcHandler.observe(single, spec));
  });

  test('DNS attributes, which DescribeVpcs does not carry, are left to the VPC\'s own observe: no per-VPC call', async () => {
    const [context] = contexts({ DescribeVpcsCommand: { Vpcs: [vpc('vpc-1', 'a')] } }, [['a', 'vpc-1']]);
    const [outcome] = await vpcHandler.observeMany!([{ context: context, desired: { ...spec, enableDnsHostnames: true } }]);
    assert.equal(observedOf(outcome).upToDate, true);
    assert.deepEqual(context.commandNames(), ['DescribeVpcsCommand']);
  });

  test('subnets resolve their vpcRef as observe does; one whose reference is not Ready is an error, not drift', async () => {
    const subnet = (id: string, name: string, VpcId: string): Subnet => ({
      SubnetId: id,
      VpcId,
      CidrBlock: '10.0.1.0/24',
      AvailabilityZone: 'us-east-1a',
      State: 'available',
      MapPublicIpOnLaunch: false,
      Tags: tagList(tagsOf(name, 'Subnet')),
    });
    const listing = { Subnets: [subnet('subnet-1', 'a', 'vpc-net'), subnet('subnet-2', 'b', 'vpc-other'), subnet('subnet-3', 'c', 'vpc-net')] };
    const [a, b, c] = contexts({ DescribeSubnetsCommand: listing }, [['a', 'subnet-1'], ['b', 'subnet-2'], ['c', 'subnet-3']], 'Subnet');
    const desired: SubnetSpec = { providerRef: { name: 'aws' }, vpcRef: { name: 'net' }, cidrBlock: '10.0.1.0/24', tags: { team: 'platform' } };
    const waiting: SubnetSpec = { ...desired, vpcRef: { name: 'not-ready' } };
    const outcomes = await subnetHandler.observeMany!([
      { context: a, desired },
      { context: b, desired },
      { context: c, desired: waiting },
    ]);
    assert.equal(a.callsTo('DescribeSubnetsCommand').length, 1);
    assert.equal(observedOf(outcomes[0]).upToDate, true);
    assert.match(observedOf(outcomes[1]).differences.join(), /vpcID: vpc-other -> vpc-net/);
    assert.ok(outcomes[2] && 'error' in outcomes[2], 'a reference that is not Ready');
  });
});

/** A custom resource as the sweep lists it, Ready for its generation. */
function listedVpc(overrides: { annotations?: Record<string, string>; status?: Record<string, unknown>; generation?: number; deleting?: boolean } = {}) {
  return {
    metadata: {
      name: 'a',
      namespace: 'default',
      uid: 'uid-a',
      generation: overrides.generation ?? 2,
      finalizers: [FINALIZER],
      ...(overrides.annotations ? { annotations: overrides.annotations } : {}),
      ...(overrides.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { providerRef: { name: 'aws' }, cidrBlock: '10.0.0.0/16', tags: { team: 'platform' } },
    status: {
      ready: true,
      phase: 'Ready',
      observedGeneration: 2,
      externalID: 'vpc-1',
      vpcID: 'vpc-1',
      cidrBlock: '10.0.0.0/16',
      state: 'available',
      conditions: [{ type: 'Ready', status: 'True', reason: 'Available' }],
      ...overrides.status,
    },
  };
}

describe('which resources the sweep judges', () => {
  const vpcKind = kindDefinition('VPC');

  test('a Ready, fully managed resource is judged, by its recorded ID', () => {
    const candidate = candidateOf(vpcKind, listedVpc());
    assert.equal(candidate?.request.awsID, 'vpc-1');
    assert.deepEqual(candidate?.ref, { kind: 'VPC', namespace: 'default', name: 'a' });
  });

  test('anything its own workflow is busy with, or that only observes or is paused, is left to it', () => {
    const cases: Array<[string, ReturnType<typeof listedVpc>]> = [
      ['a new generation not yet applied', listedVpc({ generation: 3 })],
      ['not Ready', listedVpc({ status: { ready: false } })],
      ['Ready as observe-only', listedVpc({ annotations: { [Annotations.managementPolicy]: 'Observe' } })],
      ['paused', listedVpc({ annotations: { [Annotations.paused]: 'true' } })],
      ['being deleted', listedVpc({ deleting: true })],
      ['an annotation with a bad value', listedVpc({ annotations: { [Annotations.paused]: 'maybe' } })],
    ];
    for (const [reason, item] of cases) assert.equal(candidateOf(vpcKind, item), undefined, reason);
  });
});

describe('what wakes a workflow', () => {
  const candidate = candidateOf(kindDefinition('VPC'), listedVpc())!;
  const inSync: Observation = {
    exists: true,
    id: 'vpc-1',
    upToDate: true,
    ready: true,
    differences: [],
    status: { vpcID: 'vpc-1', cidrBlock: '10.0.0.0/16', state: 'available' },
  };

  test('in sync with the status as written: nothing', () => {
    assert.equal(driftOf(candidate, { observed: inSync }), undefined);
  });

  test('a difference, a resource gone from the listing, or a status field that moved: a wake, saying why', () => {
    assert.deepEqual(driftOf(candidate, { observed: { ...inSync, upToDate: false, differences: ['tags: team'] } }), {
      differences: ['tags: team'],
      unlisted: false,
    });
    assert.deepEqual(driftOf(candidate, { unlisted: true }), { differences: [], unlisted: true });
    assert.deepEqual(driftOf(candidate, { observed: { ...inSync, status: { ...inSync.status, state: 'pending' } } }), {
      differences: ['status: state changed'],
      unlisted: false,
    });
    assert.equal(driftOf(candidate, { observed: { ...inSync, exists: false } })?.unlisted, false, 'observed missing: decide says create');
  });

  test('a judging error wakes nothing: the next pass, or the watcher, covers it', () => {
    assert.equal(driftOf(candidate, { error: new Error('throttled') }), undefined);
  });
});

test('mapBounded keeps order and never runs more than its limit at once', async () => {
  let running = 0;
  let peak = 0;
  const results = await mapBounded([5, 1, 3, 2, 4], 2, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, n));
    running--;
    return n * 10;
  });
  assert.deepEqual(results, [50, 10, 30, 20, 40]);
  assert.equal(peak, 2);
});

test('sweep intervals: SWEEP_SECONDS for every kind, SWEEP_SECONDS_<Kind> where set, a bad value refused', () => {
  assert.deepEqual(sweepIntervals(['VPC', 'S3Bucket'], 300, { SWEEP_SECONDS_S3Bucket: '900' }), [
    { kind: 'VPC', seconds: 300 },
    { kind: 'S3Bucket', seconds: 900 },
  ]);
  assert.throws(() => sweepIntervals(['VPC'], 300, { SWEEP_SECONDS_VPC: 'often' }), /SWEEP_SECONDS_VPC must be a positive number/);
});
