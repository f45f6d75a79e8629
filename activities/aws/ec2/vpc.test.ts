import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Vpc } from '@aws-sdk/client-ec2';
import { Value } from '@sinclair/typebox/value';
import { customResourceDefinition } from '../../../crds/crd.js';
import { VPCKind, type VpcSpec } from '../../../crds/kinds/vpc.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { ErrorClass, classifyAwsError } from '../errors.js';
import { TEST_CLUSTER_ID, awsError, sequence, stubContext, type CommandInput, type StubResponse } from '../testing.js';
import { formatDifference } from '../difference.js';
import { compareVpc, dnsAttributeChanges, observedVpc, vpcHandler } from './vpc.js';

const OWNER = 'VPC/default/app-vpc';
const OURS = { [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID };
const TAGS = { Name: 'app', ...OURS };
const resource = { kind: 'VPC', namespace: 'default', name: 'app-vpc', uid: 'uid-1' };
const options = { resource, tags: TAGS };

const spec: VpcSpec = {
  providerRef: { name: 'aws' },
  cidrBlock: '10.0.0.0/16',
  enableDnsSupport: true,
  enableDnsHostnames: true,
  tags: { Name: 'app' },
};

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

function vpc(VpcId = 'vpc-1', overrides: Partial<Vpc> = {}): Vpc {
  return { VpcId, CidrBlock: '10.0.0.0/16', State: 'available', InstanceTenancy: 'default', Tags: tagList(TAGS), ...overrides };
}

/** DescribeVpcAttribute answering with the given DNS settings. */
function dns(support: boolean, hostnames: boolean): StubResponse {
  return (input: CommandInput) =>
    input.Attribute === 'enableDnsSupport' ? { EnableDnsSupport: { Value: support } } : { EnableDnsHostnames: { Value: hostnames } };
}

const WRITES = ['CreateVpcCommand', 'ModifyVpcAttributeCommand', 'CreateTagsCommand', 'DeleteTagsCommand', 'DeleteVpcCommand'];
const writesOf = (names: string[]) => names.filter((name) => WRITES.includes(name));
const acceptWrites = (): Record<string, StubResponse> => Object.fromEntries(WRITES.map((name) => [name, {}]));

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a failure'),
    (error: unknown) => error,
  );
}

