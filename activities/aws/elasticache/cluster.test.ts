import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CacheCluster, ReplicationGroup } from '@aws-sdk/client-elasticache';
import type { ElastiCacheClusterSpec } from '../../../crds/kinds/elasticache-cluster.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { toFailure } from '../activities.js';
import { TEST_CLUSTER_ID, awsError, failure, reasonOf, stubContext, type StubResponse } from '../testing.js';
import { AUTH_TOKEN_VERSION_TAG, elastiCacheClusterHandler as handler, engineVersionMatches, finalSnapshotName, lifecycleOf } from './cluster.js';

const resource = { kind: 'ElastiCacheCluster', namespace: 'default', name: 'sessions', uid: '0a1b2c3d-4e5f-6789-abcd-ef0123456789' };
const OURS = { [OWNER_TAG]: 'ElastiCacheCluster/default/sessions', [CLUSTER_TAG]: TEST_CLUSTER_ID };
const ARN = 'arn:aws:elasticache:us-east-1:123456789012:replicationgroup:sessions';
const TOKEN = { value: 'the-token-value-0123456789', version: 'secret:uid-s:7' };

const redis: ElastiCacheClusterSpec = {
  providerRef: { name: 'aws' },
  clusterID: 'sessions',
  engine: 'redis',
  engineVersion: '7.0',
  nodeType: 'cache.t3.medium',
  securityGroupIDs: ['sg-1'],
  snapshotRetentionLimit: 5,
  snapshotWindow: '03:00-05:00',
  preferredMaintenanceWindow: 'sun:05:00-sun:07:00',
  transitEncryptionEnabled: true,
  atRestEncryptionEnabled: true,
  authTokenSecretRef: { name: 'auth', key: 'token' },
};

function group(overrides: Partial<ReplicationGroup> = {}): ReplicationGroup {
  return {
    ReplicationGroupId: 'sessions',
    Status: 'available',
    MemberClusters: ['sessions-001'],
    NodeGroups: [{ PrimaryEndpoint: { Address: 'master.sessions.cache.amazonaws.com', Port: 6379 } }],
    CacheNodeType: 'cache.t3.medium',
    SnapshotRetentionLimit: 5,
    SnapshotWindow: '03:00-05:00',
    TransitEncryptionEnabled: true,
    AtRestEncryptionEnabled: true,
    AuthTokenEnabled: true,
    ARN,
    ...overrides,
  };
}

const member: CacheCluster = {
  CacheClusterId: 'sessions-001',
  EngineVersion: '7.0.7',
  SecurityGroups: [{ SecurityGroupId: 'sg-1' }],
  PreferredMaintenanceWindow: 'sun:05:00-sun:07:00',
};

