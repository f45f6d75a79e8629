import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RouteTable } from '@aws-sdk/client-ec2';
import { Value } from '@sinclair/typebox/value';
import { RouteTableKind, type RouteTableSpec } from '../../../crds/kinds/route-table.js';
import { customResourceDefinition } from '../../../crds/crd.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { ErrorClass, classifyAwsError } from '../errors.js';
import { TEST_CLUSTER_ID, awsError, stubContext, type StubResponse } from '../testing.js';
import {
  compareAssociations,
  compareRoutes,
  formatRouteChanges,
  observedRoutes,
  routeTableHandler,
  routeTableStatus,
  type RouteTarget,
} from './route-table.js';

const OWNER = 'RouteTable/default/public-routes';
const OURS = { [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID };
const TAGS = { Name: 'public-routes', ...OURS };
const resource = { kind: 'RouteTable', namespace: 'default', name: 'public-routes', uid: 'uid-1' };
const resolved = { 'VPC/default/app-vpc': 'vpc-1', 'InternetGateway/default/app-igw': 'igw-1', 'Subnet/default/public-1a': 'subnet-a' };
const options = { resource, tags: TAGS, resolved };
const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** The network example's public table. */
const spec: RouteTableSpec = {
  providerRef: { name: 'aws' },
  vpcRef: { name: 'app-vpc' },
  routes: [{ destinationCidrBlock: '0.0.0.0/0', gatewayRef: { name: 'app-igw' } }],
  subnetAssociationRefs: [{ name: 'public-1a' }],
  subnetAssociations: ['subnet-b'],
};

const localRoute = { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', Origin: 'CreateRouteTable' as const, State: 'active' as const };

function table(overrides: Partial<RouteTable> = {}): RouteTable {
  return {
    RouteTableId: 'rtb-1',
    VpcId: 'vpc-1',
    Routes: [localRoute, { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', Origin: 'CreateRoute', State: 'active' }],
    Associations: [
      { Main: false, RouteTableAssociationId: 'rtbassoc-a', RouteTableId: 'rtb-1', SubnetId: 'subnet-a', AssociationState: { State: 'associated' } },
      { Main: false, RouteTableAssociationId: 'rtbassoc-b', RouteTableId: 'rtb-1', SubnetId: 'subnet-b', AssociationState: { State: 'associated' } },
    ],
    Tags: tagList(TAGS),
    ...overrides,
  };
}

const WRITES = [
  'CreateRouteCommand',
  'ReplaceRouteCommand',
  'DeleteRouteCommand',
  'AssociateRouteTableCommand',
  'ReplaceRouteTableAssociationCommand',
  'DisassociateRouteTableCommand',
  'CreateTagsCommand',
  'DeleteTagsCommand',
];
const acceptWrites = (): Record<string, StubResponse> => Object.fromEntries(WRITES.map((name) => [name, {}]));
const writesOf = (names: string[]) => names.filter((name) => WRITES.includes(name));

describe('schema', () => {
  test('the example validates; the route rule asks for exactly one target', () => {
    assert.ok(Value.Check(RouteTableKind.spec, spec));
    const crd = JSON.stringify(customResourceDefinition(RouteTableKind));
    assert.match(crd, /\(has\(self.gatewayID\) \? 1 : 0\) \+ \(has\(self.gatewayRef\) \? 1 : 0\).* == 1/);
    assert.match(crd, /vpcID is immutable/);
  });

  test('references list the VPC, every gateway and NAT ref in routes, and every subnet ref', () => {
    const refs = RouteTableKind.references(
      {
        ...spec,
        routes: [
          { destinationCidrBlock: '0.0.0.0/0', gatewayRef: { name: 'app-igw' } },
          { destinationCidrBlock: '10.9.0.0/16', natGatewayRef: { name: 'nat-1a', namespace: 'net' } },
          { destinationCidrBlock: '10.8.0.0/16', vpcPeeringConnectionID: 'pcx-1' },
        ],
        subnetAssociationRefs: [{ name: 'public-1a' }, { name: 'public-1b' }],
      },
      'default',
    );
    assert.deepEqual(refs, [
      { kind: 'AWSProvider', namespace: 'default', name: 'aws' },
      { kind: 'VPC', namespace: 'default', name: 'app-vpc' },
      { kind: 'InternetGateway', namespace: 'default', name: 'app-igw' },
      { kind: 'NATGateway', namespace: 'net', name: 'nat-1a' },
      { kind: 'Subnet', namespace: 'default', name: 'public-1a' },
      { kind: 'Subnet', namespace: 'default', name: 'public-1b' },
    ]);
  });
});

describe('pure helpers', () => {
  test("the local route and propagated routes are not the operator's; IPv6 routes are not managed", () => {
    const routes = observedRoutes([
      localRoute,
      { DestinationCidrBlock: '172.16.0.0/12', GatewayId: 'vgw-1', Origin: 'EnableVgwRoutePropagation' },
      { DestinationIpv6CidrBlock: '::/0', GatewayId: 'igw-1', Origin: 'CreateRoute' },
      { DestinationCidrBlock: '10.5.0.0/16', InstanceId: 'i-1', NetworkInterfaceId: 'eni-1', Origin: 'CreateRoute' },
      { DestinationCidrBlock: '10.6.0.0/16', TransitGatewayId: 'tgw-1', Origin: 'CreateRoute' },
    ]);
    assert.deepEqual([...routes.keys()], ['10.5.0.0/16', '10.6.0.0/16']);
    assert.deepEqual(routes.get('10.5.0.0/16'), { instanceID: 'i-1', networkInterfaceID: 'eni-1' });
  });

  test('routes: create the missing, replace a changed target, delete extras; an instance route also naming its ENI matches either', () => {
    const desired = new Map<string, RouteTarget>([
      ['0.0.0.0/0', { field: 'natGatewayID', id: 'nat-2' }],
      ['10.5.0.0/16', { field: 'networkInterfaceID', id: 'eni-1' }],
      ['10.7.0.0/16', { field: 'vpcPeeringConnectionID', id: 'pcx-1' }],
    ]);
    const observed = observedRoutes([
      { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', Origin: 'CreateRoute' },
      { DestinationCidrBlock: '10.5.0.0/16', InstanceId: 'i-1', NetworkInterfaceId: 'eni-1', Origin: 'CreateRoute' },
      { DestinationCidrBlock: '10.6.0.0/16', TransitGatewayId: 'tgw-1', Origin: 'CreateRoute' },
    ]);
    const changes = compareRoutes(desired, observed);
    assert.equal(formatRouteChanges(changes), '+10.7.0.0/16 -> pcx-1, -10.6.0.0/16 -> tgw-1, ~0.0.0.0/0 nat-1 -> nat-2');
    assert.equal(formatRouteChanges(compareRoutes(new Map(), new Map())), undefined);
  });

  test('associations', () => {
    assert.deepEqual(compareAssociations(['subnet-a', 'subnet-c'], ['subnet-b', 'subnet-a']), { add: ['subnet-c'], remove: ['subnet-b'] });
  });

  test('status: the main association has no subnet', () => {
    const main = { Main: true, RouteTableAssociationId: 'rtbassoc-main', RouteTableId: 'rtb-1', AssociationState: { State: 'associated' as const } };
    assert.deepEqual(routeTableStatus(table({ Associations: [...(table().Associations ?? []), main] })), {
      routeTableID: 'rtb-1',
      vpcID: 'vpc-1',
      associatedSubnets: ['subnet-a', 'subnet-b'],
    });
  });
});

describe('observe', () => {
  test('nothing tagged: exists false, and no reference is resolved', async () => {
    const context = stubContext({ DescribeRouteTablesCommand: { RouteTables: [] } }, { resource, tags: TAGS });
    assert.equal((await routeTableHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.callsTo('DescribeRouteTablesCommand')[0]?.Filters, [
      { Name: `tag:${OWNER_TAG}`, Values: [OWNER] },
      { Name: `tag:${CLUSTER_TAG}`, Values: [TEST_CLUSTER_ID] },
    ]);
  });

  test('in sync: routes by resolved refs, associations by refs and IDs', async () => {
    const context = stubContext({ DescribeRouteTablesCommand: { RouteTables: [table()] } }, options);
    const observed = await routeTableHandler.observe(context, spec);
    assert.deepEqual(observed.differences, []);
    assert.equal(observed.upToDate, true);
    assert.equal(observed.ready, true);
    assert.deepEqual(observed.status, { routeTableID: 'rtb-1', vpcID: 'vpc-1', associatedSubnets: ['subnet-a', 'subnet-b'] });
    assert.equal(observed.id, 'rtb-1');
    assert.equal(observed.unmanaged, undefined);
  });

  test('each kind of difference', async () => {
    const drifted = table({
      Routes: [
        localRoute,
        { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-old', Origin: 'CreateRoute' },
        { DestinationCidrBlock: '10.9.0.0/16', VpcPeeringConnectionId: 'pcx-9', Origin: 'CreateRoute' },
      ],
      Associations: [
        { Main: false, RouteTableAssociationId: 'rtbassoc-a', SubnetId: 'subnet-a', AssociationState: { State: 'associated' } },
        { Main: false, RouteTableAssociationId: 'rtbassoc-x', SubnetId: 'subnet-x', AssociationState: { State: 'associated' } },
      ],
      Tags: tagList(OURS),
    });
    const context = stubContext({ DescribeRouteTablesCommand: { RouteTables: [drifted] } }, options);
    const observed = await routeTableHandler.observe(context, spec);
    assert.equal(observed.upToDate, false);
    assert.deepEqual(observed.differences, [
      'tags: +Name',
      'routes: -10.9.0.0/16 -> pcx-9, ~0.0.0.0/0 igw-old -> igw-1',
      'subnetAssociations: +subnet-b, -subnet-x',
    ]);
  });

  test('unset routes and associations are not managed', async () => {
    const context = stubContext({ DescribeRouteTablesCommand: { RouteTables: [table({ Routes: [localRoute], Associations: [] })] } }, options);
    const observed = await routeTableHandler.observe(context, { providerRef: { name: 'aws' }, vpcID: 'vpc-1' });
    assert.deepEqual(observed.differences, []);
  });

  test('an empty routes list removes every route but the local one', async () => {
    const context = stubContext({ DescribeRouteTablesCommand: { RouteTables: [table()] } }, options);
    const observed = await routeTableHandler.observe(context, { ...spec, routes: [] });
    assert.deepEqual(observed.differences, ['routes: -0.0.0.0/0 -> igw-1']);
  });

  test('a gateway that is not Ready: DependencyNotReady', async () => {
    const context = stubContext({ DescribeRouteTablesCommand: { RouteTables: [table()] } }, { resource, tags: TAGS });
    await assert.rejects(routeTableHandler.observe(context, spec), { type: 'DependencyNotReady' });
  });

  test('deleting: found by tag, nothing resolved or compared', async () => {
    // The refs resolve to nothing (their targets are gone) and the table has drifted: neither matters.
    const context = stubContext({ DescribeRouteTablesCommand: { RouteTables: [table({ Routes: [localRoute] })] } }, {
      resource,
      tags: TAGS,
      deleting: true,
    });
    const observed = await routeTableHandler.observe(context, spec);
    assert.equal(observed.exists, true);
    assert.deepEqual(observed.differences, []);
  });

  test('tables of another owner or cluster are ignored', async () => {
    const context = stubContext(
      {
        DescribeRouteTablesCommand: {
          RouteTables: [
            table({ Tags: tagList({ ...OURS, [OWNER_TAG]: 'RouteTable/default/other' }) }),
            table({ RouteTableId: 'rtb-9', Tags: tagList({ ...OURS, [CLUSTER_TAG]: 'other-cluster' }) }),
          ],
        },
      },
      options,
    );
    assert.equal((await routeTableHandler.observe(context, spec)).exists, false);
  });
});

describe('by recorded ID (context.awsID)', () => {
  const byID = { ...options, awsID: 'rtb-1' };
  const idsOnly = (inputs: Array<Record<string, unknown>>) => inputs.every((input) => input.Filters === undefined);

  test('observe describes by ID and makes no tag lookup', async () => {
    const context = stubContext({ DescribeRouteTablesCommand: { RouteTables: [table()] } }, byID);
    const observed = await routeTableHandler.observe(context, spec);
    assert.deepEqual(context.callsTo('DescribeRouteTablesCommand'), [{ RouteTableIds: ['rtb-1'] }]);
    assert.equal(observed.id, 'rtb-1');
    assert.equal(observed.upToDate, true);
  });

  test('gone (NotFound): exists:false, with no fallback to the tags', async () => {
    const context = stubContext({ DescribeRouteTablesCommand: awsError('InvalidRouteTableID.NotFound') }, byID);
    assert.equal((await routeTableHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.callsTo('DescribeRouteTablesCommand'), [{ RouteTableIds: ['rtb-1'] }]);
  });

  test('its owner tag removed by hand: unmanaged, with its ID; update writes the owner and cluster tags back', async () => {
    const context = stubContext(
      { DescribeRouteTablesCommand: { RouteTables: [table({ Tags: tagList({ Name: 'public-routes' }) })] }, ...acceptWrites() },
      byID,
    );
    const observed = await routeTableHandler.observe(context, spec);
    assert.equal(observed.unmanaged, true);
    assert.equal(observed.id, 'rtb-1');
    await routeTableHandler.update(context, spec, observed);
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['rtb-1'], Tags: tagList(OURS) }]);
    assert.ok(idsOnly(context.callsTo('DescribeRouteTablesCommand')), 'no tag lookup');
  });

  test('create after the recorded table is gone: a client token naming it, since the old token would answer with the old table', async () => {
    const context = stubContext(
      {
        DescribeRouteTablesCommand: awsError('InvalidRouteTableID.NotFound'),
        CreateRouteTableCommand: { RouteTable: table({ RouteTableId: 'rtb-new', Routes: [localRoute], Associations: [] }) },
        ...acceptWrites(),
      },
      { ...byID, resolved },
    );
    await routeTableHandler.create(context, { providerRef: { name: 'aws' }, vpcRef: { name: 'app-vpc' } });
    assert.equal(context.callsTo('CreateRouteTableCommand')[0]?.ClientToken, 'uid-1-rtb-1');
    assert.ok(idsOnly(context.callsTo('DescribeRouteTablesCommand')), 'no tag lookup');
  });

  test('delete deletes the recorded table, found by ID', async () => {
    const context = stubContext(
      { DescribeRouteTablesCommand: { RouteTables: [table({ Associations: [] })] }, DeleteRouteTableCommand: {} },
      { resource, tags: TAGS, awsID: 'rtb-1', deleting: true },
    );
    assert.equal(await routeTableHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DescribeRouteTablesCommand'), [{ RouteTableIds: ['rtb-1'] }]);
    assert.deepEqual(context.callsTo('DeleteRouteTableCommand'), [{ RouteTableId: 'rtb-1' }]);
  });
});

describe('create', () => {
  const fresh = table({ RouteTableId: 'rtb-new', Routes: [localRoute], Associations: [] });

  test('creates with ClientToken and tags, then routes and associations', async () => {
    const context = stubContext(
      {
        DescribeRouteTablesCommand: { RouteTables: [] },
        CreateRouteTableCommand: { RouteTable: fresh },
        ...acceptWrites(),
      },
      options,
    );
    await routeTableHandler.create(context, spec);
    assert.deepEqual(context.callsTo('CreateRouteTableCommand'), [
      { VpcId: 'vpc-1', ClientToken: 'uid-1', TagSpecifications: [{ ResourceType: 'route-table', Tags: tagList(TAGS) }] },
    ]);
    assert.deepEqual(context.callsTo('CreateRouteCommand'), [{ RouteTableId: 'rtb-new', DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1' }]);
    assert.deepEqual(context.callsTo('AssociateRouteTableCommand'), [
      { RouteTableId: 'rtb-new', SubnetId: 'subnet-a' },
      { RouteTableId: 'rtb-new', SubnetId: 'subnet-b' },
    ]);
    assert.deepEqual(writesOf(context.commandNames()), ['CreateRouteCommand', 'AssociateRouteTableCommand', 'AssociateRouteTableCommand']);
  });

  test('after a crash: the table the first attempt made is found and completed, not created again', async () => {
    const context = stubContext(
      {
        DescribeRouteTablesCommand: (input) =>
          (input.Filters as Array<{ Name: string }>)[0]?.Name.startsWith('tag:') ? { RouteTables: [{ ...fresh, Tags: tagList(TAGS) }] } : { RouteTables: [] },
        ...acceptWrites(),
      },
      options,
    );
    await routeTableHandler.create(context, spec);
    assert.ok(!context.commandNames().includes('CreateRouteTableCommand'));
    assert.equal(context.callsTo('CreateRouteCommand').length, 1);
  });

  test('a dependency that is not Ready: nothing is created', async () => {
    const context = stubContext({ DescribeRouteTablesCommand: { RouteTables: [] } }, { resource, tags: TAGS, resolved: { 'VPC/default/app-vpc': 'vpc-1' } });
    await assert.rejects(routeTableHandler.create(context, spec), { type: 'DependencyNotReady' });
    assert.deepEqual(context.commandNames(), []);
  });
});

describe('update', () => {
  test('sends only what differs: replace, create, delete routes; move, associate, disassociate subnets', async () => {
    const current = table({
      Routes: [
        localRoute,
        { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-old', Origin: 'CreateRoute' },
        { DestinationCidrBlock: '10.9.0.0/16', VpcPeeringConnectionId: 'pcx-9', Origin: 'CreateRoute' },
      ],
      Associations: [{ Main: false, RouteTableAssociationId: 'rtbassoc-x', SubnetId: 'subnet-x', AssociationState: { State: 'associated' } }],
    });
    const other = {
      RouteTableId: 'rtb-other',
      Associations: [{ Main: false, RouteTableAssociationId: 'rtbassoc-other-b', SubnetId: 'subnet-b', AssociationState: { State: 'associated' as const } }],
    };
    const context = stubContext(
      {
        DescribeRouteTablesCommand: (input) => {
          const filter = (input.Filters as Array<{ Name: string; Values: string[] }>)[0];
          if (filter?.Name.startsWith('tag:')) return { RouteTables: [current] };
          assert.deepEqual(filter, { Name: 'association.subnet-id', Values: ['subnet-a', 'subnet-b'] });
          return { RouteTables: [other] };
        },
        ...acceptWrites(),
      },
      options,
    );
    const desired = { ...spec, routes: [...(spec.routes ?? []), { destinationCidrBlock: '10.7.0.0/16', natGatewayID: 'nat-7' }] };
    await routeTableHandler.update(context, desired, await routeTableHandler.observe(context, desired));
    assert.deepEqual(writesOf(context.commandNames()), [
      'ReplaceRouteCommand',
      'CreateRouteCommand',
      'DeleteRouteCommand',
      'AssociateRouteTableCommand',
      'ReplaceRouteTableAssociationCommand',
      'DisassociateRouteTableCommand',
    ]);
    assert.deepEqual(context.callsTo('ReplaceRouteCommand'), [{ RouteTableId: 'rtb-1', DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1' }]);
    assert.deepEqual(context.callsTo('CreateRouteCommand'), [{ RouteTableId: 'rtb-1', DestinationCidrBlock: '10.7.0.0/16', NatGatewayId: 'nat-7' }]);
    assert.deepEqual(context.callsTo('DeleteRouteCommand'), [{ RouteTableId: 'rtb-1', DestinationCidrBlock: '10.9.0.0/16' }]);
    assert.deepEqual(context.callsTo('AssociateRouteTableCommand'), [{ RouteTableId: 'rtb-1', SubnetId: 'subnet-a' }]);
    assert.deepEqual(context.callsTo('ReplaceRouteTableAssociationCommand'), [{ AssociationId: 'rtbassoc-other-b', RouteTableId: 'rtb-1' }]);
    assert.deepEqual(context.callsTo('DisassociateRouteTableCommand'), [{ AssociationId: 'rtbassoc-x' }]);
  });

  test('in sync: no writes', async () => {
    const context = stubContext({ DescribeRouteTablesCommand: { RouteTables: [table()] }, ...acceptWrites() }, options);
    await routeTableHandler.update(context, spec, await routeTableHandler.observe(context, spec));
    assert.deepEqual(writesOf(context.commandNames()), []);
  });

  test('a route that appeared meanwhile is retried, not terminal', () => {
    assert.equal(classifyAwsError(awsError('RouteAlreadyExists'), routeTableHandler.errorCodes), ErrorClass.Retryable);
  });
});

describe('delete', () => {
  test('disassociates every subnet (not the main association) first, then deletes', async () => {
    const main = { Main: true, RouteTableAssociationId: 'rtbassoc-main', AssociationState: { State: 'associated' as const } };
    const context = stubContext(
      {
        DescribeRouteTablesCommand: { RouteTables: [table({ Associations: [...(table().Associations ?? []), main] })] },
        DisassociateRouteTableCommand: {},
        DeleteRouteTableCommand: {},
      },
      { resource, tags: TAGS, deleting: true },
    );
    assert.equal(await routeTableHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.commandNames(), [
      'DescribeRouteTablesCommand',
      'DisassociateRouteTableCommand',
      'DisassociateRouteTableCommand',
      'DeleteRouteTableCommand',
    ]);
    assert.deepEqual(context.callsTo('DisassociateRouteTableCommand').map((i) => i.AssociationId), ['rtbassoc-a', 'rtbassoc-b']);
  });

  test('DependencyViolation: Deleting', async () => {
    const context = stubContext(
      { DescribeRouteTablesCommand: { RouteTables: [table({ Associations: [] })] }, DeleteRouteTableCommand: awsError('DependencyViolation') },
      { resource, tags: TAGS, deleting: true },
    );
    assert.equal(await routeTableHandler.delete(context, spec), 'Deleting');
  });

  test('gone already: Deleted', async () => {
    const none = stubContext({ DescribeRouteTablesCommand: { RouteTables: [] } }, { resource, tags: TAGS, deleting: true });
    assert.equal(await routeTableHandler.delete(none, spec), 'Deleted');
    const raced = stubContext(
      {
        DescribeRouteTablesCommand: { RouteTables: [table({ Associations: [] })] },
        DeleteRouteTableCommand: awsError('InvalidRouteTableID.NotFound'),
      },
      { resource, tags: TAGS, deleting: true },
    );
    assert.equal(await routeTableHandler.delete(raced, spec), 'Deleted');
  });
});
