import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import type { Address } from '@aws-sdk/client-ec2';
import { customResourceDefinition } from '../../../crds/crd.js';
import { ElasticIPKind, type ElasticIPSpec } from '../../../crds/kinds/elastic-ip.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { ErrorClass, classifyAwsError } from '../errors.js';
import { TEST_CLUSTER_ID, awsError, sequence, stubContext, type CommandInput, type StubResponse } from '../testing.js';
import { addressStatus, compareAddress, elasticIpHandler, observedAddress, releaseInput } from './elastic-ip.js';
import { formatDifference } from '../difference.js';

const OWNER = 'ElasticIP/default/nat-eip';
const OURS = { [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID };
const TAGS = { Name: 'nat', ...OURS };
const resource = { kind: 'ElasticIP', namespace: 'default', name: 'nat-eip', uid: 'uid-1' };
const options = { resource, tags: TAGS };
const deleting = { ...options, deleting: true };

const spec: ElasticIPSpec = { providerRef: { name: 'aws' }, domain: 'vpc', tags: { Name: 'nat' } };

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

function address(AllocationId = 'eipalloc-1', overrides: Partial<Address> = {}): Address {
  return {
    AllocationId,
    PublicIp: '203.0.113.10',
    Domain: 'vpc',
    NetworkBorderGroup: 'us-east-1',
    PublicIpv4Pool: 'amazon',
    Tags: tagList(TAGS),
    ...overrides,
  };
}

const WRITES = ['AllocateAddressCommand', 'ReleaseAddressCommand', 'CreateTagsCommand', 'DeleteTagsCommand'];
const writesOf = (names: string[]) => names.filter((name) => WRITES.includes(name));
const acceptWrites = (): Record<string, StubResponse> => Object.fromEntries(WRITES.map((name) => [name, {}]));

describe('schema', () => {
  test('domain defaults to vpc; domain, networkBorderGroup and publicIpv4Pool are immutable', () => {
    assert.ok(Value.Check(ElasticIPKind.spec, { providerRef: { name: 'aws' } }));
    assert.ok(Value.Check(ElasticIPKind.spec, { ...spec, networkBorderGroup: 'us-east-1-bos-1', deletionPolicy: 'Retain' }));
    assert.equal(Value.Check(ElasticIPKind.spec, { ...spec, domain: 'classic' }), false);
    assert.equal(Value.Default(ElasticIPKind.spec.properties.domain, undefined), 'vpc');
    const crd = JSON.stringify(customResourceDefinition(ElasticIPKind));
    for (const field of ['domain', 'networkBorderGroup', 'publicIpv4Pool']) {
      assert.ok(crd.includes(`"rule":"self == oldSelf","message":"${field} is immutable`), field);
    }
    assert.deepEqual(ElasticIPKind.shortNames, ['eip']);
  });
});

describe('mapping and comparison', () => {
  test('status: associationID is empty when not associated', () => {
    assert.deepEqual(addressStatus(observedAddress(address())), {
      allocationID: 'eipalloc-1',
      publicIP: '203.0.113.10',
      associationID: '',
    });
    assert.equal(addressStatus(observedAddress(address('eipalloc-1', { AssociationId: 'eipassoc-1' }))).associationID, 'eipassoc-1');
  });

  test('immutable fields compared only when the spec sets them and EC2 reports them', () => {
    const observed = observedAddress(address());
    assert.deepEqual(compareAddress({ providerRef: { name: 'aws' } }, observed, TAGS), []);
    assert.deepEqual(
      compareAddress({ ...spec, domain: 'standard', networkBorderGroup: 'us-west-2', publicIpv4Pool: 'ipv4pool-ec2-1' }, observed, TAGS).map(
        formatDifference,
      ),
      [
        'domain: vpc -> standard (immutable: create a new resource to change it)',
        'networkBorderGroup: us-east-1 -> us-west-2 (immutable: create a new resource to change it)',
        'publicIpv4Pool: amazon -> ipv4pool-ec2-1 (immutable: create a new resource to change it)',
      ],
    );
    // moto reports neither field: nothing to compare against.
    const bare = observedAddress(address('eipalloc-1', { NetworkBorderGroup: undefined, PublicIpv4Pool: undefined }));
    assert.deepEqual(compareAddress({ ...spec, networkBorderGroup: 'us-east-1' }, bare, TAGS), []);
  });

  test('release by allocation ID with its border group; an EC2-Classic address by IP', () => {
    assert.deepEqual(releaseInput(observedAddress(address())), { AllocationId: 'eipalloc-1', NetworkBorderGroup: 'us-east-1' });
    assert.deepEqual(releaseInput(observedAddress(address('eipalloc-1', { NetworkBorderGroup: undefined }))), { AllocationId: 'eipalloc-1' });
    assert.deepEqual(releaseInput(observedAddress(address('', { Domain: 'standard', AllocationId: undefined }))), {
      PublicIp: '203.0.113.10',
    });
  });
});

describe('observe', () => {
  test('no address with the owner and cluster tags is exists:false', async () => {
    const context = stubContext({ DescribeAddressesCommand: { Addresses: [] } }, options);
    assert.equal((await elasticIpHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.callsTo('DescribeAddressesCommand'), [
      {
        Filters: [
          { Name: `tag:${OWNER_TAG}`, Values: [OWNER] },
          { Name: `tag:${CLUSTER_TAG}`, Values: [TEST_CLUSTER_ID] },
        ],
      },
    ]);
  });

  test('an allocated address is ready and up to date, with its status fields', async () => {
    const context = stubContext({ DescribeAddressesCommand: { Addresses: [address('eipalloc-1', { AssociationId: 'eipassoc-1' })] } }, options);
    const observed = await elasticIpHandler.observe(context, spec);
    assert.equal(observed.upToDate, true);
    assert.equal(observed.ready, true);
    assert.deepEqual(observed.status, { allocationID: 'eipalloc-1', publicIP: '203.0.113.10', associationID: 'eipassoc-1' });
    assert.equal(observed.id, 'eipalloc-1');
    assert.equal(observed.unmanaged, undefined);
  });

  test('tag differences, and duplicates by lowest allocation ID', async () => {
    const context = stubContext(
      {
        DescribeAddressesCommand: {
          Addresses: [address('eipalloc-2'), address('eipalloc-1', { Tags: tagList({ ...OURS, Name: 'old' }) })],
        },
      },
      options,
    );
    const observed = await elasticIpHandler.observe(context, spec);
    assert.equal(observed.status.allocationID, 'eipalloc-1');
    assert.deepEqual(observed.differences, ['tags: ~Name', "duplicates: eipalloc-2 also carry this resource's owner tag"]);
  });

  test('while deleting: nothing is compared', async () => {
    const context = stubContext({ DescribeAddressesCommand: { Addresses: [address('eipalloc-1', { Domain: 'standard' })] } }, deleting);
    const observed = await elasticIpHandler.observe(context, spec);
    assert.equal(observed.exists, true);
    assert.deepEqual(observed.differences, []);
  });
});

describe('by recorded ID (context.awsID)', () => {
  const byID = { ...options, awsID: 'eipalloc-1' };

  test('observe describes by allocation ID and makes no tag lookup', async () => {
    const context = stubContext({ DescribeAddressesCommand: { Addresses: [address()] } }, byID);
    const observed = await elasticIpHandler.observe(context, spec);
    assert.deepEqual(context.callsTo('DescribeAddressesCommand'), [{ AllocationIds: ['eipalloc-1'] }]);
    assert.equal(observed.id, 'eipalloc-1');
    assert.equal(observed.upToDate, true);
  });

  test('an EC2-Classic address, recorded by its IP, is described by IP', async () => {
    const context = stubContext(
      { DescribeAddressesCommand: { Addresses: [address('', { AllocationId: undefined, Domain: 'standard' })] } },
      { ...byID, awsID: '203.0.113.10', deleting: true },
    );
    const observed = await elasticIpHandler.observe(context, spec);
    assert.deepEqual(context.callsTo('DescribeAddressesCommand'), [{ PublicIps: ['203.0.113.10'] }]);
    assert.equal(observed.id, '203.0.113.10');
  });

  test('gone (NotFound): exists:false, with no fallback to the tags', async () => {
    const context = stubContext({ DescribeAddressesCommand: awsError('InvalidAllocationID.NotFound') }, byID);
    assert.equal((await elasticIpHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.callsTo('DescribeAddressesCommand'), [{ AllocationIds: ['eipalloc-1'] }]);
  });

  test('its owner tag removed by hand: unmanaged, with its ID; update writes the owner and cluster tags back', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeAddressesCommand: { Addresses: [address('eipalloc-1', { Tags: tagList({ Name: 'nat' }) })] } },
      byID,
    );
    const observed = await elasticIpHandler.observe(context, spec);
    assert.equal(observed.unmanaged, true);
    assert.equal(observed.id, 'eipalloc-1');
    await elasticIpHandler.update(context, spec, observed);
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['eipalloc-1'], Tags: tagList(OURS) }]);
    assert.ok(context.callsTo('DescribeAddressesCommand').every((input) => input.Filters === undefined), 'no tag lookup');
  });

  test('AuthFailure on release: the fresh look is by ID too', async () => {
    const context = stubContext(
      {
        DescribeAddressesCommand: sequence({ Addresses: [address()] }, awsError('InvalidAllocationID.NotFound')),
        ReleaseAddressCommand: awsError('AuthFailure'),
      },
      { ...byID, deleting: true },
    );
    assert.equal(await elasticIpHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DescribeAddressesCommand'), [{ AllocationIds: ['eipalloc-1'] }, { AllocationIds: ['eipalloc-1'] }]);
  });
});