describe('schema', () => {
  test("the guide's manifest validates; malformed or oversized CIDRs do not", () => {
    const guide = {
      providerRef: { name: 'production-aws' },
      cidrBlock: '10.0.0.0/16',
      enableDnsSupport: true,
      enableDnsHostnames: true,
      instanceTenancy: 'default',
      tags: { Name: 'production-vpc', Environment: 'production' },
      deletionPolicy: 'Delete',
    };
    assert.ok(Value.Check(VPCKind.spec, guide));
    assert.ok(Value.Check(VPCKind.spec, { ...guide, cidrBlock: '192.168.0.0/28', instanceTenancy: 'dedicated' }));
    for (const cidrBlock of ['10.0.0.0', '10.0.0.0/8', '10.0.0.0/29', '256.0.0.0/16', '10.0.0/16']) {
      assert.equal(Value.Check(VPCKind.spec, { ...guide, cidrBlock }), false, cidrBlock);
    }
    assert.equal(Value.Check(VPCKind.spec, { ...guide, instanceTenancy: 'host' }), false);
  });

  test('cidrBlock and instanceTenancy are immutable; hostnames need DNS support', () => {
    const crd = JSON.stringify(customResourceDefinition(VPCKind));
    assert.match(crd, /"rule":"self == oldSelf","message":"cidrBlock is immutable/);
    assert.match(crd, /"rule":"self == oldSelf","message":"instanceTenancy is immutable/);
    assert.match(VPCKind.specRules?.[0]?.message ?? '', /enableDnsHostnames needs enableDnsSupport/);
    assert.deepEqual(VPCKind.references(spec, 'default'), [{ kind: 'AWSProvider', namespace: 'default', name: 'aws' }]);
    assert.deepEqual(
      VPCKind.printerColumns.map((column) => column.name),
      ['VPC', 'Ready', 'Phase', 'CIDR', 'State', 'Reason', 'Age'],
    );
  });
});

describe('observe', () => {
  test('no VPC with the owner and cluster tags is exists:false, found by those tags only', async () => {
    const context = stubContext({ DescribeVpcsCommand: { Vpcs: [] } }, options);
    const observed = await vpcHandler.observe(context, spec);
    assert.equal(observed.exists, false);
    assert.deepEqual(context.callsTo('DescribeVpcsCommand'), [
      {
        Filters: [
          { Name: `tag:${OWNER_TAG}`, Values: [OWNER] },
          { Name: `tag:${CLUSTER_TAG}`, Values: [TEST_CLUSTER_ID] },
        ],
      },
    ]);
    assert.deepEqual(context.commandNames(), ['DescribeVpcsCommand']);
  });

  test("another cluster's VPC of the same owner tag is not ours, even where the endpoint ignores the cluster filter", async () => {
    const theirs = vpc('vpc-9', { Tags: tagList({ ...TAGS, [CLUSTER_TAG]: 'other-cluster' }) });
    const context = stubContext({ DescribeVpcsCommand: { Vpcs: [theirs] } }, options);
    assert.equal((await vpcHandler.observe(context, spec)).exists, false);
  });

  test('a VPC that matches the spec is up to date and ready, with its status fields', async () => {
    const context = stubContext({ DescribeVpcsCommand: { Vpcs: [vpc()] }, DescribeVpcAttributeCommand: dns(true, true) }, options);
    const observed = await vpcHandler.observe(context, spec);
    assert.deepEqual(observed.differences, []);
    assert.equal(observed.upToDate, true);
    assert.equal(observed.ready, true);
    assert.equal(observed.state, 'available');
    assert.deepEqual(observed.status, { vpcID: 'vpc-1', cidrBlock: '10.0.0.0/16', state: 'available' });
    assert.equal(observed.id, 'vpc-1');
    assert.equal(observed.unmanaged, undefined);
    assert.equal(observed.ownedBy, undefined);
    // One attribute per call: EC2 has no way to read both at once.
    assert.deepEqual(
      context.callsTo('DescribeVpcAttributeCommand').map((input) => input.Attribute),
      ['enableDnsSupport', 'enableDnsHostnames'],
    );
  });

  test('a pending VPC exists but is not ready', async () => {
    const context = stubContext(
      { DescribeVpcsCommand: { Vpcs: [vpc('vpc-1', { State: 'pending' })] }, DescribeVpcAttributeCommand: dns(true, true) },
      options,
    );
    const observed = await vpcHandler.observe(context, spec);
    assert.equal(observed.ready, false);
    assert.equal(observed.state, 'pending');
    assert.equal(observed.upToDate, true);
  });

  test('each kind of difference is reported readably', async () => {
    const context = stubContext(
      {
        DescribeVpcsCommand: {
          Vpcs: [vpc('vpc-1', { CidrBlock: '10.9.0.0/16', InstanceTenancy: 'default', Tags: tagList({ ...OURS, Extra: 'x' }) })],
        },
        DescribeVpcAttributeCommand: dns(false, false),
      },
      options,
    );
    const observed = await vpcHandler.observe(context, { ...spec, instanceTenancy: 'dedicated' });
    assert.equal(observed.upToDate, false);
    assert.deepEqual(observed.differences, [
      'cidrBlock: 10.9.0.0/16 -> 10.0.0.0/16 (immutable: create a new resource to change it)',
      'instanceTenancy: default -> dedicated (immutable: create a new resource to change it)',
      'enableDnsSupport: false -> true',
      'enableDnsHostnames: false -> true',
      'tags: +Name, -Extra',
    ]);
  });

  test('DNS attributes the spec leaves unset are neither read nor compared; tags always are', async () => {
    const minimal: VpcSpec = { providerRef: { name: 'aws' }, cidrBlock: '10.0.0.0/16' };
    const context = stubContext({ DescribeVpcsCommand: { Vpcs: [vpc()] } }, options);
    const observed = await vpcHandler.observe(context, minimal);
    assert.deepEqual(context.commandNames(), ['DescribeVpcsCommand']);
    assert.deepEqual(observed.differences, []);
  });

  test('more than one VPC with the owner tag: the lowest ID is managed, the others are differences', async () => {
    const context = stubContext(
      { DescribeVpcsCommand: { Vpcs: [vpc('vpc-3'), vpc('vpc-1'), vpc('vpc-2')] }, DescribeVpcAttributeCommand: dns(true, true) },
      options,
    );
    const observed = await vpcHandler.observe(context, spec);
    assert.equal(observed.status.vpcID, 'vpc-1');
    assert.deepEqual(observed.differences, ["duplicates: vpc-2, vpc-3 also carry this resource's owner tag"]);
    assert.equal(observed.upToDate, false);
  });

  test('while deleting: only existence and state, no attribute reads, no comparison', async () => {
    const context = stubContext(
      { DescribeVpcsCommand: { Vpcs: [vpc('vpc-1', { CidrBlock: '10.9.0.0/16', Tags: tagList(OURS) })] } },
      { ...options, deleting: true },
    );
    const observed = await vpcHandler.observe(context, spec);
    assert.equal(observed.exists, true);
    assert.equal(observed.state, 'available');
    assert.deepEqual(observed.differences, []);
    assert.deepEqual(context.commandNames(), ['DescribeVpcsCommand']);
  });

  test('a VPC deleted between the two reads is exists:false', async () => {
    const context = stubContext(
      { DescribeVpcsCommand: { Vpcs: [vpc()] }, DescribeVpcAttributeCommand: awsError('InvalidVpcID.NotFound') },
      options,
    );
    assert.equal((await vpcHandler.observe(context, spec)).exists, false);
  });

  test('throttling is not mistaken for "not found"', async () => {
    const context = stubContext({ DescribeVpcsCommand: awsError('RequestLimitExceeded', { status: 503, fault: 'server' }) }, options);
    await assert.rejects(vpcHandler.observe(context, spec), { name: 'RequestLimitExceeded' });
  });
});

describe('by recorded ID (context.awsID)', () => {
  const byID = { ...options, awsID: 'vpc-1' };

  test('observe describes by ID and makes no tag lookup', async () => {
    const context = stubContext({ DescribeVpcsCommand: { Vpcs: [vpc()] }, DescribeVpcAttributeCommand: dns(true, true) }, byID);
    const observed = await vpcHandler.observe(context, spec);
    assert.deepEqual(context.callsTo('DescribeVpcsCommand'), [{ VpcIds: ['vpc-1'] }]);
    assert.equal(observed.id, 'vpc-1');
    assert.equal(observed.upToDate, true);
    assert.equal(observed.unmanaged, undefined);
  });

  test('gone (NotFound): exists:false, with no fallback to the tags', async () => {
    const context = stubContext({ DescribeVpcsCommand: awsError('InvalidVpcID.NotFound') }, byID);
    assert.equal((await vpcHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.callsTo('DescribeVpcsCommand'), [{ VpcIds: ['vpc-1'] }]);
  });

  test('its owner tag removed by hand: unmanaged, with its ID; update writes the owner and cluster tags back', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeVpcsCommand: { Vpcs: [vpc('vpc-1', { Tags: tagList({ Name: 'app' }) })] },
        DescribeVpcAttributeCommand: dns(true, true),
      },
      byID,
    );
    const observed = await vpcHandler.observe(context, spec);
    assert.equal(observed.unmanaged, true);
    assert.equal(observed.id, 'vpc-1');
    assert.deepEqual(observed.differences, [`tags: +${CLUSTER_TAG}, +${OWNER_TAG}`]);
    await vpcHandler.update(context, spec, observed);
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['vpc-1'], Tags: tagList(OURS) }]);
    assert.ok(context.callsTo('DescribeVpcsCommand').every((input) => input.Filters === undefined), 'no tag lookup');
  });

  test("another resource's VPC named by ID is reported as theirs", async () => {
    const context = stubContext(
      { DescribeVpcsCommand: { Vpcs: [vpc('vpc-1', { Tags: tagList({ ...TAGS, [OWNER_TAG]: 'VPC/default/other' }) })] } },
      { ...byID, deleting: true },
    );
    const observed = await vpcHandler.observe(context, spec);
    assert.equal(observed.ownedBy, 'VPC/default/other');
    assert.equal(observed.id, 'vpc-1');
  });

  test('create finds the recorded VPC by ID and creates nothing', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeVpcsCommand: { Vpcs: [vpc()] }, DescribeVpcAttributeCommand: dns(true, true) },
      byID,
    );
    await vpcHandler.create(context, spec);
    assert.deepEqual(writesOf(context.commandNames()), []);
  });

  test('create after the recorded VPC is gone makes a new one and waits for it by its tags', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeVpcsCommand: (input: CommandInput) => {
          if (input.VpcIds) throw awsError('InvalidVpcID.NotFound');
          return { Vpcs: [vpc('vpc-2')] };
        },
        DescribeVpcAttributeCommand: dns(true, true),
      },
      byID,
    );
    await vpcHandler.create(context, spec);
    assert.deepEqual(writesOf(context.commandNames()), ['CreateVpcCommand']);
  });

  test('delete deletes the recorded VPC only, and makes no tag lookup', async () => {
    const context = stubContext({ DescribeVpcsCommand: { Vpcs: [vpc()] }, DeleteVpcCommand: {} }, { ...byID, deleting: true });
    assert.equal(await vpcHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DescribeVpcsCommand'), [{ VpcIds: ['vpc-1'] }]);
    assert.deepEqual(context.callsTo('DeleteVpcCommand'), [{ VpcId: 'vpc-1' }]);
  });

  test('delete of a recorded VPC that is gone: Deleted', async () => {
    const context = stubContext({ DescribeVpcsCommand: awsError('InvalidVpcID.NotFound') }, { ...byID, deleting: true });
    assert.equal(await vpcHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.commandNames(), ['DescribeVpcsCommand']);
  });
});

