import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import type { Subnet } from '@aws-sdk/client-ec2';
import { customResourceDefinition } from '../../../crds/crd.js';
import { SubnetKind, type SubnetSpec } from '../../../crds/kinds/subnet.js';
import { FailureType } from '../../../contract/failures.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { ErrorClass, classifyAwsError } from '../errors.js';
import { TEST_CLUSTER_ID, awsError, sequence, stubContext, type CommandInput, type StubResponse } from '../testing.js';
import { compareSubnet, observedSubnet, subnetHandler } from './subnet.js';
import { formatDifference } from '../difference.js';

const OWNER = 'Subnet/default/public-1a';
const OURS = { [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID };
const TAGS = { Name: 'public-1a', ...OURS };
const resource = { kind: 'Subnet', namespace: 'default', name: 'public-1a', uid: 'uid-1' };
const resolved = { 'VPC/default/app-vpc': 'vpc-1' };
const options = { resource, tags: TAGS, resolved };

const spec: SubnetSpec = {
  providerRef: { name: 'aws' },
  vpcRef: { name: 'app-vpc' },
  cidrBlock: '10.0.1.0/24',
  availabilityZone: 'us-east-1a',
  mapPublicIpOnLaunch: true,
  tags: { Name: 'public-1a' },
};

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

function subnet(SubnetId = 'subnet-1', overrides: Partial<Subnet> = {}): Subnet {
  return {
    SubnetId,
    VpcId: 'vpc-1',
    CidrBlock: '10.0.1.0/24',
    AvailabilityZone: 'us-east-1a',
    State: 'available',
    AvailableIpAddressCount: 251,
    MapPublicIpOnLaunch: true,
    Tags: tagList(TAGS),
    ...overrides,
  };
}

const WRITES = ['CreateSubnetCommand', 'ModifySubnetAttributeCommand', 'CreateTagsCommand', 'DeleteTagsCommand', 'DeleteSubnetCommand'];
const writesOf = (names: string[]) => names.filter((name) => WRITES.includes(name));
const acceptWrites = (): Record<string, StubResponse> => Object.fromEntries(WRITES.map((name) => [name, {}]));

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a failure'),
    (error: unknown) => error,
  );
}

describe('schema', () => {
  test("the guide's manifests validate; a CIDR or VPC ID of the wrong shape does not", () => {
    const guide = {
      providerRef: { name: 'production-aws' },
      vpcID: 'vpc-f3ea9b1b36fce09cd',
      cidrBlock: '10.0.1.0/24',
      availabilityZone: 'us-east-1a',
      mapPublicIpOnLaunch: true,
      tags: { Name: 'public-subnet-1a', Type: 'public' },
      deletionPolicy: 'Delete',
    };
    assert.ok(Value.Check(SubnetKind.spec, guide));
    assert.ok(Value.Check(SubnetKind.spec, { ...guide, vpcID: 'vpc-xxx', tags: { 'kubernetes.io/role/elb': '1' } }));
    assert.ok(Value.Check(SubnetKind.spec, { ...guide, vpcID: undefined, vpcRef: { name: 'app-vpc' } }));
    assert.equal(Value.Check(SubnetKind.spec, { ...guide, cidrBlock: '10.0.1.0' }), false);
    assert.equal(Value.Check(SubnetKind.spec, { ...guide, cidrBlock: '10.0.1.0/8' }), false);
    assert.equal(Value.Check(SubnetKind.spec, { ...guide, vpcID: 'subnet-1' }), false);
  });

  test('exactly one of vpcID and vpcRef; VPC, CIDR and zone are immutable', () => {
    assert.deepEqual(SubnetKind.specRules, [{ rule: 'has(self.vpcID) != has(self.vpcRef)', message: 'set exactly one of vpcID or vpcRef' }]);
    const crd = JSON.stringify(customResourceDefinition(SubnetKind));
    for (const field of ['vpcID', 'vpcRef', 'cidrBlock', 'availabilityZone']) {
      assert.ok(crd.includes(`"rule":"self == oldSelf","message":"${field} is immutable`), field);
    }
  });

  test('references: the provider and the VPC a vpcRef names', () => {
    assert.deepEqual(SubnetKind.references(spec, 'team-a'), [
      { kind: 'AWSProvider', namespace: 'team-a', name: 'aws' },
      { kind: 'VPC', namespace: 'team-a', name: 'app-vpc' },
    ]);
    assert.deepEqual(SubnetKind.references({ ...spec, vpcRef: undefined, vpcID: 'vpc-1' }, 'team-a'), [
      { kind: 'AWSProvider', namespace: 'team-a', name: 'aws' },
    ]);
  });
});

