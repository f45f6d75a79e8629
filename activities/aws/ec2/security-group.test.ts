import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SecurityGroup } from '@aws-sdk/client-ec2';
import { Value } from '@sinclair/typebox/value';
import { SecurityGroupKind, type SecurityGroupSpec } from '../../../crds/kinds/security-group.js';
import { customResourceDefinition } from '../../../crds/crd.js';
import { Annotations, CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { ALREADY_EXISTS, ErrorClass, OWNED_BY_ANOTHER, classifyAwsError } from '../errors.js';
import { TEST_CLUSTER_ID, awsError, stubContext, type StubResponse } from '../testing.js';
import {
  adoptByIdHint,
  comparePermissions,
  formatPermission,
  formatPermissionChanges,
  normaliseProtocol,
  permissionsFromAws,
  permissionsFromSpec,
  portRange,
  securityGroupHandler,
  toIpPermission,
} from './security-group.js';

const OWNER = 'SecurityGroup/default/app';
const OURS = { [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID };
const TAGS = { Name: 'app', ...OURS };
const resource = { kind: 'SecurityGroup', namespace: 'default', name: 'app', uid: 'uid-1' };
const resolved = { 'VPC/default/app-vpc': 'vpc-1', 'SecurityGroup/default/web': 'sg-web' };
const options = { resource, tags: TAGS, resolved };
const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** The network example's app group. */
const spec: SecurityGroupSpec = {
  providerRef: { name: 'aws' },
  groupName: 'app',
  description: 'app tier, reachable from the web tier only',
  vpcRef: { name: 'app-vpc' },
  ingressRules: [{ ipProtocol: 'tcp', fromPort: 8080, toPort: 8080, sourceSecurityGroupRef: { name: 'web' }, description: 'from web' }],
};

const defaultEgress = [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }];

function group(overrides: Partial<SecurityGroup> = {}): SecurityGroup {
  return {
    GroupId: 'sg-app',
    GroupName: 'app',
    VpcId: 'vpc-1',
    Description: 'app tier, reachable from the web tier only',
    IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: 'sg-web', UserId: '123456789012', Description: 'from web' }] }],
    IpPermissionsEgress: defaultEgress,
    Tags: tagList(TAGS),
    ...overrides,
  };
}

/** DescribeSecurityGroups answering by how it is asked: by ID, by owner tag, or by name in the VPC. */
function describeGroups(answers: { byID?: SecurityGroup[] | Error; byTag?: SecurityGroup[]; byName?: SecurityGroup[] }): StubResponse {
  return (input) => {
    if (input.GroupIds) {
      if (answers.byID instanceof Error) throw answers.byID;
      return { SecurityGroups: answers.byID ?? [] };
    }
    const [first] = (input.Filters as Array<{ Name: string }> | undefined) ?? [];
    return { SecurityGroups: (first?.Name === 'group-name' ? answers.byName : answers.byTag) ?? [] };
  };
}

const BY_NAME = [
  { Name: 'group-name', Values: ['app'] },
  { Name: 'vpc-id', Values: ['vpc-1'] },
];
const BY_TAG = [
  { Name: `tag:${OWNER_TAG}`, Values: [OWNER] },
  { Name: `tag:${CLUSTER_TAG}`, Values: [TEST_CLUSTER_ID] },
];

const WRITES = [
  'AuthorizeSecurityGroupIngressCommand',
  'RevokeSecurityGroupIngressCommand',
  'UpdateSecurityGroupRuleDescriptionsIngressCommand',
  'AuthorizeSecurityGroupEgressCommand',
  'RevokeSecurityGroupEgressCommand',
  'UpdateSecurityGroupRuleDescriptionsEgressCommand',
  'CreateTagsCommand',
  'DeleteTagsCommand',
];
const acceptWrites = (): Record<string, StubResponse> => Object.fromEntries(WRITES.map((name) => [name, {}]));
const writesOf = (names: string[]) => names.filter((name) => WRITES.includes(name));