describe('compare and mapping', () => {
  test('compareVpc ignores unset fields and reports set ones', () => {
    const observed = { ...observedVpc(vpc()), enableDnsSupport: true, enableDnsHostnames: false };
    assert.deepEqual(compareVpc({ providerRef: { name: 'aws' }, cidrBlock: '10.0.0.0/16' }, observed, TAGS), []);
    assert.deepEqual(
      compareVpc({ ...spec, enableDnsSupport: undefined }, observed, TAGS).map(formatDifference),
      ['enableDnsHostnames: false -> true'],
    );
  });

  test('observedVpc fills EC2 defaults', () => {
    assert.deepEqual(observedVpc({ VpcId: 'vpc-1' }), {
      vpcID: 'vpc-1',
      cidrBlock: '',
      instanceTenancy: 'default',
      state: '',
      tags: {},
    });
  });

  test('DNS: support goes on before hostnames, and hostnames off before support', () => {
    assert.deepEqual(dnsAttributeChanges({ enableDnsSupport: true, enableDnsHostnames: true }, { enableDnsSupport: false, enableDnsHostnames: false }), [
      { attribute: 'enableDnsSupport', value: true },
      { attribute: 'enableDnsHostnames', value: true },
    ]);
    assert.deepEqual(dnsAttributeChanges({ enableDnsSupport: false, enableDnsHostnames: false }, { enableDnsSupport: true, enableDnsHostnames: true }), [
      { attribute: 'enableDnsHostnames', value: false },
      { attribute: 'enableDnsSupport', value: false },
    ]);
    assert.deepEqual(dnsAttributeChanges({ enableDnsHostnames: true }, { enableDnsSupport: true, enableDnsHostnames: false }), [
      { attribute: 'enableDnsHostnames', value: true },
    ]);
    assert.deepEqual(dnsAttributeChanges({}, { enableDnsSupport: false, enableDnsHostnames: false }), []);
  });
});