function redisAws(overrides: Partial<ReplicationGroup> = {}, tags: Record<string, string> = { ...OURS, [AUTH_TOKEN_VERSION_TAG]: TOKEN.version }) {
  return {
    DescribeReplicationGroupsCommand: { ReplicationGroups: [group(overrides)] },
    DescribeCacheClustersCommand: { CacheClusters: [member] },
    ListTagsForResourceCommand: { TagList: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
  } satisfies Record<string, StubResponse>;
}

const context = (responses: Record<string, StubResponse>, secrets = { 'auth/token': TOKEN }) => stubContext(responses, { resource, secrets });

describe('ElastiCacheCluster handler', () => {
  test('a redis cluster as specified is up to date and ready, with the primary endpoint in status', async () => {
    const observed = await handler.observe(context(redisAws()), redis);
    assert.deepEqual(observed.differences, []);
    assert.equal(observed.ready, true);
    assert.equal(observed.lifecycle, 'Available');
    assert.equal(observed.id, 'sessions');
    assert.deepEqual(observed.status, {
      clusterID: 'sessions',
      clusterStatus: 'available',
      arn: ARN,
      endpoint: 'master.sessions.cache.amazonaws.com',
      port: 6379,
      engineVersion: '7.0.7',
    });
  });

  test('creating is waited on: not ready, Pending, nothing compared while AWS refuses changes', async () => {
    const stub = context(redisAws({ Status: 'creating', SnapshotRetentionLimit: 0 }));
    const observed = await handler.observe(stub, redis);
    assert.equal(observed.ready, false);
    assert.equal(observed.lifecycle, 'Pending');
    assert.deepEqual(observed.differences, []);
    assert.equal(stub.callsTo('DescribeCacheClustersCommand').length, 0, 'the member is read only once available');
  });

  test('a cluster without our tags is unmanaged; one with another owner is reported as theirs', async () => {
    assert.equal((await handler.observe(context(redisAws({}, {})), redis)).unmanaged, true);
    const theirs = await handler.observe(context(redisAws({}, { [OWNER_TAG]: 'ElastiCacheCluster/other/x', [CLUSTER_TAG]: TEST_CLUSTER_ID })), redis);
    assert.equal(theirs.ownedBy, 'ElastiCacheCluster/other/x');
  });

  test('not found is absent, never an error', async () => {
    const observed = await handler.observe(context({ DescribeReplicationGroupsCommand: awsError('ReplicationGroupNotFoundFault', { status: 404 }) }), redis);
    assert.equal(observed.exists, false);
  });

  test('redis is created as a one-node replication group with the token, encryption and tags (the token version, never the value, in a tag)', async () => {
    const stub = context({ CreateReplicationGroupCommand: {} });
    await handler.create(stub, redis);
    const [input] = stub.callsTo('CreateReplicationGroupCommand');
    assert.equal(input?.ReplicationGroupId, 'sessions');
    assert.equal(input?.NumCacheClusters, 1);
    assert.equal(input?.AuthToken, TOKEN.value);
    assert.equal(input?.AtRestEncryptionEnabled, true);
    assert.equal(input?.TransitEncryptionEnabled, true);
    assert.deepEqual(input?.SecurityGroupIds, ['sg-1']);
    const tags = input?.Tags as Array<{ Key: string; Value: string }>;
    assert.deepEqual(Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value])), { ...OURS, [AUTH_TOKEN_VERSION_TAG]: TOKEN.version });
  });

  test('memcached is a cache cluster of numCacheNodes nodes, with azMode and references resolved', async () => {
    const stub = stubContext(
      { CreateCacheClusterCommand: {} },
      { resource, resolved: { 'CacheSubnetGroup/default/cache-subnets': 'cache-subnets', 'SecurityGroup/default/cache': 'sg-9' } },
    );
    await handler.create(stub, {
      providerRef: { name: 'aws' },
      clusterID: 'objects',
      engine: 'memcached',
      nodeType: 'cache.t3.small',
      numCacheNodes: 3,
      azMode: 'cross-az',
      subnetGroupRef: { name: 'cache-subnets' },
      securityGroupRefs: [{ name: 'cache' }],
    });
    const [input] = stub.callsTo('CreateCacheClusterCommand');
    assert.equal(input?.NumCacheNodes, 3);
    assert.equal(input?.AZMode, 'cross-az');
    assert.equal(input?.CacheSubnetGroupName, 'cache-subnets');
    assert.deepEqual(input?.SecurityGroupIds, ['sg-9']);
  });

  test('a create that meets an untagged cluster of the name refuses it (AlreadyExists); another resource\'s is OwnedByAnotherResource', async () => {
    const exists = { CreateReplicationGroupCommand: awsError('ReplicationGroupAlreadyExistsFault') };
    const untagged = await failure(handler.create(context({ ...redisAws({}, {}), ...exists }), redis).catch((error: unknown) => Promise.reject(toFailure(error))));
    assert.equal(reasonOf(untagged), 'AlreadyExists');
    const theirs = context({ ...redisAws({}, { [OWNER_TAG]: 'ElastiCacheCluster/other/x', [CLUSTER_TAG]: TEST_CLUSTER_ID }), ...exists });
    const owned = await failure(handler.create(theirs, redis).catch((error: unknown) => Promise.reject(toFailure(error))));
    assert.equal(reasonOf(owned), 'OwnedByAnotherResource');
    // Our own earlier attempt: nothing to do.
    await handler.create(context({ ...redisAws(), ...exists }), redis);
  });

  test('a changed setting is one ModifyReplicationGroup applied immediately; a token change waits for the next pass', async () => {
    const aws = redisAws({ SnapshotRetentionLimit: 1 }, { ...OURS, [AUTH_TOKEN_VERSION_TAG]: 'secret:uid-s:6' });
    const observed = await handler.observe(context(aws), redis);
    assert.deepEqual(observed.differences, ['snapshotRetentionLimit: 1 -> 5', 'authToken: its Secret changed since the token was applied: rotating']);
    assert.ok(!observed.differences.join().includes(TOKEN.value));
    const stub = context({ ...aws, ModifyReplicationGroupCommand: {}, AddTagsToResourceCommand: {} });
    await handler.update(stub, redis, observed);
    const modifies = stub.callsTo('ModifyReplicationGroupCommand');
    assert.deepEqual(modifies, [{ SnapshotRetentionLimit: 5, ReplicationGroupId: 'sessions', ApplyImmediately: true }]);
    assert.equal(stub.callsTo('AddTagsToResourceCommand').length, 0, 'the old token version stays until the token is applied');
  });

  test('a changed token is rotated alone (ROTATE), then its version is tagged', async () => {
    const aws = redisAws({}, { ...OURS, [AUTH_TOKEN_VERSION_TAG]: 'secret:uid-s:6' });
    const stub = context({ ...aws, ModifyReplicationGroupCommand: {}, AddTagsToResourceCommand: {} });
    await handler.update(stub, redis, await handler.observe(context(aws), redis));
    assert.deepEqual(stub.callsTo('ModifyReplicationGroupCommand'), [
      { ReplicationGroupId: 'sessions', AuthToken: TOKEN.value, AuthTokenUpdateStrategy: 'ROTATE', ApplyImmediately: true },
    ]);
    assert.deepEqual(stub.callsTo('AddTagsToResourceCommand'), [{ ResourceName: ARN, Tags: [{ Key: AUTH_TOKEN_VERSION_TAG, Value: TOKEN.version }] }]);
    assert.deepEqual(stub.commandNames().slice(-2), ['ModifyReplicationGroupCommand', 'AddTagsToResourceCommand']);
  });

  test('a field fixed at creation that differs in AWS is terminal (ImmutableFieldChanged), and nothing is modified', async () => {
    const aws = redisAws({ AtRestEncryptionEnabled: false });
    const stub = context({ ...aws, ModifyReplicationGroupCommand: {} });
    const error = await failure(handler.update(stub, redis, await handler.observe(context(aws), redis)).catch((e: unknown) => Promise.reject(toFailure(e, handler.errorCodes))));
    assert.equal(reasonOf(error), 'ImmutableFieldChanged');
    assert.equal(error.nonRetryable, true);
    assert.equal(stub.callsTo('ModifyReplicationGroupCommand').length, 0);
  });

  test('memcached scaling in removes the newest nodes', async () => {
    const memcached: ElastiCacheClusterSpec = { providerRef: { name: 'aws' }, clusterID: 'objects', engine: 'memcached', nodeType: 'cache.t3.small', numCacheNodes: 2 };
    const cluster: CacheCluster = {
      CacheClusterId: 'objects',
      CacheClusterStatus: 'available',
      CacheNodeType: 'cache.t3.small',
      NumCacheNodes: 4,
      CacheNodes: [{ CacheNodeId: '0001' }, { CacheNodeId: '0002' }, { CacheNodeId: '0003' }, { CacheNodeId: '0004' }],
      ConfigurationEndpoint: { Address: 'objects.cfg.cache.amazonaws.com', Port: 11211 },
      ARN: 'arn:aws:elasticache:us-east-1:123456789012:cluster:objects',
    };
    const tags = { TagList: Object.entries({ ...OURS }).map(([Key, Value]) => ({ Key, Value })) };
    const stub = stubContext({ DescribeCacheClustersCommand: { CacheClusters: [cluster] }, ListTagsForResourceCommand: tags, ModifyCacheClusterCommand: {} }, { resource });
    const observed = await handler.observe(stub, memcached);
    assert.deepEqual(observed.differences, ['numCacheNodes: 4 -> 2']);
    assert.equal(observed.status.endpoint, 'objects.cfg.cache.amazonaws.com');
    await handler.update(stub, memcached, observed);
    assert.deepEqual(stub.callsTo('ModifyCacheClusterCommand'), [
      { NumCacheNodes: 2, CacheNodeIdsToRemove: ['0004', '0003'], CacheClusterId: 'objects', ApplyImmediately: true },
    ]);
  });

  test('deletionPolicy Snapshot deletes with a final snapshot named from clusterID and uid; Delete without', async () => {
    const snapshotting = context({ ...redisAws(), DeleteReplicationGroupCommand: {} });
    assert.equal(await handler.delete(snapshotting, { ...redis, deletionPolicy: 'Snapshot' }), 'Deleting');
    assert.deepEqual(snapshotting.callsTo('DeleteReplicationGroupCommand'), [
      { ReplicationGroupId: 'sessions', RetainPrimaryCluster: false, FinalSnapshotIdentifier: 'sessions-final-0a1b2c3d' },
    ]);
    const plain = context({ ...redisAws(), DeleteReplicationGroupCommand: {} });
    await handler.delete(plain, { ...redis, deletionPolicy: 'Delete' });
    assert.deepEqual(plain.callsTo('DeleteReplicationGroupCommand'), [{ ReplicationGroupId: 'sessions', RetainPrimaryCluster: false }]);
    assert.equal(finalSnapshotName('sessions', resource.uid), 'sessions-final-0a1b2c3d');
  });

  test('delete waits while AWS is creating or already deleting, and is done once the cluster is gone', async () => {
    for (const status of ['creating', 'deleting']) {
      const stub = context(redisAws({ Status: status }));
      assert.equal(await handler.delete(stub, redis), 'Deleting', status);
      assert.equal(stub.callsTo('DeleteReplicationGroupCommand').length, 0, status);
    }
    const gone = context({ DescribeReplicationGroupsCommand: awsError('ReplicationGroupNotFoundFault', { status: 404 }) });
    assert.equal(await handler.delete(gone, redis), 'Deleted');
  });

  test('connection details: endpoint, port, region and the token from its Secret', async () => {
    const stub = context(redisAws());
    const observed = await handler.observe(stub, redis);
    const details = await handler.connectionDetails!(stub, redis, observed);
    assert.deepEqual(details, {
      endpoint: 'master.sessions.cache.amazonaws.com',
      port: '6379',
      engine: 'redis',
      clusterID: 'sessions',
      region: 'us-east-1',
      authToken: TOKEN.value,
    });
  });

  test('statuses map onto the workflow lifecycle; "7.0" matches 7.0.7', () => {
    assert.equal(lifecycleOf('modifying'), 'Pending');
    assert.equal(lifecycleOf('snapshotting'), 'Pending');
    assert.equal(lifecycleOf('create-failed'), 'Failed');
    assert.equal(lifecycleOf('deleting'), 'Deleting');
    assert.ok(engineVersionMatches('7.0', '7.0.7'));
    assert.ok(!engineVersionMatches('7.0', '7.1.0'));
    assert.ok(!engineVersionMatches('7', '70.1'));
  });
});