describe('observe', () => {
  test('no subnet with the owner and cluster tags is exists:false', async () => {
    const context = stubContext({ DescribeSubnetsCommand: { Subnets: [] } }, options);
    assert.equal((await subnetHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.callsTo('DescribeSubnetsCommand'), [
      {
        Filters: [
          { Name: `tag:${OWNER_TAG}`, Values: [OWNER] },
          { Name: `tag:${CLUSTER_TAG}`, Values: [TEST_CLUSTER_ID] },
        ],
      },
    ]);
  });

  test('a subnet that matches is up to date and ready, with every status field', async () => {
    const context = stubContext({ DescribeSubnetsCommand: { Subnets: [subnet()] } }, options);
    const observed = await subnetHandler.observe(context, spec);
    assert.equal(observed.upToDate, true);
    assert.equal(observed.ready, true);
    assert.equal(observed.state, 'available');
    assert.deepEqual(observed.status, {
      subnetID: 'subnet-1',
      vpcID: 'vpc-1',
      state: 'available',
      availableIpAddressCount: 251,
      availabilityZone: 'us-east-1a',
      cidrBlock: '10.0.1.0/24',
    });
    assert.equal(observed.id, 'subnet-1');
    assert.equal(observed.unmanaged, undefined);
  });

  test('vpcRef resolves to the VPC status.vpcID; a raw vpcID is used as given', async () => {
    const byRef = stubContext({ DescribeSubnetsCommand: { Subnets: [subnet('subnet-1', { VpcId: 'vpc-9' })] } }, {
      ...options,
      resolved: { 'VPC/net/shared': 'vpc-9' },
    });
    const observed = await subnetHandler.observe(byRef, { ...spec, vpcRef: { name: 'shared', namespace: 'net' } });
    assert.deepEqual(observed.differences, []);
    const raw = stubContext({ DescribeSubnetsCommand: { Subnets: [subnet()] } }, { ...options, resolved: {} });
    assert.deepEqual((await subnetHandler.observe(raw, { ...spec, vpcRef: undefined, vpcID: 'vpc-1' })).differences, []);
  });

  test('a VPC that is not Ready yet: DependencyNotReady before any AWS call', async () => {
    const context = stubContext({}, { ...options, resolved: {} });
    await assert.rejects(subnetHandler.observe(context, spec), { type: FailureType.DependencyNotReady });
    await assert.rejects(subnetHandler.create(context, spec), { type: FailureType.DependencyNotReady });
    assert.deepEqual(context.commandNames(), []);
  });

  test('each kind of difference is reported readably', async () => {
    const context = stubContext(
      {
        DescribeSubnetsCommand: {
          Subnets: [
            subnet('subnet-1', {
              VpcId: 'vpc-old',
              CidrBlock: '10.0.9.0/24',
              AvailabilityZone: 'us-east-1b',
              MapPublicIpOnLaunch: false,
              Tags: tagList({ ...OURS, Name: 'renamed' }),
            }),
          ],
        },
      },
      options,
    );
    const observed = await subnetHandler.observe(context, spec);
    assert.deepEqual(observed.differences, [
      'vpcID: vpc-old -> vpc-1 (immutable: create a new resource to change it)',
      'cidrBlock: 10.0.9.0/24 -> 10.0.1.0/24 (immutable: create a new resource to change it)',
      'availabilityZone: us-east-1b -> us-east-1a (immutable: create a new resource to change it)',
      'mapPublicIpOnLaunch: false -> true',
      'tags: ~Name',
    ]);
  });

  test('while deleting: the VPC is not resolved and nothing is compared', async () => {
    const context = stubContext(
      { DescribeSubnetsCommand: { Subnets: [subnet('subnet-1', { MapPublicIpOnLaunch: false, State: 'pending' })] } },
      { ...options, resolved: {}, deleting: true },
    );
    const observed = await subnetHandler.observe(context, spec);
    assert.equal(observed.exists, true);
    assert.equal(observed.state, 'pending');
    assert.deepEqual(observed.differences, []);
  });

  test('duplicates: the lowest ID is managed, the others are differences', async () => {
    const context = stubContext({ DescribeSubnetsCommand: { Subnets: [subnet('subnet-2'), subnet('subnet-1')] } }, options);
    const observed = await subnetHandler.observe(context, spec);
    assert.equal(observed.status.subnetID, 'subnet-1');
    assert.deepEqual(observed.differences, ["duplicates: subnet-2 also carry this resource's owner tag"]);
  });
});

describe('by recorded ID (context.awsID)', () => {
  const byID = { ...options, awsID: 'subnet-1' };

  test('observe describes by ID and makes no tag lookup', async () => {
    const context = stubContext({ DescribeSubnetsCommand: { Subnets: [subnet()] } }, byID);
    const observed = await subnetHandler.observe(context, spec);
    assert.deepEqual(context.callsTo('DescribeSubnetsCommand'), [{ SubnetIds: ['subnet-1'] }]);
    assert.equal(observed.id, 'subnet-1');
    assert.equal(observed.upToDate, true);
  });

  test('gone (NotFound): exists:false, with no fallback to the tags', async () => {
    const context = stubContext({ DescribeSubnetsCommand: awsError('InvalidSubnetID.NotFound') }, byID);
    assert.equal((await subnetHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.callsTo('DescribeSubnetsCommand'), [{ SubnetIds: ['subnet-1'] }]);
  });

  test('its owner tag removed by hand: unmanaged, with its ID; update writes the owner and cluster tags back', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeSubnetsCommand: { Subnets: [subnet('subnet-1', { Tags: tagList({ Name: 'public-1a' }) })] } },
      byID,
    );
    const observed = await subnetHandler.observe(context, spec);
    assert.equal(observed.unmanaged, true);
    assert.equal(observed.id, 'subnet-1');
    await subnetHandler.update(context, spec, observed);
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['subnet-1'], Tags: tagList(OURS) }]);
    assert.ok(context.callsTo('DescribeSubnetsCommand').every((input) => input.Filters === undefined), 'no tag lookup');
  });

  test('delete deletes the recorded subnet, found by ID', async () => {
    const context = stubContext(
      { DescribeSubnetsCommand: { Subnets: [subnet()] }, DeleteSubnetCommand: {} },
      { ...byID, resolved: {}, deleting: true },
    );
    assert.equal(await subnetHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DescribeSubnetsCommand'), [{ SubnetIds: ['subnet-1'] }]);
    assert.deepEqual(context.callsTo('DeleteSubnetCommand'), [{ SubnetId: 'subnet-1' }]);
  });
});