describe('create', () => {
  test('creates with the tags in the same call, then sets only the DNS attributes that differ', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeVpcsCommand: sequence({ Vpcs: [] }, { Vpcs: [vpc()] }),
        CreateVpcCommand: { Vpc: vpc() },
        // What a new VPC has: DNS support on, hostnames off.
        DescribeVpcAttributeCommand: dns(true, false),
      },
      options,
    );
    await vpcHandler.create(context, { ...spec, instanceTenancy: 'default' });
    assert.deepEqual(context.callsTo('CreateVpcCommand'), [
      {
        CidrBlock: '10.0.0.0/16',
        InstanceTenancy: 'default',
        TagSpecifications: [{ ResourceType: 'vpc', Tags: tagList(TAGS) }],
      },
    ]);
    assert.deepEqual(writesOf(context.commandNames()), ['CreateVpcCommand', 'ModifyVpcAttributeCommand']);
    assert.deepEqual(context.callsTo('ModifyVpcAttributeCommand'), [{ VpcId: 'vpc-1', EnableDnsHostnames: { Value: true } }]);
  });

  test('a retry after a crash finds the VPC by its owner tag and never creates a second one', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeVpcsCommand: { Vpcs: [vpc()] }, DescribeVpcAttributeCommand: dns(true, false) },
      options,
    );
    await vpcHandler.create(context, spec);
    assert.deepEqual(writesOf(context.commandNames()), ['ModifyVpcAttributeCommand']);
  });

  test('waits until the new VPC is visible to the owner-tag lookup before going on', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeVpcsCommand: sequence({ Vpcs: [] }, { Vpcs: [] }, { Vpcs: [vpc()] }),
        CreateVpcCommand: { Vpc: vpc() },
        DescribeVpcAttributeCommand: dns(true, true),
      },
      options,
    );
    await vpcHandler.create(context, spec);
    assert.equal(context.callsTo('DescribeVpcsCommand').length, 3);
    assert.equal(context.callsTo('CreateVpcCommand').length, 1);
    assert.ok(context.heartbeats >= 1, 'heartbeats while waiting');
  });

  test('a CIDR EC2 refuses is terminal', async () => {
    const context = stubContext(
      { DescribeVpcsCommand: { Vpcs: [] }, CreateVpcCommand: awsError('InvalidVpc.Range') },
      options,
    );
    const error = await failure(vpcHandler.create(context, spec));
    assert.equal(classifyAwsError(error, vpcHandler.errorCodes), ErrorClass.Terminal);
  });
});

