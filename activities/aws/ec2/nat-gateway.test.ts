import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NatGateway } from '@aws-sdk/client-ec2';
import { Value } from '@sinclair/typebox/value';
import { NATGatewayKind, type NATGatewaySpec } from '../../../crds/kinds/nat-gateway.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { ErrorClass, classifyAwsError } from '../errors.js';
import { TEST_CLUSTER_ID, awsError, sequence, stubContext, type CommandInput, type StubResponse } from '../testing.js';
import { NAT_GATEWAY_FAILED, compareGateway, lifecycleOf, natGatewayHandler, natGatewayStatus, newestGateway } from './nat-gateway.js';

const OWNER = 'NATGateway/default/nat-1a';
const OURS = { [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID };
const TAGS = { Name: 'nat-1a', ...OURS };
const resource = { kind: 'NATGateway', namespace: 'default', name: 'nat-1a', uid: 'uid-1' };
const options = { resource, tags: TAGS };

const spec: NATGatewaySpec = { providerRef: { name: 'aws' }, subnetID: 'subnet-1', connectivityType: 'public' };
const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

function gateway(overrides: Partial<NatGateway> = {}): NatGateway {
  return {
    NatGatewayId: 'nat-1',
    SubnetId: 'subnet-1',
    VpcId: 'vpc-1',
    State: 'available',
    CreateTime: new Date('2026-01-01T00:00:00Z'),
    ConnectivityType: 'public',
    NatGatewayAddresses: [{ AllocationId: 'eipalloc-1', PublicIp: '1.2.3.4', PrivateIp: '10.0.1.5', IsPrimary: true }],
    Tags: tagList(TAGS),
    ...overrides,
  };
}

const ourAddress = { AllocationId: 'eipalloc-1', PublicIp: '1.2.3.4', Tags: tagList(TAGS) };

describe('schema', () => {
  test("the guide's manifests validate unchanged, placeholders included", () => {
    const guide = (subnetID: string) => ({
      providerRef: { name: 'production-aws' },
      subnetID,
      connectivityType: 'public',
      tags: { Name: 'production-nat-gateway', Environment: 'production' },
      deletionPolicy: 'Delete',
    });
    for (const subnetID of ['subnet-12853af5337079de5', 'subnet-public-1a', 'subnet-xxx']) {
      assert.ok(Value.Check(NATGatewayKind.spec, guide(subnetID)), subnetID);
    }
    assert.ok(Value.Check(NATGatewayKind.spec, { ...guide('subnet-1'), allocationID: 'eipalloc-xxx' }));
    assert.equal(Value.Check(NATGatewayKind.spec, { ...guide('subnet-1'), connectivityType: 'internal' }), false);
  });

  test('references list the subnet and address refs', () => {
    const refs = NATGatewayKind.references(
      { ...spec, subnetID: undefined, subnetRef: { name: 'public-1a' }, allocationRef: { name: 'eip', namespace: 'net' } },
      'default',
    );
    assert.deepEqual(refs, [
      { kind: 'AWSProvider', namespace: 'default', name: 'aws' },
      { kind: 'Subnet', namespace: 'default', name: 'public-1a' },
      { kind: 'ElasticIP', namespace: 'net', name: 'eip' },
    ]);
  });
});

describe('pure helpers', () => {
  test('the newest of several deleted gateways is the one a re-create names', () => {
    assert.equal(newestGateway([]), undefined);
    const deleted = [
      gateway({ NatGatewayId: 'nat-old', State: 'deleted', CreateTime: new Date('2026-01-01T00:00:00Z') }),
      gateway({ NatGatewayId: 'nat-new', State: 'deleted', CreateTime: new Date('2026-03-01T00:00:00Z') }),
    ];
    assert.equal(newestGateway(deleted), 'nat-new');
  });

  test('status from the primary address', () => {
    assert.deepEqual(natGatewayStatus(gateway()), {
      natGatewayID: 'nat-1',
      subnetID: 'subnet-1',
      publicIP: '1.2.3.4',
      privateIP: '10.0.1.5',
      allocationID: 'eipalloc-1',
      state: 'available',
    });
    const privateNat = gateway({ NatGatewayAddresses: [{ PrivateIp: '10.0.1.9' }], State: 'pending' });
    assert.deepEqual(natGatewayStatus(privateNat), { natGatewayID: 'nat-1', subnetID: 'subnet-1', privateIP: '10.0.1.9', state: 'pending' });
  });

  test('differences: tags, failure with AWS reason, duplicates', () => {
    assert.deepEqual(compareGateway(gateway(), [], TAGS), []);
    assert.deepEqual(compareGateway(gateway({ Tags: tagList({ ...OURS, Extra: 'x' }) }), [], TAGS), ['tags: +Name, -Extra']);
    assert.deepEqual(
      compareGateway(gateway({ State: 'failed', FailureCode: 'Gateway.NotAttached', FailureMessage: 'no internet gateway' }), [], TAGS),
      ['state: failed (Gateway.NotAttached: no internet gateway)'],
    );
    assert.deepEqual(compareGateway(gateway(), [gateway({ NatGatewayId: 'nat-9' })], TAGS), [
      "duplicates: nat-9 also carry this resource's owner tag",
    ]);
  });
});

describe('observe', () => {
  test('nothing tagged: exists false', async () => {
    const context = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [] } }, options);
    const observed = await natGatewayHandler.observe(context, spec);
    assert.equal(observed.exists, false);
    assert.deepEqual(context.callsTo('DescribeNatGatewaysCommand')[0]?.Filter, [
      { Name: `tag:${OWNER_TAG}`, Values: [OWNER] },
      { Name: `tag:${CLUSTER_TAG}`, Values: [TEST_CLUSTER_ID] },
    ]);
  });

  test('gateways of other owners are ignored even when the endpoint ignores the tag filter (moto)', async () => {
    const context = stubContext(
      {
        DescribeNatGatewaysCommand: {
          NatGateways: [
            gateway({ Tags: tagList({ ...OURS, [OWNER_TAG]: 'NATGateway/default/other' }) }),
            gateway({ NatGatewayId: 'nat-9', Tags: tagList({ ...OURS, [CLUSTER_TAG]: 'other-cluster' }) }),
          ],
        },
      },
      options,
    );
    assert.equal((await natGatewayHandler.observe(context, spec)).exists, false);
  });

  test('a deleted gateway does not exist', async () => {
    const context = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [gateway({ State: 'deleted' })] } }, options);
    assert.equal((await natGatewayHandler.observe(context, spec)).exists, false);
  });

  test('available and tagged: in sync and ready, with status', async () => {
    const context = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [gateway()] } }, options);
    const observed = await natGatewayHandler.observe(context, spec);
    assert.equal(observed.exists, true);
    assert.equal(observed.upToDate, true);
    assert.equal(observed.ready, true);
    assert.equal(observed.state, 'available');
    assert.equal(observed.status.natGatewayID, 'nat-1');
    assert.equal(observed.status.publicIP, '1.2.3.4');
    assert.equal(observed.id, 'nat-1');
    assert.equal(observed.unmanaged, undefined);
  });

  test('pending: up to date but not ready, state pending', async () => {
    const context = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [gateway({ State: 'pending' })] } }, options);
    const observed = await natGatewayHandler.observe(context, spec);
    assert.equal(observed.upToDate, true);
    assert.equal(observed.ready, false);
    assert.equal(observed.state, 'pending');
    assert.equal(observed.status.state, 'pending');
  });

  test('failed: exists, not ready, AWS reason in differences', async () => {
    const failed = gateway({ State: 'failed', FailureCode: 'InsufficientFreeAddressesInSubnet', FailureMessage: 'subnet full' });
    const context = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [failed] } }, options);
    const observed = await natGatewayHandler.observe(context, spec);
    assert.equal(observed.exists, true);
    assert.equal(observed.ready, false);
    assert.deepEqual(observed.differences, ['state: failed (InsufficientFreeAddressesInSubnet: subnet full)']);
  });

  test('tag drift is a difference; duplicates are reported, the oldest is used', async () => {
    const older = gateway({ Tags: tagList(OURS) });
    const newer = gateway({ NatGatewayId: 'nat-2', CreateTime: new Date('2026-05-01T00:00:00Z') });
    const context = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [newer, older] } }, options);
    const observed = await natGatewayHandler.observe(context, spec);
    assert.equal(observed.status.natGatewayID, 'nat-1');
    assert.deepEqual(observed.differences, ['tags: +Name', "duplicates: nat-2 also carry this resource's owner tag"]);
  });

  test('deleting: resolves nothing; a gone gateway whose address is still allocated still exists', async () => {
    const refSpec: NATGatewaySpec = { ...spec, subnetID: undefined, subnetRef: { name: 'gone' } };
    const context = stubContext(
      { DescribeNatGatewaysCommand: { NatGateways: [gateway({ State: 'deleted' })] }, DescribeAddressesCommand: { Addresses: [ourAddress] } },
      { ...options, deleting: true },
    );
    const observed = await natGatewayHandler.observe(context, refSpec);
    assert.equal(observed.exists, true);
    assert.equal(observed.state, 'releasing-address');
    const deletingGateway = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [gateway({ State: 'deleting' })] } }, { ...options, deleting: true });
    const whileDeleting = await natGatewayHandler.observe(deletingGateway, refSpec);
    assert.equal(whileDeleting.state, 'deleting');
    assert.deepEqual(deletingGateway.commandNames(), ['DescribeNatGatewaysCommand']);
    const allGone = stubContext(
      { DescribeNatGatewaysCommand: { NatGateways: [] }, DescribeAddressesCommand: { Addresses: [] } },
      { ...options, deleting: true },
    );
    assert.equal((await natGatewayHandler.observe(allGone, refSpec)).exists, false);
  });
});

