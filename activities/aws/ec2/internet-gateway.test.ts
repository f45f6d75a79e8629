import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import type { InternetGateway } from '@aws-sdk/client-ec2';
import { InternetGatewayKind, type InternetGatewaySpec } from '../../../crds/kinds/internet-gateway.js';
import { FailureType } from '../../../contract/failures.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { TEST_CLUSTER_ID, awsError, sequence, stubContext, type CommandInput, type StubResponse } from '../testing.js';
import {
  attachmentState,
  compareGateway,
  gatewayReady,
  gatewayStatus,
  internetGatewayHandler,
  observedGateway,
} from './internet-gateway.js';
import { formatDifference } from '../difference.js';

const OWNER = 'InternetGateway/default/app-igw';
const OURS = { [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID };
const TAGS = { Name: 'igw', ...OURS };
const resource = { kind: 'InternetGateway', namespace: 'default', name: 'app-igw', uid: 'uid-1' };
const options = { resource, tags: TAGS, resolved: { 'VPC/default/app-vpc': 'vpc-1' } };
const deleting = { ...options, resolved: {}, deleting: true };

const spec: InternetGatewaySpec = { providerRef: { name: 'aws' }, vpcRef: { name: 'app-vpc' }, tags: { Name: 'igw' } };

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** A gateway attached to the given VPCs. EC2 reports an attachment as `available`, which the SDK's type lacks: hence the cast. */
function gateway(InternetGatewayId = 'igw-1', vpcs: string[] = ['vpc-1'], overrides: Partial<InternetGateway> = {}): InternetGateway {
  return {
    InternetGatewayId,
    Attachments: vpcs.map((VpcId) => ({ VpcId, State: 'available' as const })),
    Tags: tagList(TAGS),
    ...overrides,
  } as InternetGateway;
}

const WRITES = [
  'CreateInternetGatewayCommand',
  'AttachInternetGatewayCommand',
  'DetachInternetGatewayCommand',
  'DeleteInternetGatewayCommand',
  'CreateTagsCommand',
  'DeleteTagsCommand',
];
const writesOf = (names: string[]) => names.filter((name) => WRITES.includes(name));
const acceptWrites = (): Record<string, StubResponse> => Object.fromEntries(WRITES.map((name) => [name, {}]));

describe('schema', () => {
  test("the guide's manifest validates; exactly one of vpcID and vpcRef; vpcID may change", () => {
    const guide = {
      providerRef: { name: 'production-aws' },
      vpcID: 'vpc-f3ea9b1b36fce09cd',
      tags: { Name: 'production-internet-gateway', Environment: 'production' },
      deletionPolicy: 'Delete',
    };
    assert.ok(Value.Check(InternetGatewayKind.spec, guide));
    assert.ok(Value.Check(InternetGatewayKind.spec, { ...guide, vpcID: 'vpc-xxx' }));
    assert.equal(Value.Check(InternetGatewayKind.spec, { ...guide, vpcID: 'igw-1' }), false);
    assert.deepEqual(InternetGatewayKind.specRules, [{ rule: 'has(self.vpcID) != has(self.vpcRef)', message: 'set exactly one of vpcID or vpcRef' }]);
    assert.deepEqual(InternetGatewayKind.shortNames, ['igw']);
    assert.deepEqual(InternetGatewayKind.references(spec, 'default'), [
      { kind: 'AWSProvider', namespace: 'default', name: 'aws' },
      { kind: 'VPC', namespace: 'default', name: 'app-vpc' },
    ]);
  });
});

describe('mapping and comparison', () => {
  test('EC2 reports an attached gateway as "available": it reads as attached', () => {
    assert.equal(attachmentState('available'), 'attached');
    assert.equal(attachmentState('attached'), 'attached');
    assert.equal(attachmentState('attaching'), 'attaching');
    assert.equal(attachmentState(undefined), 'detached');
  });

  test('ready only when attached to the desired VPC', () => {
    assert.equal(gatewayReady(observedGateway(gateway('igw-1', ['vpc-1'])), 'vpc-1'), true);
    assert.equal(gatewayReady(observedGateway(gateway('igw-1', ['vpc-2'])), 'vpc-1'), false);
    assert.equal(gatewayReady(observedGateway(gateway('igw-1', [])), 'vpc-1'), false);
    const attaching = observedGateway(gateway('igw-1', [], { Attachments: [{ VpcId: 'vpc-1', State: 'attaching' }] }));
    assert.equal(gatewayReady(attaching, 'vpc-1'), false);
  });

  test('attachment differences: none, elsewhere, and in sync', () => {
    const compare = (vpcs: string[]) => compareGateway('vpc-1', observedGateway(gateway('igw-1', vpcs)), TAGS).map(formatDifference);
    assert.deepEqual(compare(['vpc-1']), []);
    assert.deepEqual(compare([]), ['vpcID: none -> vpc-1']);
    assert.deepEqual(compare(['vpc-2']), ['vpcID: vpc-2 -> vpc-1']);
    assert.deepEqual(compare(['vpc-1', 'vpc-2']), ['vpcID: vpc-1, vpc-2 -> vpc-1']);
  });

  test('status: vpcID is empty while detached so an old value does not linger', () => {
    assert.deepEqual(gatewayStatus(observedGateway(gateway('igw-1', []))), { internetGatewayID: 'igw-1', vpcID: '', state: 'detached' });
    assert.deepEqual(gatewayStatus(observedGateway(gateway('igw-1', ['vpc-2', 'vpc-1'])), 'vpc-1'), {
      internetGatewayID: 'igw-1',
      vpcID: 'vpc-1',
      state: 'attached',
    });
  });
});

describe('observe', () => {
  test('no gateway with the owner and cluster tags is exists:false', async () => {
    const context = stubContext({ DescribeInternetGatewaysCommand: { InternetGateways: [] } }, options);
    assert.equal((await internetGatewayHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.callsTo('DescribeInternetGatewaysCommand'), [
      {
        Filters: [
          { Name: `tag:${OWNER_TAG}`, Values: [OWNER] },
          { Name: `tag:${CLUSTER_TAG}`, Values: [TEST_CLUSTER_ID] },
        ],
      },
    ]);
  });

  test('attached to the resolved VPC: up to date, ready, state attached', async () => {
    const context = stubContext({ DescribeInternetGatewaysCommand: { InternetGateways: [gateway()] } }, options);
    const observed = await internetGatewayHandler.observe(context, spec);
    assert.equal(observed.upToDate, true);
    assert.equal(observed.ready, true);
    assert.equal(observed.state, 'attached');
    assert.deepEqual(observed.status, { internetGatewayID: 'igw-1', vpcID: 'vpc-1', state: 'attached' });
    assert.equal(observed.id, 'igw-1');
    assert.equal(observed.unmanaged, undefined);
  });

  test('attached to another VPC: not ready, and the move is the difference', async () => {
    const context = stubContext({ DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-1', ['vpc-2'])] } }, options);
    const observed = await internetGatewayHandler.observe(context, spec);
    assert.equal(observed.ready, false);
    assert.deepEqual(observed.differences, ['vpcID: vpc-2 -> vpc-1']);
  });

  test('a raw vpcID is used as given', async () => {
    const context = stubContext({ DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-1', ['vpc-7'])] } }, { ...options, resolved: {} });
    const observed = await internetGatewayHandler.observe(context, { ...spec, vpcRef: undefined, vpcID: 'vpc-7' });
    assert.equal(observed.ready, true);
  });

  test('the VPC not Ready yet: DependencyNotReady before any AWS call', async () => {
    const context = stubContext({}, { ...options, resolved: {} });
    await assert.rejects(internetGatewayHandler.observe(context, spec), { type: FailureType.DependencyNotReady });
    assert.deepEqual(context.commandNames(), []);
  });

  test('while deleting: nothing is resolved or compared', async () => {
    const context = stubContext({ DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-1', ['vpc-2'])] } }, deleting);
    const observed = await internetGatewayHandler.observe(context, spec);
    assert.equal(observed.exists, true);
    assert.equal(observed.state, 'attached');
    assert.deepEqual(observed.differences, []);
  });
});

describe('by recorded ID (context.awsID)', () => {
  const byID = { ...options, awsID: 'igw-1' };

  test('observe describes by ID and makes no tag lookup', async () => {
    const context = stubContext({ DescribeInternetGatewaysCommand: { InternetGateways: [gateway()] } }, byID);
    const observed = await internetGatewayHandler.observe(context, spec);
    assert.deepEqual(context.callsTo('DescribeInternetGatewaysCommand'), [{ InternetGatewayIds: ['igw-1'] }]);
    assert.equal(observed.id, 'igw-1');
    assert.equal(observed.upToDate, true);
  });

  test('gone (NotFound): exists:false, with no fallback to the tags', async () => {
    const context = stubContext({ DescribeInternetGatewaysCommand: awsError('InvalidInternetGatewayID.NotFound') }, byID);
    assert.equal((await internetGatewayHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.callsTo('DescribeInternetGatewaysCommand'), [{ InternetGatewayIds: ['igw-1'] }]);
  });

  test('its owner tag removed by hand: unmanaged, with its ID; update writes the owner and cluster tags back', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-1', ['vpc-1'], { Tags: tagList({ Name: 'igw' }) })] },
      },
      byID,
    );
    const observed = await internetGatewayHandler.observe(context, spec);
    assert.equal(observed.unmanaged, true);
    assert.equal(observed.id, 'igw-1');
    await internetGatewayHandler.update(context, spec, observed);
    assert.deepEqual(writesOf(context.commandNames()), ['CreateTagsCommand']);
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['igw-1'], Tags: tagList(OURS) }]);
    assert.ok(context.callsTo('DescribeInternetGatewaysCommand').every((input) => input.Filters === undefined), 'no tag lookup');
  });

  test('delete detaches and deletes the recorded gateway, found by ID', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeInternetGatewaysCommand: { InternetGateways: [gateway()] } },
      { ...byID, resolved: {}, deleting: true },
    );
    assert.equal(await internetGatewayHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DescribeInternetGatewaysCommand'), [{ InternetGatewayIds: ['igw-1'] }]);
    assert.deepEqual(writesOf(context.commandNames()), ['DetachInternetGatewayCommand', 'DeleteInternetGatewayCommand']);
  });
});

describe('create', () => {
  test('creates with the tags in the same call, then attaches to the resolved VPC', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeInternetGatewaysCommand: sequence({ InternetGateways: [] }, { InternetGateways: [gateway('igw-1', [])] }),
      },
      options,
    );
    await internetGatewayHandler.create(context, spec);
    assert.deepEqual(context.callsTo('CreateInternetGatewayCommand'), [
      { TagSpecifications: [{ ResourceType: 'internet-gateway', Tags: tagList(TAGS) }] },
    ]);
    assert.deepEqual(writesOf(context.commandNames()), ['CreateInternetGatewayCommand', 'AttachInternetGatewayCommand']);
    assert.deepEqual(context.callsTo('AttachInternetGatewayCommand'), [{ InternetGatewayId: 'igw-1', VpcId: 'vpc-1' }]);
  });

  test('a retry after a crash between create and attach finds the gateway and only attaches', async () => {
    const context = stubContext({ ...acceptWrites(), DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-1', [])] } }, options);
    await internetGatewayHandler.create(context, spec);
    assert.deepEqual(writesOf(context.commandNames()), ['AttachInternetGatewayCommand']);
  });

  test('the VPC not Ready: nothing is created', async () => {
    const context = stubContext({}, { ...options, resolved: {} });
    await assert.rejects(internetGatewayHandler.create(context, spec), { type: FailureType.DependencyNotReady });
    assert.deepEqual(context.commandNames(), []);
  });
});