describe('update', () => {
  test('writes only what differs', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeVpcsCommand: { Vpcs: [vpc()] }, DescribeVpcAttributeCommand: dns(true, false) },
      options,
    );
    const observed = await vpcHandler.observe(context, spec);
    assert.deepEqual(observed.differences, ['enableDnsHostnames: false -> true']);
    await vpcHandler.update(context, spec, observed);
    assert.deepEqual(writesOf(context.commandNames()), ['ModifyVpcAttributeCommand']);
    assert.deepEqual(context.callsTo('ModifyVpcAttributeCommand'), [{ VpcId: 'vpc-1', EnableDnsHostnames: { Value: true } }]);
  });

  test('turning DNS off sends one attribute per call, hostnames first', async () => {
    const off: VpcSpec = { ...spec, enableDnsSupport: false, enableDnsHostnames: false };
    const context = stubContext(
      { ...acceptWrites(), DescribeVpcsCommand: { Vpcs: [vpc()] }, DescribeVpcAttributeCommand: dns(true, true) },
      options,
    );
    await vpcHandler.update(context, off, await vpcHandler.observe(context, off));
    assert.deepEqual(context.callsTo('ModifyVpcAttributeCommand'), [
      { VpcId: 'vpc-1', EnableDnsHostnames: { Value: false } },
      { VpcId: 'vpc-1', EnableDnsSupport: { Value: false } },
    ]);
  });

  test('tags become exactly the desired set', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeVpcsCommand: { Vpcs: [vpc('vpc-1', { Tags: tagList({ ...OURS, Name: 'old', Extra: 'x' }) })] },
        DescribeVpcAttributeCommand: dns(true, true),
      },
      options,
    );
    const observed = await vpcHandler.observe(context, spec);
    assert.deepEqual(observed.differences, ['tags: -Extra, ~Name']);
    await vpcHandler.update(context, spec, observed);
    assert.deepEqual(writesOf(context.commandNames()), ['CreateTagsCommand', 'DeleteTagsCommand']);
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['vpc-1'], Tags: [{ Key: 'Name', Value: 'app' }] }]);
    assert.deepEqual(context.callsTo('DeleteTagsCommand'), [{ Resources: ['vpc-1'], Tags: [{ Key: 'Extra' }] }]);
  });

  test('an immutable field that differs fails terminally, after the mutable fields are fixed', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeVpcsCommand: { Vpcs: [vpc('vpc-1', { CidrBlock: '10.9.0.0/16' })] },
        DescribeVpcAttributeCommand: dns(true, false),
      },
      options,
    );
    const error = await failure(vpcHandler.update(context, spec, await vpcHandler.observe(context, spec)));
    assert.equal(classifyAwsError(error, vpcHandler.errorCodes), ErrorClass.Terminal);
    assert.match(String(error), /cidrBlock 10\.9\.0\.0\/16 -> 10\.0\.0\.0\/16/);
    assert.deepEqual(writesOf(context.commandNames()), ['ModifyVpcAttributeCommand']);
  });

  test('duplicates are deleted; one that still has dependents stays without failing the update', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeVpcsCommand: { Vpcs: [vpc('vpc-1'), vpc('vpc-2'), vpc('vpc-3')] },
        DescribeVpcAttributeCommand: dns(true, true),
        DeleteVpcCommand: (input: CommandInput) => {
          if (input.VpcId === 'vpc-3') throw awsError('DependencyViolation');
          return {};
        },
      },
      options,
    );
    await vpcHandler.update(context, spec, await vpcHandler.observe(context, spec));
    assert.deepEqual(context.callsTo('DeleteVpcCommand'), [{ VpcId: 'vpc-2' }, { VpcId: 'vpc-3' }]);
  });
});