describe('create', () => {
  test('allocates with the tags in the same call (no client token exists)', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeAddressesCommand: sequence({ Addresses: [] }, { Addresses: [address()] }),
        AllocateAddressCommand: { AllocationId: 'eipalloc-1', PublicIp: '203.0.113.10' },
      },
      options,
    );
    await elasticIpHandler.create(context, { ...spec, networkBorderGroup: 'us-east-1', publicIpv4Pool: 'amazon' });
    assert.deepEqual(context.callsTo('AllocateAddressCommand'), [
      {
        Domain: 'vpc',
        NetworkBorderGroup: 'us-east-1',
        PublicIpv4Pool: 'amazon',
        TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: tagList(TAGS) }],
      },
    ]);
    assert.deepEqual(writesOf(context.commandNames()), ['AllocateAddressCommand']);
  });

  test('domain defaults to vpc when the spec omits it', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeAddressesCommand: sequence({ Addresses: [] }, { Addresses: [address()] }) },
      options,
    );
    await elasticIpHandler.create(context, { providerRef: { name: 'aws' } });
    assert.equal(context.callsTo('AllocateAddressCommand')[0]?.Domain, 'vpc');
  });

  test('a retry after a crash finds the address by its owner tag and allocates nothing', async () => {
    const context = stubContext({ ...acceptWrites(), DescribeAddressesCommand: { Addresses: [address()] } }, options);
    await elasticIpHandler.create(context, spec);
    assert.deepEqual(writesOf(context.commandNames()), []);
  });

  test('the address limit is terminal, not retried in a storm', async () => {
    const context = stubContext(
      { DescribeAddressesCommand: { Addresses: [] }, AllocateAddressCommand: awsError('AddressLimitExceeded') },
      options,
    );
    const error = await elasticIpHandler.create(context, spec).then(
      () => assert.fail('create should fail'),
      (e: unknown) => e,
    );
    assert.equal(classifyAwsError(error, elasticIpHandler.errorCodes), ErrorClass.Terminal);
  });
});