describe('schema', () => {
  test('the example validates; rules need a source, tcp needs a port, and a ref is listed', () => {
    assert.ok(Value.Check(SecurityGroupKind.spec, spec));
    assert.ok(Value.Check(SecurityGroupKind.spec, { ...spec, description: 'web tier, open to the internet on 80 and 443' }));
    assert.equal(Value.Check(SecurityGroupKind.spec, { ...spec, ingressRules: [{ ipProtocol: 'gre', cidrBlocks: ['0.0.0.0/0'] }] }), false);
    const crd = JSON.stringify(customResourceDefinition(SecurityGroupKind));
    assert.match(crd, /a rule needs a source/);
    assert.match(crd, /tcp and udp rules need fromPort/);
    assert.match(crd, /groupName is immutable/);
    assert.match(crd, /description is immutable/);
    assert.deepEqual(
      SecurityGroupKind.references({ ...spec, egressRules: [{ ipProtocol: '-1', sourceSecurityGroupRef: { name: 'db', namespace: 'data' } }] }, 'default'),
      [
        { kind: 'AWSProvider', namespace: 'default', name: 'aws' },
        { kind: 'VPC', namespace: 'default', name: 'app-vpc' },
        { kind: 'SecurityGroup', namespace: 'default', name: 'web' },
        { kind: 'SecurityGroup', namespace: 'data', name: 'db' },
      ],
    );
  });
});

describe('normalising', () => {
  test('protocol spellings', () => {
    assert.equal(normaliseProtocol('6'), 'tcp');
    assert.equal(normaliseProtocol('TCP'), 'tcp');
    assert.equal(normaliseProtocol('17'), 'udp');
    assert.equal(normaliseProtocol('58'), 'icmpv6');
    assert.equal(normaliseProtocol('all'), '-1');
    assert.equal(normaliseProtocol(undefined), '-1');
    assert.equal(normaliseProtocol('50'), '50');
  });

  test('port ranges', () => {
    assert.deepEqual(portRange('tcp', 443, undefined), { from: 443, to: 443 });
    assert.deepEqual(portRange('udp', undefined, undefined), { from: 0, to: 65535 });
    assert.deepEqual(portRange('icmp', 8, undefined), { from: 8, to: -1 });
    assert.deepEqual(portRange('-1', 0, 0), {});
    assert.deepEqual(portRange('50', 1, 2), {});
  });

  test('a spec rule expands into one permission per source', () => {
    const permissions = permissionsFromSpec([
      { ipProtocol: 'tcp', fromPort: 443, cidrBlocks: ['0.0.0.0/0', '10.0.0.0/8'], ipv6CidrBlocks: ['::/0'], sourceSecurityGroupID: 'sg-1', description: 'https' },
    ]);
    assert.deepEqual(permissions.map(formatPermission), ['tcp/443 from 0.0.0.0/0', 'tcp/443 from 10.0.0.0/8', 'tcp/443 from ::/0', 'tcp/443 from sg-1']);
    assert.ok(permissions.every((p) => p.description === 'https'));
  });

  test("AWS's grouped permissions split the same way, prefix lists included", () => {
    const permissions = permissionsFromAws([
      {
        IpProtocol: 'tcp',
        FromPort: 80,
        ToPort: 81,
        IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'web' }],
        UserIdGroupPairs: [{ GroupId: 'sg-2', UserId: '1' }],
        PrefixListIds: [{ PrefixListId: 'pl-1' }],
      },
      { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
      ...defaultEgress,
    ]);
    assert.deepEqual(permissions.map(formatPermission), [
      'tcp/80-81 from 0.0.0.0/0',
      'tcp/80-81 from sg-2',
      'tcp/80-81 from pl-1',
      'icmp/-1:-1 from ::/0',
      'all from 0.0.0.0/0',
    ]);
    assert.equal(permissions[0]?.description, 'web');
  });

  test('comparison: added, removed (incl. out of band), description changes only when the spec sets one', () => {
    const desired = permissionsFromSpec([
      { ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrBlocks: ['0.0.0.0/0'] },
      { ipProtocol: '6', fromPort: 80, cidrBlocks: ['0.0.0.0/0'], description: 'http' },
      { ipProtocol: 'tcp', fromPort: 8443, sourceSecurityGroupID: 'sg-1' },
    ]);
    const observed = permissionsFromAws([
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'anything' }] },
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'old' }] },
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ]);
    const changes = comparePermissions(desired, observed);
    assert.equal(
      formatPermissionChanges(changes),
      '+tcp/8443 from sg-1, -tcp/22 from 0.0.0.0/0, ~tcp/80 from 0.0.0.0/0 (description)',
    );
    assert.equal(formatPermissionChanges(comparePermissions(desired, [...observed.slice(0, 2), ...permissionsFromSpec([{ ipProtocol: 'tcp', fromPort: 8443, sourceSecurityGroupID: 'sg-1' }])])), '~tcp/80 from 0.0.0.0/0 (description)');
  });

  test('a permission as the API takes it', () => {
    assert.deepEqual(toIpPermission(permissionsFromSpec([{ ipProtocol: 'tcp', fromPort: 22, sourceSecurityGroupID: 'sg-1', description: 'ssh' }])[0]), {
      IpProtocol: 'tcp',
      FromPort: 22,
      ToPort: 22,
      UserIdGroupPairs: [{ GroupId: 'sg-1', Description: 'ssh' }],
    });
    assert.deepEqual(toIpPermission(permissionsFromSpec([{ ipProtocol: '-1', ipv6CidrBlocks: ['::/0'] }])[0]), {
      IpProtocol: '-1',
      Ipv6Ranges: [{ CidrIpv6: '::/0' }],
    });
  });
});