describe('compare and mapping', () => {
  test('fields the spec leaves unset are not compared', () => {
    const observed = observedSubnet(subnet('subnet-1', { AvailabilityZone: 'us-east-1c', MapPublicIpOnLaunch: false }));
    const minimal: SubnetSpec = { providerRef: { name: 'aws' }, vpcID: 'vpc-1', cidrBlock: '10.0.1.0/24' };
    assert.deepEqual(compareSubnet(minimal, 'vpc-1', observed, TAGS), []);
    assert.deepEqual(compareSubnet({ ...minimal, mapPublicIpOnLaunch: true }, 'vpc-1', observed, TAGS).map(formatDifference), [
      'mapPublicIpOnLaunch: false -> true',
    ]);
  });
});

describe('create', () => {
  test('creates in the resolved VPC with the tags in the same call, then maps public IPs', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeSubnetsCommand: sequence({ Subnets: [] }, { Subnets: [subnet('subnet-1', { MapPublicIpOnLaunch: false })] }),
        CreateSubnetCommand: { Subnet: subnet() },
      },
      options,
    );
    await subnetHandler.create(context, spec);
    assert.deepEqual(context.callsTo('CreateSubnetCommand'), [
      {
        VpcId: 'vpc-1',
        CidrBlock: '10.0.1.0/24',
        AvailabilityZone: 'us-east-1a',
        TagSpecifications: [{ ResourceType: 'subnet', Tags: tagList(TAGS) }],
      },
    ]);
    assert.deepEqual(writesOf(context.commandNames()), ['CreateSubnetCommand', 'ModifySubnetAttributeCommand']);
    assert.deepEqual(context.callsTo('ModifySubnetAttributeCommand'), [{ SubnetId: 'subnet-1', MapPublicIpOnLaunch: { Value: true } }]);
  });

  test('no availabilityZone in the spec: EC2 chooses', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeSubnetsCommand: sequence({ Subnets: [] }, { Subnets: [subnet()] }), CreateSubnetCommand: {} },
      options,
    );
    await subnetHandler.create(context, { ...spec, availabilityZone: undefined });
    assert.equal('AvailabilityZone' in (context.callsTo('CreateSubnetCommand')[0] ?? {}), false);
  });

  test('a retry after a crash finds the subnet by its owner tag and creates nothing', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeSubnetsCommand: { Subnets: [subnet('subnet-1', { MapPublicIpOnLaunch: false })] } },
      options,
    );
    await subnetHandler.create(context, spec);
    assert.deepEqual(writesOf(context.commandNames()), ['ModifySubnetAttributeCommand']);
  });

  test('a CIDR outside the VPC is terminal', async () => {
    const context = stubContext({ DescribeSubnetsCommand: { Subnets: [] }, CreateSubnetCommand: awsError('InvalidSubnet.Range') }, options);
    const error = await failure(subnetHandler.create(context, spec));
    assert.equal(classifyAwsError(error, subnetHandler.errorCodes), ErrorClass.Terminal);
  });
});