describe('delete', () => {
  test('deletes the VPC found by its owner tag', async () => {
    const context = stubContext({ DescribeVpcsCommand: { Vpcs: [vpc()] }, DeleteVpcCommand: {} }, { ...options, deleting: true });
    assert.equal(await vpcHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DeleteVpcCommand'), [{ VpcId: 'vpc-1' }]);
  });

  test('DependencyViolation (subnets, gateways still in it) is Deleting, so the workflow waits and tries again', async () => {
    const context = stubContext(
      { DescribeVpcsCommand: { Vpcs: [vpc()] }, DeleteVpcCommand: awsError('DependencyViolation') },
      { ...options, deleting: true },
    );
    assert.equal(await vpcHandler.delete(context, spec), 'Deleting');
  });

  test('nothing with the owner tag, or already gone: Deleted', async () => {
    const none = stubContext({ DescribeVpcsCommand: { Vpcs: [] } }, { ...options, deleting: true });
    assert.equal(await vpcHandler.delete(none, spec), 'Deleted');
    assert.deepEqual(none.commandNames(), ['DescribeVpcsCommand']);
    const gone = stubContext(
      { DescribeVpcsCommand: { Vpcs: [vpc()] }, DeleteVpcCommand: awsError('InvalidVpcID.NotFound') },
      { ...options, deleting: true },
    );
    assert.equal(await vpcHandler.delete(gone, spec), 'Deleted');
  });

  test('every VPC with the owner tag is deleted, duplicates included', async () => {
    const context = stubContext(
      { DescribeVpcsCommand: { Vpcs: [vpc('vpc-2'), vpc('vpc-1')] }, DeleteVpcCommand: {} },
      { ...options, deleting: true },
    );
    assert.equal(await vpcHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DeleteVpcCommand'), [{ VpcId: 'vpc-1' }, { VpcId: 'vpc-2' }]);
  });

  test('other errors are thrown, not swallowed', async () => {
    const context = stubContext(
      { DescribeVpcsCommand: { Vpcs: [vpc()] }, DeleteVpcCommand: awsError('UnauthorizedOperation', { status: 403 }) },
      { ...options, deleting: true },
    );
    await assert.rejects(vpcHandler.delete(context, spec), { name: 'UnauthorizedOperation' });
  });
});