describe('update', () => {
  test('fixes tags only', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeAddressesCommand: { Addresses: [address('eipalloc-1', { Tags: tagList({ ...OURS, Extra: 'x' }) })] } },
      options,
    );
    await elasticIpHandler.update(context, spec, await elasticIpHandler.observe(context, spec));
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['eipalloc-1'], Tags: [{ Key: 'Name', Value: 'nat' }] }]);
    assert.deepEqual(context.callsTo('DeleteTagsCommand'), [{ Resources: ['eipalloc-1'], Tags: [{ Key: 'Extra' }] }]);
    assert.equal(context.callsTo('ReleaseAddressCommand').length, 0);
  });

  test('an immutable difference fails terminally', async () => {
    const context = stubContext({ ...acceptWrites(), DescribeAddressesCommand: { Addresses: [address()] } }, options);
    const changed = { ...spec, networkBorderGroup: 'us-west-2' };
    const error = await elasticIpHandler.update(context, changed, await elasticIpHandler.observe(context, changed)).then(
      () => assert.fail('update should fail'),
      (e: unknown) => e,
    );
    assert.equal(classifyAwsError(error, elasticIpHandler.errorCodes), ErrorClass.Terminal);
  });

  test('duplicates are released; one still in use stays', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeAddressesCommand: { Addresses: [address('eipalloc-1'), address('eipalloc-2'), address('eipalloc-3')] },
        ReleaseAddressCommand: (input: CommandInput) => {
          if (input.AllocationId === 'eipalloc-3') throw awsError('InvalidIPAddress.InUse');
          return {};
        },
      },
      options,
    );
    await elasticIpHandler.update(context, spec, await elasticIpHandler.observe(context, spec));
    assert.deepEqual(context.callsTo('ReleaseAddressCommand').map((input) => input.AllocationId), ['eipalloc-2', 'eipalloc-3']);
  });
});