describe('observe', () => {
  test('nothing tagged and nothing of its name in the VPC: exists false', async () => {
    const context = stubContext({ DescribeSecurityGroupsCommand: { SecurityGroups: [] } }, options);
    assert.equal((await securityGroupHandler.observe(context, spec)).exists, false);
    assert.deepEqual(
      context.callsTo('DescribeSecurityGroupsCommand').map((input) => input.Filters),
      [BY_TAG, BY_NAME],
    );
  });

  test('a group of its name in the VPC made outside the operator: unmanaged, with its ID', async () => {
    const stranger = group({ Tags: tagList({ Name: 'app' }) });
    const context = stubContext({ DescribeSecurityGroupsCommand: describeGroups({ byName: [stranger] }) }, options);
    const observed = await securityGroupHandler.observe(context, spec);
    assert.equal(observed.exists, true);
    assert.equal(observed.unmanaged, true);
    assert.equal(observed.id, 'sg-app');
    assert.equal(observed.ownedBy, undefined);
  });

  test('a group of its name in the VPC that another resource or cluster owns: theirs', async () => {
    for (const [tags, owner] of [
      [{ ...OURS, [OWNER_TAG]: 'SecurityGroup/other/app' }, 'SecurityGroup/other/app'],
      [{ ...OURS, [CLUSTER_TAG]: 'other-cluster' }, `${OWNER} in cluster other-cluster`],
    ] as const) {
      const context = stubContext({ DescribeSecurityGroupsCommand: describeGroups({ byName: [group({ Tags: tagList(tags) })] }) }, options);
      const observed = await securityGroupHandler.observe(context, spec);
      assert.equal(observed.ownedBy, owner);
      assert.equal(observed.id, 'sg-app');
    }
  });

  test('in sync: the ref resolves to the web group; egress is not managed when unset', async () => {
    const context = stubContext({ DescribeSecurityGroupsCommand: { SecurityGroups: [group()] } }, options);
    const observed = await securityGroupHandler.observe(context, spec);
    assert.deepEqual(observed.differences, []);
    assert.equal(observed.ready, true);
    assert.deepEqual(observed.status, { groupID: 'sg-app', groupName: 'app', vpcID: 'vpc-1' });
    assert.equal(observed.id, 'sg-app');
    assert.equal(observed.unmanaged, undefined);
  });

  test('each kind of difference: tags, ingress added and removed, egress managed exactly when set', async () => {
    const drifted = group({
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: 'sg-old' }] },
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
      Tags: tagList({ ...OURS, Extra: 'x' }),
    });
    const context = stubContext({ DescribeSecurityGroupsCommand: { SecurityGroups: [drifted] } }, options);
    const observed = await securityGroupHandler.observe(context, { ...spec, egressRules: [] });
    assert.deepEqual(observed.differences, [
      'tags: +Name, -Extra',
      'ingress: +tcp/8080 from sg-web, -tcp/22 from 0.0.0.0/0, -tcp/8080 from sg-old',
      'egress: -all from 0.0.0.0/0',
    ]);
  });

  test('a rule naming this very group uses its own ID instead of waiting for itself', async () => {
    const self: SecurityGroupSpec = { ...spec, ingressRules: [{ ipProtocol: '-1', sourceSecurityGroupRef: { name: 'app' } }] };
    const context = stubContext(
      { DescribeSecurityGroupsCommand: { SecurityGroups: [group({ IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-app' }] }] })] } },
      options,
    );
    assert.deepEqual((await securityGroupHandler.observe(context, self)).differences, []);
  });

  test('a source group that is not Ready: DependencyNotReady', async () => {
    const context = stubContext({ DescribeSecurityGroupsCommand: { SecurityGroups: [group()] } }, { resource, tags: TAGS });
    await assert.rejects(securityGroupHandler.observe(context, spec), { type: 'DependencyNotReady' });
  });

  test('deleting: found by tag, nothing resolved or compared', async () => {
    const context = stubContext({ DescribeSecurityGroupsCommand: { SecurityGroups: [group({ IpPermissions: [] })] } }, {
      resource,
      tags: TAGS,
      deleting: true,
    });
    const observed = await securityGroupHandler.observe(context, spec);
    assert.equal(observed.exists, true);
    assert.deepEqual(observed.differences, []);
  });

  test('deleting and nothing tagged: absent, and no name lookup (nothing is resolved)', async () => {
    const context = stubContext({ DescribeSecurityGroupsCommand: { SecurityGroups: [] } }, { resource, tags: TAGS, deleting: true });
    assert.equal((await securityGroupHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.commandNames(), ['DescribeSecurityGroupsCommand']);
  });
});

describe('by recorded ID (context.awsID)', () => {
  const byID = { ...options, awsID: 'sg-app' };
  const idsOnly = (inputs: Array<Record<string, unknown>>) => inputs.every((input) => input.Filters === undefined);

  test('observe describes by ID and makes no tag or name lookup', async () => {
    const context = stubContext({ DescribeSecurityGroupsCommand: describeGroups({ byID: [group()] }) }, byID);
    const observed = await securityGroupHandler.observe(context, spec);
    assert.deepEqual(context.callsTo('DescribeSecurityGroupsCommand'), [{ GroupIds: ['sg-app'] }]);
    assert.equal(observed.id, 'sg-app');
    assert.equal(observed.upToDate, true);
  });

  test('gone (NotFound): exists:false, with no fallback to the tags or the name', async () => {
    const context = stubContext({ DescribeSecurityGroupsCommand: describeGroups({ byID: awsError('InvalidGroup.NotFound') }) }, byID);
    assert.equal((await securityGroupHandler.observe(context, spec)).exists, false);
    assert.deepEqual(context.callsTo('DescribeSecurityGroupsCommand'), [{ GroupIds: ['sg-app'] }]);
  });

  test('its owner tag removed by hand: unmanaged, with its ID; update writes the owner and cluster tags back', async () => {
    const context = stubContext(
      { DescribeSecurityGroupsCommand: describeGroups({ byID: [group({ Tags: tagList({ Name: 'app' }) })] }), ...acceptWrites() },
      byID,
    );
    const observed = await securityGroupHandler.observe(context, spec);
    assert.equal(observed.unmanaged, true);
    assert.equal(observed.id, 'sg-app');
    await securityGroupHandler.update(context, spec, observed);
    assert.deepEqual(writesOf(context.commandNames()), ['CreateTagsCommand']);
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['sg-app'], Tags: tagList(OURS) }]);
    assert.ok(idsOnly(context.callsTo('DescribeSecurityGroupsCommand')), 'no tag or name lookup');
  });

  test('delete deletes the recorded group, found by ID', async () => {
    const context = stubContext(
      { DescribeSecurityGroupsCommand: describeGroups({ byID: [group({ IpPermissions: [] })] }), DeleteSecurityGroupCommand: {} },
      { resource, tags: TAGS, awsID: 'sg-app', deleting: true },
    );
    assert.equal(await securityGroupHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DescribeSecurityGroupsCommand'), [{ GroupIds: ['sg-app'] }]);
    assert.deepEqual(context.callsTo('DeleteSecurityGroupCommand'), [{ GroupId: 'sg-app' }]);
  });
});

describe('create', () => {
  const fresh = group({ IpPermissions: [], IpPermissionsEgress: defaultEgress });

  test('creates with tags, then authorises the rules; the default egress stays when egress is unmanaged', async () => {
    const context = stubContext(
      {
        DescribeSecurityGroupsCommand: (input) => (input.GroupIds ? { SecurityGroups: [fresh] } : { SecurityGroups: [] }),
        CreateSecurityGroupCommand: { GroupId: 'sg-app' },
        ...acceptWrites(),
      },
      options,
    );
    await securityGroupHandler.create(context, spec);
    assert.deepEqual(context.callsTo('CreateSecurityGroupCommand'), [
      {
        GroupName: 'app',
        Description: 'app tier, reachable from the web tier only',
        VpcId: 'vpc-1',
        TagSpecifications: [{ ResourceType: 'security-group', Tags: tagList(TAGS) }],
      },
    ]);
    assert.deepEqual(writesOf(context.commandNames()), ['AuthorizeSecurityGroupIngressCommand']);
    assert.deepEqual(context.callsTo('AuthorizeSecurityGroupIngressCommand'), [
      {
        GroupId: 'sg-app',
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: 'sg-web', Description: 'from web' }] }],
      },
    ]);
  });

  test('egressRules set: the default allow-all is revoked after the wanted rule is added', async () => {
    const context = stubContext(
      {
        DescribeSecurityGroupsCommand: (input) => (input.GroupIds ? { SecurityGroups: [fresh] } : { SecurityGroups: [] }),
        CreateSecurityGroupCommand: { GroupId: 'sg-app' },
        ...acceptWrites(),
      },
      options,
    );
    await securityGroupHandler.create(context, { ...spec, ingressRules: [], egressRules: [{ ipProtocol: 'tcp', fromPort: 443, cidrBlocks: ['0.0.0.0/0'] }] });
    assert.deepEqual(writesOf(context.commandNames()), ['AuthorizeSecurityGroupEgressCommand', 'RevokeSecurityGroupEgressCommand']);
    assert.deepEqual(context.callsTo('RevokeSecurityGroupEgressCommand'), [{ GroupId: 'sg-app', IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }]);
  });

  test('after a crash: the group found by tag is completed, not created again', async () => {
    const context = stubContext({ DescribeSecurityGroupsCommand: { SecurityGroups: [fresh] }, ...acceptWrites() }, options);
    await securityGroupHandler.create(context, spec);
    assert.ok(!context.commandNames().includes('CreateSecurityGroupCommand'));
    assert.equal(context.callsTo('AuthorizeSecurityGroupIngressCommand').length, 1);
  });

  test('InvalidGroup.Duplicate, ours (not yet visible to the tag lookup): used, without retagging', async () => {
    const context = stubContext(
      {
        DescribeSecurityGroupsCommand: describeGroups({ byName: [fresh], byID: [fresh] }),
        CreateSecurityGroupCommand: awsError('InvalidGroup.Duplicate'),
        ...acceptWrites(),
      },
      options,
    );
    await securityGroupHandler.create(context, spec);
    assert.deepEqual(context.callsTo('DescribeSecurityGroupsCommand')[1]?.Filters, BY_NAME);
    assert.deepEqual(writesOf(context.commandNames()), ['AuthorizeSecurityGroupIngressCommand']);
  });

  test('InvalidGroup.Duplicate, made outside the operator: AlreadyExists naming the group ID and how to adopt it; nothing written', async () => {
    const untagged = group({ IpPermissions: [], Tags: [] });
    const context = stubContext(
      {
        DescribeSecurityGroupsCommand: describeGroups({ byName: [untagged], byID: [untagged] }),
        CreateSecurityGroupCommand: awsError('InvalidGroup.Duplicate'),
        ...acceptWrites(),
      },
      options,
    );
    const error = await securityGroupHandler.create(context, spec).then(
      () => assert.fail('create should fail'),
      (e: unknown) => e as Error,
    );
    assert.equal(error.name, ALREADY_EXISTS);
    assert.match(error.message, /^security group app in vpc-1 \(sg-app\) already exists/);
    assert.ok(error.message.includes(adoptByIdHint('sg-app')));
    assert.equal(
      adoptByIdHint('sg-app'),
      `To manage it, annotate this resource ${Annotations.adoptionPolicy}=adopt and ${Annotations.adoptionID}=sg-app.`,
    );
    assert.equal(classifyAwsError(error, securityGroupHandler.errorCodes), ErrorClass.Terminal);
    assert.deepEqual(writesOf(context.commandNames()), []);
  });

  test('InvalidGroup.Duplicate, owned by another resource or cluster: OwnedByAnotherResource, nothing written', async () => {
    for (const tags of [{ ...OURS, [OWNER_TAG]: 'SecurityGroup/other/app' }, { ...OURS, [CLUSTER_TAG]: 'other-cluster' }]) {
      const theirs = group({ Tags: tagList(tags) });
      const context = stubContext(
        {
          DescribeSecurityGroupsCommand: describeGroups({ byName: [theirs] }),
          CreateSecurityGroupCommand: awsError('InvalidGroup.Duplicate'),
          ...acceptWrites(),
        },
        options,
      );
      const error = await securityGroupHandler.create(context, spec).then(
        () => assert.fail('create should fail'),
        (e: unknown) => e as Error,
      );
      assert.equal(error.name, OWNED_BY_ANOTHER);
      assert.equal(classifyAwsError(error, securityGroupHandler.errorCodes), ErrorClass.Terminal);
      assert.deepEqual(writesOf(context.commandNames()), []);
    }
  });

  test('a source group that is not Ready: nothing is created', async () => {
    const context = stubContext({ DescribeSecurityGroupsCommand: { SecurityGroups: [] } }, { resource, tags: TAGS, resolved: { 'VPC/default/app-vpc': 'vpc-1' } });
    await assert.rejects(securityGroupHandler.create(context, spec), { type: 'DependencyNotReady' });
    assert.deepEqual(context.commandNames(), []);
  });
});