describe('by recorded ID (context.awsID)', () => {
  const byID = { ...options, awsID: 'nat-1' };
  const idsOnly = (inputs: CommandInput[]) => inputs.every((input) => input.Filter === undefined);

  test('observe describes by ID and makes no tag lookup', async () => {
    const context = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [gateway()] } }, byID);
    const observed = await natGatewayHandler.observe(context, spec);
    assert.deepEqual(context.callsTo('DescribeNatGatewaysCommand'), [{ NatGatewayIds: ['nat-1'] }]);
    assert.equal(observed.id, 'nat-1');
    assert.equal(observed.upToDate, true);
  });

  test('gone (NotFound, or listed as deleted): exists:false, with no fallback to the tags', async () => {
    for (const answer of [awsError('NatGatewayNotFound'), { NatGateways: [gateway({ State: 'deleted' })] }]) {
      const context = stubContext({ DescribeNatGatewaysCommand: answer }, byID);
      assert.equal((await natGatewayHandler.observe(context, spec)).exists, false);
      assert.deepEqual(context.callsTo('DescribeNatGatewaysCommand'), [{ NatGatewayIds: ['nat-1'] }]);
    }
  });

  test('its owner tag removed by hand: unmanaged, with its ID; update writes the owner and cluster tags back', async () => {
    const context = stubContext(
      { DescribeNatGatewaysCommand: { NatGateways: [gateway({ Tags: tagList({ Name: 'nat-1a' }) })] }, CreateTagsCommand: {} },
      byID,
    );
    const observed = await natGatewayHandler.observe(context, spec);
    assert.equal(observed.unmanaged, true);
    assert.equal(observed.id, 'nat-1');
    await natGatewayHandler.update(context, spec, observed);
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['nat-1'], Tags: tagList(OURS) }]);
    assert.ok(idsOnly(context.callsTo('DescribeNatGatewaysCommand')), 'no tag lookup');
  });

  test('create when the recorded gateway is live: nothing is created', async () => {
    const context = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [gateway({ State: 'pending' })] } }, byID);
    await natGatewayHandler.create(context, spec);
    assert.deepEqual(context.commandNames(), ['DescribeNatGatewaysCommand']);
  });

  test('create when the recorded gateway is gone: a token naming it, so a retry gets the same new gateway', async () => {
    const context = stubContext(
      {
        DescribeNatGatewaysCommand: awsError('NatGatewayNotFound'),
        DescribeAddressesCommand: { Addresses: [ourAddress] },
        CreateNatGatewayCommand: { NatGateway: gateway({ NatGatewayId: 'nat-2', State: 'pending' }) },
      },
      byID,
    );
    await natGatewayHandler.create(context, spec);
    assert.equal(context.callsTo('CreateNatGatewayCommand')[0]?.ClientToken, 'uid-1-nat-1');
    assert.equal(context.callsTo('CreateNatGatewayCommand')[0]?.AllocationId, 'eipalloc-1', 'its own address, found by its tags');
    assert.ok(idsOnly(context.callsTo('DescribeNatGatewaysCommand')), 'no tag lookup of gateways');
  });

  test('delete deletes the recorded gateway; once it is gone, the address it allocated is found by its tags and released', async () => {
    const context = stubContext(
      {
        DescribeNatGatewaysCommand: sequence({ NatGateways: [gateway()] }, { NatGateways: [gateway({ State: 'deleted' })] }),
        DeleteNatGatewayCommand: {},
        DescribeAddressesCommand: { Addresses: [ourAddress] },
        ReleaseAddressCommand: {},
      },
      { ...byID, deleting: true },
    );
    assert.equal(await natGatewayHandler.delete(context, spec), 'Deleting');
    assert.deepEqual(context.callsTo('DeleteNatGatewayCommand'), [{ NatGatewayId: 'nat-1' }]);
    assert.equal(await natGatewayHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('ReleaseAddressCommand'), [{ AllocationId: 'eipalloc-1' }]);
    assert.ok(idsOnly(context.callsTo('DescribeNatGatewaysCommand')), 'no tag lookup of gateways');
  });
});