describe('update', () => {
  test('attached elsewhere: detached from the wrong VPC, then attached to the right one', async () => {
    const context = stubContext({ ...acceptWrites(), DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-1', ['vpc-2'])] } }, options);
    await internetGatewayHandler.update(context, spec, await internetGatewayHandler.observe(context, spec));
    assert.deepEqual(writesOf(context.commandNames()), ['DetachInternetGatewayCommand', 'AttachInternetGatewayCommand']);
    assert.deepEqual(context.callsTo('DetachInternetGatewayCommand'), [{ InternetGatewayId: 'igw-1', VpcId: 'vpc-2' }]);
    assert.deepEqual(context.callsTo('AttachInternetGatewayCommand'), [{ InternetGatewayId: 'igw-1', VpcId: 'vpc-1' }]);
  });

  test('detached: only attached', async () => {
    const context = stubContext({ ...acceptWrites(), DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-1', [])] } }, options);
    await internetGatewayHandler.update(context, spec, await internetGatewayHandler.observe(context, spec));
    assert.deepEqual(writesOf(context.commandNames()), ['AttachInternetGatewayCommand']);
  });

  test('only the tags differ: only the tags are written', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-1', ['vpc-1'], { Tags: tagList({ ...OURS, Extra: 'x' }) })] },
      },
      options,
    );
    const observed = await internetGatewayHandler.observe(context, spec);
    assert.deepEqual(observed.differences, ['tags: +Name, -Extra']);
    await internetGatewayHandler.update(context, spec, observed);
    assert.deepEqual(writesOf(context.commandNames()), ['CreateTagsCommand', 'DeleteTagsCommand']);
  });

  test('a duplicate attached to the desired VPC is removed before the attach', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-2', ['vpc-1']), gateway('igw-1', [])] } },
      options,
    );
    await internetGatewayHandler.update(context, spec, await internetGatewayHandler.observe(context, spec));
    assert.deepEqual(
      context.calls.filter((call) => WRITES.includes(call.command)).map((call) => `${call.command} ${String(call.input.InternetGatewayId)}`),
      [
        'DetachInternetGatewayCommand igw-2',
        'DeleteInternetGatewayCommand igw-2',
        'AttachInternetGatewayCommand igw-1',
      ],
    );
  });
});

