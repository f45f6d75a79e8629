import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DBSubnetGroupSpec } from '../../../crds/kinds/db-subnet-group.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { toFailure } from '../activities.js';
import { TEST_CLUSTER_ID, awsError, reasonOf, stubContext } from '../testing.js';
import { subnetGroupHandler } from './subnet-group.js';

const resource = { kind: 'DBSubnetGroup', namespace: 'default', name: 'tier', uid: 'uid-1' };
const TAGS = { [OWNER_TAG]: 'DBSubnetGroup/default/tier', [CLUSTER_TAG]: TEST_CLUSTER_ID };
const ARN = 'arn:aws:rds:us-east-1:123456789012:subgrp:tier';
const spec: DBSubnetGroupSpec = {
  providerRef: { name: 'aws' },
  name: 'tier',
  description: 'the tier',
  subnetIDs: ['subnet-b'],
  subnetRefs: [{ name: 'a' }],
};
const group = {
  DBSubnetGroupName: 'tier',
  DBSubnetGroupArn: ARN,
  DBSubnetGroupDescription: 'the tier',
  VpcId: 'vpc-1',
  SubnetGroupStatus: 'Complete',
  Subnets: [{ SubnetIdentifier: 'subnet-b' }, { SubnetIdentifier: 'subnet-a' }],
};
const tagList = (tags: Record<string, string>) => ({ TagList: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) });
const options = { resource, tags: TAGS, resolved: { 'Subnet/default/a': 'subnet-a' } };

describe('DBSubnetGroup handler', () => {
  test('observe: as specified is ready and up to date; another subnet set and description differ', async () => {
    const ctx = stubContext({ DescribeDBSubnetGroupsCommand: { DBSubnetGroups: [group] }, ListTagsForResourceCommand: tagList(TAGS) }, options);
    const observed = await subnetGroupHandler.observe(ctx, spec);
    assert.deepEqual([observed.ready, observed.upToDate, observed.id, observed.status.subnetIDs], [true, true, 'tier', ['subnet-a', 'subnet-b']]);
    const changed = await subnetGroupHandler.observe(ctx, { ...spec, description: 'new', subnetIDs: ['subnet-c'] });
    assert.deepEqual(changed.differences, ['description: the tier -> new', 'subnetIDs: subnet-a,subnet-b -> subnet-a,subnet-c']);
  });

  test('observe: not found is absent', async () => {
    const ctx = stubContext({ DescribeDBSubnetGroupsCommand: awsError('DBSubnetGroupNotFoundFault', { status: 404 }) }, options);
    assert.equal((await subnetGroupHandler.observe(ctx, spec)).exists, false);
  });

  test('create: subnets resolved, tags with the call; an untagged group of the name is AlreadyExists', async () => {
    const ctx = stubContext({ CreateDBSubnetGroupCommand: {} }, options);
    await subnetGroupHandler.create(ctx, spec);
    assert.deepEqual(ctx.callsTo('CreateDBSubnetGroupCommand'), [
      { DBSubnetGroupName: 'tier', DBSubnetGroupDescription: 'the tier', SubnetIds: ['subnet-a', 'subnet-b'], Tags: tagList(TAGS).TagList },
    ]);
    const taken = stubContext(
      {
        CreateDBSubnetGroupCommand: awsError('DBSubnetGroupAlreadyExistsFault'),
        DescribeDBSubnetGroupsCommand: { DBSubnetGroups: [group] },
        ListTagsForResourceCommand: tagList({}),
      },
      options,
    );
    assert.equal(reasonOf(toFailure(await subnetGroupHandler.create(taken, spec).catch((error: unknown) => error))), 'AlreadyExists');
  });

  test('update: subnets and description in one call, tags fixed', async () => {
    const ctx = stubContext(
      {
        DescribeDBSubnetGroupsCommand: { DBSubnetGroups: [group] },
        ListTagsForResourceCommand: tagList({ ...TAGS, Extra: 'x' }),
        ModifyDBSubnetGroupCommand: {},
        RemoveTagsFromResourceCommand: {},
      },
      options,
    );
    await subnetGroupHandler.update(ctx, { ...spec, subnetIDs: ['subnet-c'] }, await subnetGroupHandler.observe(ctx, spec));
    assert.deepEqual(ctx.callsTo('ModifyDBSubnetGroupCommand'), [
      { DBSubnetGroupName: 'tier', DBSubnetGroupDescription: 'the tier', SubnetIds: ['subnet-a', 'subnet-c'] },
    ]);
    assert.deepEqual(ctx.callsTo('RemoveTagsFromResourceCommand'), [{ ResourceName: ARN, TagKeys: ['Extra'] }]);
  });

  test('delete: gone is Deleted; still used by an instance waits', async () => {
    const used = stubContext({ DeleteDBSubnetGroupCommand: awsError('InvalidDBSubnetGroupStateFault') }, { ...options, deleting: true });
    assert.equal(await subnetGroupHandler.delete(used, spec), 'Deleting');
    const gone = stubContext({ DeleteDBSubnetGroupCommand: awsError('DBSubnetGroupNotFoundFault', { status: 404 }) }, { ...options, deleting: true });
    assert.equal(await subnetGroupHandler.delete(gone, spec), 'Deleted');
  });
});