describe('create', () => {
  const accept: Record<string, StubResponse> = {
    DescribeNatGatewaysCommand: { NatGateways: [] },
    DescribeAddressesCommand: { Addresses: [] },
    AllocateAddressCommand: { AllocationId: 'eipalloc-new', PublicIp: '5.6.7.8' },
    CreateNatGatewayCommand: { NatGateway: gateway({ State: 'pending' }) },
  };

  test('public without an address: allocates one tagged with our owner tag, then creates with token and tags', async () => {
    const context = stubContext(accept, options);
    await natGatewayHandler.create(context, spec);
    assert.deepEqual(context.callsTo('AllocateAddressCommand'), [
      { Domain: 'vpc', TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: tagList(TAGS) }] },
    ]);
    assert.deepEqual(context.callsTo('CreateNatGatewayCommand'), [
      {
        SubnetId: 'subnet-1',
        ConnectivityType: 'public',
        AllocationId: 'eipalloc-new',
        ClientToken: 'uid-1',
        TagSpecifications: [{ ResourceType: 'natgateway', Tags: tagList(TAGS) }],
      },
    ]);
  });

  test('a retry reuses the address an earlier attempt allocated', async () => {
    const context = stubContext({ ...accept, DescribeAddressesCommand: { Addresses: [ourAddress] } }, options);
    await natGatewayHandler.create(context, spec);
    assert.equal(context.callsTo('AllocateAddressCommand').length, 0);
    assert.equal(context.callsTo('CreateNatGatewayCommand')[0]?.AllocationId, 'eipalloc-1');
  });

  test('a re-create after our gateway was deleted frees the address the dead gateway left associated, then uses it', async () => {
    const stale = { ...ourAddress, AssociationId: 'eipassoc-dead' };
    const context = stubContext(
      {
        ...accept,
        DescribeNatGatewaysCommand: { NatGateways: [gateway({ State: 'deleted' })] },
        DescribeAddressesCommand: { Addresses: [stale] },
        DisassociateAddressCommand: {},
      },
      options,
    );
    await natGatewayHandler.create(context, spec);
    assert.deepEqual(context.callsTo('DisassociateAddressCommand'), [{ AssociationId: 'eipassoc-dead' }]);
    assert.equal(context.callsTo('AllocateAddressCommand').length, 0);
    assert.equal(context.callsTo('CreateNatGatewayCommand')[0]?.AllocationId, 'eipalloc-1');
  });

  test('after a crash: the gateway the first attempt made is found, nothing is created', async () => {
    const context = stubContext({ ...accept, DescribeNatGatewaysCommand: { NatGateways: [gateway({ State: 'pending' })] } }, options);
    await natGatewayHandler.create(context, spec);
    assert.deepEqual(context.commandNames(), ['DescribeNatGatewaysCommand']);
  });

  test('a re-create after our gateway was deleted uses a fresh token', async () => {
    const context = stubContext({ ...accept, DescribeNatGatewaysCommand: { NatGateways: [gateway({ State: 'deleted' })] } }, options);
    await natGatewayHandler.create(context, spec);
    assert.equal(context.callsTo('CreateNatGatewayCommand')[0]?.ClientToken, 'uid-1-nat-1');
  });

  test('a given allocationID is used as is; private gateways get no address', async () => {
    const given = stubContext(accept, options);
    await natGatewayHandler.create(given, { ...spec, allocationID: 'eipalloc-mine' });
    assert.equal(given.callsTo('CreateNatGatewayCommand')[0]?.AllocationId, 'eipalloc-mine');
    assert.equal(given.callsTo('AllocateAddressCommand').length, 0);
    const privateNat = stubContext(accept, options);
    await natGatewayHandler.create(privateNat, { ...spec, connectivityType: 'private' });
    const input = privateNat.callsTo('CreateNatGatewayCommand')[0];
    assert.equal(input?.ConnectivityType, 'private');
    assert.equal(input?.AllocationId, undefined);
    assert.deepEqual(privateNat.callsTo('DescribeAddressesCommand'), []);
  });

  test('subnetRef and allocationRef resolve to the Subnet and ElasticIP status IDs', async () => {
    const context = stubContext(accept, {
      ...options,
      resolved: { 'Subnet/default/public-1a': 'subnet-from-ref', 'ElasticIP/net/eip': 'eipalloc-from-ref' },
    });
    await natGatewayHandler.create(context, {
      providerRef: { name: 'aws' },
      subnetRef: { name: 'public-1a' },
      allocationRef: { name: 'eip', namespace: 'net' },
    });
    const input = context.callsTo('CreateNatGatewayCommand')[0];
    assert.equal(input?.SubnetId, 'subnet-from-ref');
    assert.equal(input?.AllocationId, 'eipalloc-from-ref');
    assert.equal(input?.ConnectivityType, 'public', 'public is the default');
  });

  test('a subnet that is not Ready: DependencyNotReady, and nothing is called', async () => {
    const context = stubContext(accept, options);
    await assert.rejects(natGatewayHandler.create(context, { providerRef: { name: 'aws' }, subnetRef: { name: 'later' } }), {
      type: 'DependencyNotReady',
    });
    assert.deepEqual(context.commandNames(), []);
  });
});