describe('update', () => {
  test('authorises the missing, revokes the extras, fixes a description and tags; nothing else', async () => {
    const drifted = group({
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: 'sg-web', Description: 'stale' }] },
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'by hand' }] },
      ],
      Tags: tagList(OURS),
    });
    const desired = { ...spec, ingressRules: [...(spec.ingressRules ?? []), { ipProtocol: 'udp', fromPort: 53, cidrBlocks: ['10.0.0.0/8'] }] };
    const context = stubContext({ DescribeSecurityGroupsCommand: { SecurityGroups: [drifted] }, ...acceptWrites() }, options);
    const observed = await securityGroupHandler.observe(context, desired);
    assert.deepEqual(observed.differences, [
      'tags: +Name',
      'ingress: +udp/53 from 10.0.0.0/8, -tcp/22 from 0.0.0.0/0, ~tcp/8080 from sg-web (description)',
    ]);
    await securityGroupHandler.update(context, desired, observed);
    assert.deepEqual(writesOf(context.commandNames()), [
      'CreateTagsCommand',
      'AuthorizeSecurityGroupIngressCommand',
      'UpdateSecurityGroupRuleDescriptionsIngressCommand',
      'RevokeSecurityGroupIngressCommand',
    ]);
    assert.deepEqual(context.callsTo('AuthorizeSecurityGroupIngressCommand')[0]?.IpPermissions, [
      { IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
    ]);
    // Revoked as AWS reported it, description included (moto matches on it).
    assert.deepEqual(context.callsTo('RevokeSecurityGroupIngressCommand')[0]?.IpPermissions, [
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'by hand' }] },
    ]);
    assert.deepEqual(context.callsTo('UpdateSecurityGroupRuleDescriptionsIngressCommand')[0]?.IpPermissions, [
      { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: 'sg-web', Description: 'from web' }] },
    ]);
  });

  test('adopted by name (no ID recorded yet): update finds the group by its name and tags it as ours', async () => {
    const stranger = group({ Tags: tagList({ Name: 'app' }) });
    const context = stubContext({ DescribeSecurityGroupsCommand: describeGroups({ byName: [stranger] }), ...acceptWrites() }, options);
    await securityGroupHandler.update(context, spec, await securityGroupHandler.observe(context, spec));
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['sg-app'], Tags: tagList(OURS) }]);
  });

  test('adopted by ID (adoption-id): a foreign group is reported unmanaged, and update tags it as ours', async () => {
    const foreign = group({ GroupId: 'sg-foreign', Tags: tagList({ team: 'web' }) });
    const context = stubContext(
      { DescribeSecurityGroupsCommand: describeGroups({ byID: [foreign] }), ...acceptWrites() },
      { ...options, awsID: 'sg-foreign' },
    );
    const observed = await securityGroupHandler.observe(context, spec);
    assert.equal(observed.unmanaged, true);
    assert.equal(observed.id, 'sg-foreign');
    await securityGroupHandler.update(context, spec, observed);
    assert.deepEqual(context.callsTo('CreateTagsCommand'), [{ Resources: ['sg-foreign'], Tags: tagList(TAGS) }]);
    assert.deepEqual(context.callsTo('DeleteTagsCommand'), [{ Resources: ['sg-foreign'], Tags: [{ Key: 'team' }] }]);
  });

  test('a rule that changed meanwhile is retried, not terminal', () => {
    assert.equal(classifyAwsError(awsError('InvalidPermission.Duplicate'), securityGroupHandler.errorCodes), ErrorClass.Retryable);
    assert.equal(classifyAwsError(awsError('InvalidPermission.NotFound'), securityGroupHandler.errorCodes), ErrorClass.Retryable);
  });
});