describe('update', () => {
  test('sends only what differs', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeSubnetsCommand: { Subnets: [subnet('subnet-1', { Tags: tagList({ ...OURS, Name: 'x' }) })] } },
      options,
    );
    const observed = await subnetHandler.observe(context, spec);
    assert.deepEqual(observed.differences, ['tags: ~Name']);
    await subnetHandler.update(context, spec, observed);
    assert.deepEqual(writesOf(context.commandNames()), ['CreateTagsCommand']);
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['subnet-1'], Tags: [{ Key: 'Name', Value: 'public-1a' }] }]);
  });

  test('mapPublicIpOnLaunch changed in the spec', async () => {
    const privateSpec = { ...spec, mapPublicIpOnLaunch: false };
    const context = stubContext({ ...acceptWrites(), DescribeSubnetsCommand: { Subnets: [subnet()] } }, options);
    await subnetHandler.update(context, privateSpec, await subnetHandler.observe(context, privateSpec));
    assert.deepEqual(context.callsTo('ModifySubnetAttributeCommand'), [{ SubnetId: 'subnet-1', MapPublicIpOnLaunch: { Value: false } }]);
  });

  test('a subnet in another VPC than the spec names fails terminally, naming the field', async () => {
    const context = stubContext({ ...acceptWrites(), DescribeSubnetsCommand: { Subnets: [subnet('subnet-1', { VpcId: 'vpc-old' })] } }, options);
    const error = await failure(subnetHandler.update(context, spec, await subnetHandler.observe(context, spec)));
    assert.equal(classifyAwsError(error, subnetHandler.errorCodes), ErrorClass.Terminal);
    assert.match(String(error), /vpcID vpc-old -> vpc-1/);
  });

  test('duplicates are deleted', async () => {
    const context = stubContext({ ...acceptWrites(), DescribeSubnetsCommand: { Subnets: [subnet('subnet-1'), subnet('subnet-2')] } }, options);
    await subnetHandler.update(context, spec, await subnetHandler.observe(context, spec));
    assert.deepEqual(context.callsTo('DeleteSubnetCommand'), [{ SubnetId: 'subnet-2' }]);
  });
});

describe('delete', () => {
  const deleting = { ...options, resolved: {}, deleting: true };

  test('deletes the subnet found by its owner tag, resolving nothing', async () => {
    const context = stubContext({ DescribeSubnetsCommand: { Subnets: [subnet()] }, DeleteSubnetCommand: {} }, deleting);
    assert.equal(await subnetHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DeleteSubnetCommand'), [{ SubnetId: 'subnet-1' }]);
  });

  test('DependencyViolation (a NAT gateway or interface still in it) is Deleting', async () => {
    const context = stubContext(
      { DescribeSubnetsCommand: { Subnets: [subnet()] }, DeleteSubnetCommand: awsError('DependencyViolation') },
      deleting,
    );
    assert.equal(await subnetHandler.delete(context, spec), 'Deleting');
  });

  test('gone already: Deleted', async () => {
    const none = stubContext({ DescribeSubnetsCommand: { Subnets: [] } }, deleting);
    assert.equal(await subnetHandler.delete(none, spec), 'Deleted');
    const gone = stubContext(
      { DescribeSubnetsCommand: { Subnets: [subnet()] }, DeleteSubnetCommand: awsError('InvalidSubnetID.NotFound') },
      deleting,
    );
    assert.equal(await subnetHandler.delete(gone, spec), 'Deleted');
  });

  test('one duplicate still in use keeps the whole deletion Deleting', async () => {
    const context = stubContext(
      {
        DescribeSubnetsCommand: { Subnets: [subnet('subnet-1'), subnet('subnet-2')] },
        DeleteSubnetCommand: (input: CommandInput) => {
          if (input.SubnetId === 'subnet-2') throw awsError('DependencyViolation');
          return {};
        },
      },
      deleting,
    );
    assert.equal(await subnetHandler.delete(context, spec), 'Deleting');
    assert.equal(context.callsTo('DeleteSubnetCommand').length, 2);
  });
});