describe('update', () => {
  test('fixes tags only', async () => {
    const context = stubContext(
      {
        DescribeNatGatewaysCommand: { NatGateways: [gateway({ Tags: tagList({ ...OURS, Extra: 'x' }) })] },
        CreateTagsCommand: {},
        DeleteTagsCommand: {},
      },
      options,
    );
    const observed = await natGatewayHandler.observe(context, spec);
    assert.deepEqual(observed.differences, ['tags: +Name, -Extra']);
    await natGatewayHandler.update(context, spec, observed);
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['nat-1'], Tags: [{ Key: 'Name', Value: 'nat-1a' }] }]);
    assert.deepEqual(context.callsTo('DeleteTagsCommand'), [{ Resources: ['nat-1'], Tags: [{ Key: 'Extra' }] }]);
  });

  test('a failed gateway is a terminal error carrying AWS reason', async () => {
    const failed = gateway({ State: 'failed', FailureCode: 'Gateway.NotAttached', FailureMessage: 'no internet gateway' });
    const context = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [failed] } }, options);
    const error = await natGatewayHandler.update(context, spec, await natGatewayHandler.observe(context, spec)).then(
      () => assert.fail('update should fail'),
      (e: unknown) => e as Error,
    );
    assert.equal(error.name, NAT_GATEWAY_FAILED);
    assert.match(error.message, /Gateway.NotAttached: no internet gateway/);
    assert.equal(classifyAwsError(error, natGatewayHandler.errorCodes), ErrorClass.Terminal);
  });
});