describe('delete', () => {
  test('releases the address found by its owner tag', async () => {
    const context = stubContext({ DescribeAddressesCommand: { Addresses: [address()] }, ReleaseAddressCommand: {} }, deleting);
    assert.equal(await elasticIpHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('ReleaseAddressCommand'), [{ AllocationId: 'eipalloc-1', NetworkBorderGroup: 'us-east-1' }]);
  });

  test('still associated (InvalidIPAddress.InUse): Deleting, and it never disassociates', async () => {
    const context = stubContext(
      {
        DescribeAddressesCommand: { Addresses: [address('eipalloc-1', { AssociationId: 'eipassoc-1' })] },
        ReleaseAddressCommand: awsError('InvalidIPAddress.InUse'),
      },
      deleting,
    );
    assert.equal(await elasticIpHandler.delete(context, spec), 'Deleting');
    assert.ok(!context.commandNames().includes('DisassociateAddressCommand'));
  });

  test('AuthFailure while a NAT gateway holds it: Deleting, because the address is still there', async () => {
    const context = stubContext(
      {
        DescribeAddressesCommand: { Addresses: [address('eipalloc-1', { AssociationId: 'eipassoc-1' })] },
        ReleaseAddressCommand: awsError('AuthFailure'),
      },
      deleting,
    );
    assert.equal(await elasticIpHandler.delete(context, spec), 'Deleting');
    assert.equal(context.callsTo('DescribeAddressesCommand').length, 2, 'looks again before deciding');
  });

  test('AuthFailure for an address released already (now another account\'s): Deleted', async () => {
    const context = stubContext(
      {
        DescribeAddressesCommand: sequence({ Addresses: [address()] }, { Addresses: [] }),
        ReleaseAddressCommand: awsError('AuthFailure'),
      },
      deleting,
    );
    assert.equal(await elasticIpHandler.delete(context, spec), 'Deleted');
  });

  test('gone already: Deleted', async () => {
    const none = stubContext({ DescribeAddressesCommand: { Addresses: [] } }, deleting);
    assert.equal(await elasticIpHandler.delete(none, spec), 'Deleted');
    assert.deepEqual(none.commandNames(), ['DescribeAddressesCommand']);
    const gone = stubContext(
      { DescribeAddressesCommand: { Addresses: [address()] }, ReleaseAddressCommand: awsError('InvalidAllocationID.NotFound') },
      deleting,
    );
    assert.equal(await elasticIpHandler.delete(gone, spec), 'Deleted');
  });

  test('other errors are thrown', async () => {
    const context = stubContext(
      { DescribeAddressesCommand: { Addresses: [address()] }, ReleaseAddressCommand: awsError('UnauthorizedOperation', { status: 403 }) },
      deleting,
    );
    await assert.rejects(elasticIpHandler.delete(context, spec), { name: 'UnauthorizedOperation' });
  });
});