describe('delete', () => {
  test('detaches from every VPC, then deletes, resolving nothing', async () => {
    const context = stubContext(
      { ...acceptWrites(), DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-1', ['vpc-1', 'vpc-2'])] } },
      deleting,
    );
    assert.equal(await internetGatewayHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(writesOf(context.commandNames()), [
      'DetachInternetGatewayCommand',
      'DetachInternetGatewayCommand',
      'DeleteInternetGatewayCommand',
    ]);
    assert.deepEqual(context.callsTo('DetachInternetGatewayCommand').map((input) => input.VpcId), ['vpc-1', 'vpc-2']);
  });

  test('DependencyViolation on detach (public IPs still mapped in the VPC) is Deleting, and nothing is deleted', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeInternetGatewaysCommand: { InternetGateways: [gateway()] },
        DetachInternetGatewayCommand: awsError('DependencyViolation'),
      },
      deleting,
    );
    assert.equal(await internetGatewayHandler.delete(context, spec), 'Deleting');
    assert.equal(context.callsTo('DeleteInternetGatewayCommand').length, 0);
  });

  test('a gateway already detached (Gateway.NotAttached) or whose VPC is gone is still deleted', async () => {
    const context = stubContext(
      {
        ...acceptWrites(),
        DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-1', ['vpc-1', 'vpc-2'])] },
        DetachInternetGatewayCommand: (input: CommandInput) => {
          throw awsError(input.VpcId === 'vpc-1' ? 'Gateway.NotAttached' : 'InvalidVpcID.NotFound');
        },
      },
      deleting,
    );
    assert.equal(await internetGatewayHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DeleteInternetGatewayCommand'), [{ InternetGatewayId: 'igw-1' }]);
  });

  test('gone already: Deleted', async () => {
    const none = stubContext({ DescribeInternetGatewaysCommand: { InternetGateways: [] } }, deleting);
    assert.equal(await internetGatewayHandler.delete(none, spec), 'Deleted');
    const gone = stubContext(
      {
        DescribeInternetGatewaysCommand: { InternetGateways: [gateway('igw-1', [])] },
        DeleteInternetGatewayCommand: awsError('InvalidInternetGatewayID.NotFound'),
      },
      deleting,
    );
    assert.equal(await internetGatewayHandler.delete(gone, spec), 'Deleted');
  });

  test('other detach errors are thrown', async () => {
    const context = stubContext(
      {
        DescribeInternetGatewaysCommand: { InternetGateways: [gateway()] },
        DetachInternetGatewayCommand: awsError('UnauthorizedOperation', { status: 403 }),
      },
      deleting,
    );
    await assert.rejects(internetGatewayHandler.delete(context, spec), { name: 'UnauthorizedOperation' });
  });
});