describe('delete', () => {
  test('deletes the gateway and waits; the address is not released yet', async () => {
    const context = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [gateway()] }, DeleteNatGatewayCommand: {} }, options);
    assert.equal(await natGatewayHandler.delete(context, spec), 'Deleting');
    assert.deepEqual(context.callsTo('DeleteNatGatewayCommand'), [{ NatGatewayId: 'nat-1' }]);
    assert.ok(!context.commandNames().includes('ReleaseAddressCommand'));
  });

  test('while AWS is deleting: Deleting, no second delete call', async () => {
    const context = stubContext({ DescribeNatGatewaysCommand: { NatGateways: [gateway({ State: 'deleting' })] } }, options);
    assert.equal(await natGatewayHandler.delete(context, spec), 'Deleting');
    assert.deepEqual(context.commandNames(), ['DescribeNatGatewaysCommand']);
  });

  test('once the gateway is deleted: releases the address it allocated, then Deleted', async () => {
    const context = stubContext(
      {
        DescribeNatGatewaysCommand: { NatGateways: [gateway({ State: 'deleted' })] },
        DescribeAddressesCommand: {
          Addresses: [
            ourAddress,
            { AllocationId: 'eipalloc-user', Tags: tagList({ ...OURS, [OWNER_TAG]: 'ElasticIP/default/x' }) },
            { AllocationId: 'eipalloc-elsewhere', Tags: tagList({ ...OURS, [CLUSTER_TAG]: 'other-cluster' }) },
          ],
        },
        ReleaseAddressCommand: {},
      },
      options,
    );
    assert.equal(await natGatewayHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('ReleaseAddressCommand'), [{ AllocationId: 'eipalloc-1' }], 'never an address another resource or cluster owns');
  });

  test('an address still held by the releasing gateway: Deleting', async () => {
    for (const code of ['AuthFailure', 'InvalidIPAddress.InUse']) {
      const context = stubContext(
        {
          DescribeNatGatewaysCommand: { NatGateways: [] },
          DescribeAddressesCommand: { Addresses: [ourAddress] },
          ReleaseAddressCommand: awsError(code),
        },
        options,
      );
      assert.equal(await natGatewayHandler.delete(context, spec), 'Deleting', code);
    }
  });

  test('nothing left: Deleted; an address released meanwhile is fine', async () => {
    const context = stubContext(
      {
        DescribeNatGatewaysCommand: { NatGateways: [] },
        DescribeAddressesCommand: { Addresses: [ourAddress] },
        ReleaseAddressCommand: awsError('InvalidAllocationID.NotFound'),
      },
      options,
    );
    assert.equal(await natGatewayHandler.delete(context, spec), 'Deleted');
  });

  test('delete after release, then a full cycle of observe answers', async () => {
    // Deleting → deleting → gone with address → released → gone.
    const context = stubContext(
      {
        DescribeNatGatewaysCommand: sequence(
          { NatGateways: [gateway()] },
          { NatGateways: [gateway({ State: 'deleting' })] },
          { NatGateways: [gateway({ State: 'deleted' })] },
        ),
        DescribeAddressesCommand: sequence({ Addresses: [ourAddress] }, { Addresses: [ourAddress] }, { Addresses: [] }),
        DeleteNatGatewayCommand: {},
        ReleaseAddressCommand: {},
      },
      { ...options, deleting: true },
    );
    assert.equal(await natGatewayHandler.delete(context, spec), 'Deleting');
    assert.equal((await natGatewayHandler.observe(context, spec)).state, 'deleting');
    assert.equal((await natGatewayHandler.observe(context, spec)).state, 'releasing-address');
    assert.equal(await natGatewayHandler.delete(context, spec), 'Deleted');
    assert.equal((await natGatewayHandler.observe(context, spec)).exists, false);
  });
});

test('NAT gateway states map onto the one lifecycle the workflow knows', () => {
  assert.deepEqual(lifecycleOf('deleting'), { lifecycle: 'Deleting' });
  assert.deepEqual(lifecycleOf('pending'), { lifecycle: 'Pending' });
  assert.deepEqual(lifecycleOf('available'), { lifecycle: 'Available' });
  assert.deepEqual(lifecycleOf('failed'), { lifecycle: 'Failed' });
  assert.deepEqual(lifecycleOf('deleted'), {});
});
