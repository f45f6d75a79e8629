import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CacheSubnetGroupSpec } from '../../../crds/kinds/cache-subnet-group.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { toFailure } from '../activities.js';
import { TEST_CLUSTER_ID, awsError, failure, reasonOf, stubContext, type StubResponse } from '../testing.js';
import { cacheSubnetGroupHandler as handler } from './subnet-group.js';

const resource = { kind: 'CacheSubnetGroup', namespace: 'default', name: 'cache-subnets', uid: 'uid-1' };
const OURS = { [OWNER_TAG]: 'CacheSubnetGroup/default/cache-subnets', [CLUSTER_TAG]: TEST_CLUSTER_ID };
const ARN = 'arn:aws:elasticache:us-east-1:123456789012:subnetgroup:cache-subnets';
const spec: CacheSubnetGroupSpec = {
  providerRef: { name: 'aws' },
  name: 'cache-subnets',
  description: 'cache tier',
  subnetIDs: ['subnet-1'],
  subnetRefs: [{ name: 'private-b' }],
};
const resolved = { 'Subnet/default/private-b': 'subnet-2' };

function aws(subnets: string[], tags: Record<string, string> = OURS, description = 'cache tier'): Record<string, StubResponse> {
  return {
    DescribeCacheSubnetGroupsCommand: {
      CacheSubnetGroups: [
        { CacheSubnetGroupName: 'cache-subnets', CacheSubnetGroupDescription: description, VpcId: 'vpc-1', ARN, Subnets: subnets.map((id) => ({ SubnetIdentifier: id })) },
      ],
    },
    ListTagsForResourceCommand: { TagList: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
  };
}

describe('CacheSubnetGroup handler', () => {
  test('subnetIDs and resolved subnetRefs together, compared as a set', async () => {
    const observed = await handler.observe(stubContext(aws(['subnet-2', 'subnet-1']), { resource, resolved }), spec);
    assert.deepEqual(observed.differences, []);
    assert.deepEqual(observed.status, { cacheSubnetGroupName: 'cache-subnets', arn: ARN, vpcID: 'vpc-1', subnetIDs: ['subnet-2', 'subnet-1'] });
    const drifted = await handler.observe(stubContext(aws(['subnet-1'], {}, 'other'), { resource, resolved }), spec);
    assert.equal(drifted.unmanaged, true);
    assert.deepEqual(drifted.differences, [
      'description: "other" -> "cache tier"',
      'subnetIDs: subnet-1 -> subnet-1,subnet-2',
      `tags: +${CLUSTER_TAG}, +${OWNER_TAG}`,
    ]);
  });

  test('create tags in the call; an untagged group of the name is AlreadyExists and left alone', async () => {
    const stub = stubContext({ CreateCacheSubnetGroupCommand: {} }, { resource, resolved });
    await handler.create(stub, spec);
    const [input] = stub.callsTo('CreateCacheSubnetGroupCommand');
    assert.deepEqual(input?.SubnetIds, ['subnet-1', 'subnet-2']);
    assert.deepEqual(input?.Tags, Object.entries(OURS).map(([Key, Value]) => ({ Key, Value })));
    const exists = stubContext({ ...aws(['subnet-1'], {}), CreateCacheSubnetGroupCommand: awsError('CacheSubnetGroupAlreadyExistsFault') }, { resource, resolved });
    const error = await failure(handler.create(exists, spec).catch((e: unknown) => Promise.reject(toFailure(e, handler.errorCodes))));
    assert.equal(reasonOf(error), 'AlreadyExists');
    assert.deepEqual(exists.commandNames(), ['CreateCacheSubnetGroupCommand', 'DescribeCacheSubnetGroupsCommand', 'ListTagsForResourceCommand']);
  });

  test('update modifies subnets and description in one call, and tags', async () => {
    const stub = stubContext(
      { ...aws(['subnet-1'], { ...OURS, extra: 'x' }), ModifyCacheSubnetGroupCommand: {}, RemoveTagsFromResourceCommand: {} },
      { resource, resolved },
    );
    await handler.update(stub, spec, await handler.observe(stub, spec));
    assert.deepEqual(stub.callsTo('ModifyCacheSubnetGroupCommand'), [
      { CacheSubnetGroupName: 'cache-subnets', CacheSubnetGroupDescription: 'cache tier', SubnetIds: ['subnet-1', 'subnet-2'] },
    ]);
    assert.deepEqual(stub.callsTo('RemoveTagsFromResourceCommand'), [{ ResourceName: ARN, TagKeys: ['extra'] }]);
  });

  test('delete waits while a cluster still uses the group, and is done when it is gone', async () => {
    const inUse = stubContext({ DeleteCacheSubnetGroupCommand: awsError('CacheSubnetGroupInUse') }, { resource, deleting: true });
    assert.equal(await handler.delete(inUse, spec), 'Deleting');
    const gone = stubContext({ DeleteCacheSubnetGroupCommand: awsError('CacheSubnetGroupNotFoundFault') }, { resource, deleting: true });
    assert.equal(await handler.delete(gone, spec), 'Deleted');
  });
});