describe('delete', () => {
  test('revokes its own rules that name other groups, then deletes', async () => {
    const context = stubContext(
      {
        DescribeSecurityGroupsCommand: { SecurityGroups: [group()] },
        RevokeSecurityGroupIngressCommand: {},
        DeleteSecurityGroupCommand: {},
      },
      { resource, tags: TAGS, deleting: true },
    );
    assert.equal(await securityGroupHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.commandNames(), ['DescribeSecurityGroupsCommand', 'RevokeSecurityGroupIngressCommand', 'DeleteSecurityGroupCommand']);
    assert.deepEqual(context.callsTo('RevokeSecurityGroupIngressCommand')[0]?.IpPermissions, [
      { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: 'sg-web', Description: 'from web' }] },
    ]);
    assert.deepEqual(context.callsTo('DeleteSecurityGroupCommand'), [{ GroupId: 'sg-app' }]);
  });

  test('DependencyViolation (referenced, or an interface uses it): Deleting', async () => {
    const context = stubContext(
      { DescribeSecurityGroupsCommand: { SecurityGroups: [group({ IpPermissions: [] })] }, DeleteSecurityGroupCommand: awsError('DependencyViolation') },
      { resource, tags: TAGS, deleting: true },
    );
    assert.equal(await securityGroupHandler.delete(context, spec), 'Deleting');
  });

  test('gone: Deleted', async () => {
    const none = stubContext({ DescribeSecurityGroupsCommand: { SecurityGroups: [] } }, { resource, tags: TAGS, deleting: true });
    assert.equal(await securityGroupHandler.delete(none, spec), 'Deleted');
    const raced = stubContext(
      { DescribeSecurityGroupsCommand: { SecurityGroups: [group({ IpPermissions: [] })] }, DeleteSecurityGroupCommand: awsError('InvalidGroup.NotFound') },
      { resource, tags: TAGS, deleting: true },
    );
    assert.equal(await securityGroupHandler.delete(raced, spec), 'Deleted');
  });
});
