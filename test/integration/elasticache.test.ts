/**
 * ElastiCache on the real stack: the guide's redis and memcached clusters
 * (examples/elasticache-cluster.yaml) applied as written, with a
 * CacheSubnetGroup; a spec change, drift repair, an AUTH token read from a
 * Secret and rotated, deletion under Retain, Delete, Orphan and Snapshot,
 * an untagged cluster refused until adopted, a creation held for a while
 * (moto is instant) waited out on durable timers, and a scan for the token.
 *
 * moto 5.2.5 never finishes deleting a replication group or cache cluster
 * (it stays `deleting`), so `finishDeletes` below answers "not found" for
 * one a few seconds after its delete call was accepted, as AWS does once
 * the deletion is done. moto has no ModifyCacheCluster, no
 * ModifyCacheSubnetGroup and no DeleteCacheSubnetGroup, and ignores a final
 * snapshot: those are asserted at the proxy (and in the handler tests).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  CreateReplicationGroupCommand,
  DescribeCacheClustersCommand,
  DescribeCacheSubnetGroupsCommand,
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  ListTagsForResourceCommand,
  ModifyReplicationGroupCommand,
  RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-elasticache';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { parseAllDocuments, stringify } from 'yaml';
import { Annotations, OWNER_TAG } from '../../contract/identity.js';
import type { AwsProxy, ProxyCall } from '../support/aws-proxy.js';
import { awsCredentials, providerName, readyCondition, startHarness, type CustomObject, type Harness } from '../support/harness.js';
import { historyText } from '../support/history-text.js';
import { requestedId, slowState, type SlowState } from '../support/slow-state.js';

const MODIFY_MS = 4000;
const DELETE_MS = 3000;
let h: Harness;
let elasticache: ElastiCacheClient;
let slow: SlowState;
let subnetID: string;

/** Answers "not found" for a cluster `afterMs` after AWS accepted its deletion (moto keeps it `deleting` for ever). */
function finishDeletes(proxy: AwsProxy, afterMs: number): () => void {
  const deleted = new Map<string, number>();
  const shapes: Record<string, { idTag: string; code: string }> = {
    DeleteReplicationGroup: { idTag: 'ReplicationGroupId', code: 'ReplicationGroupNotFoundFault' },
    DescribeReplicationGroups: { idTag: 'ReplicationGroupId', code: 'ReplicationGroupNotFoundFault' },
    DeleteCacheCluster: { idTag: 'CacheClusterId', code: 'CacheClusterNotFound' },
    DescribeCacheClusters: { idTag: 'CacheClusterId', code: 'CacheClusterNotFound' },
  };
  return proxy.intercept((call) => {
    const shape = shapes[call.operation];
    const id = shape && requestedId(call, shape.idTag)?.toLowerCase();
    if (!shape || !id) return undefined;
    if (call.operation.startsWith('Delete')) {
      return {
        afterForward: async (_call, status) => {
          if (status < 300 && !deleted.has(id)) deleted.set(id, Date.now());
          return 'pass';
        },
      };
    }
    const at = deleted.get(id);
    if (at === undefined || Date.now() - at < afterMs) return undefined;
    return {
      respond: {
        status: 404,
        headers: { 'content-type': 'text/xml' },
        body: `<ErrorResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/"><Error><Type>Sender</Type><Code>${shape.code}</Code><Message>${id} not found</Message></Error><RequestId>finish-deletes</RequestId></ErrorResponse>`,
      },
    };
  });
}

before(async () => {
  h = await startHarness();
  slow = slowState(h.proxy, {
    itemTag: 'ReplicationGroup',
    idTag: 'ReplicationGroupId',
    statusTag: 'Status',
    createOperations: ['CreateReplicationGroup'],
    modifyOperations: ['ModifyReplicationGroup'],
    describeOperation: 'DescribeReplicationGroups',
    createState: 'creating',
    modifyState: 'modifying',
    createMs: 0,
    modifyMs: MODIFY_MS,
  });
  finishDeletes(h.proxy, DELETE_MS);
  const verifier = { region: awsCredentials.region, endpoint: h.stack.awsEndpoint, credentials: { accessKeyId: 'verifier', secretAccessKey: 'verifier' } };
  elasticache = new ElastiCacheClient(verifier);
  const ec2 = new EC2Client(verifier);
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }));
  const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId, CidrBlock: '10.42.1.0/24' }));
  subnetID = subnet.Subnet?.SubnetId ?? '';
});

after(async () => {
  await h?.teardown();
});

async function ready(resource: string, name: string, timeoutMs = 60_000): Promise<CustomObject> {
  return h.until(`${resource}/${name} Ready`, async () => {
    const object = await h.get(resource, name);
    return object?.status?.ready === true && object.status.observedGeneration === object.metadata.generation ? object : null;
  }, timeoutMs);
}

async function gone(resource: string, name: string, timeoutMs = 60_000): Promise<void> {
  await h.until(`${resource}/${name} gone`, async () => (await h.get(resource, name)) === null, timeoutMs);
}

async function replicationGroup(id: string) {
  const answer = await elasticache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }));
  return answer.ReplicationGroups?.[0];
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const answer = await elasticache.send(new ListTagsForResourceCommand({ ResourceName: arn }));
  return Object.fromEntries((answer.TagList ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

function formValue(call: ProxyCall, key: string): string | null {
  return new URLSearchParams(call.body.toString('utf8')).get(key);
}

function callsFor(operation: string, idTag: string, id: string, since = 0): ProxyCall[] {
  return h.proxy.calls.slice(since).filter((call) => call.operation === operation && requestedId(call, idTag) === id);
}

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown>;
}

/** The example's manifests, with names made unique by `suffix` and the subnet placeholder replaced by a real one. */
async function exampleManifests(suffix: string): Promise<Manifest[]> {
  const text = await readFile(new URL('../../examples/elasticache-cluster.yaml', import.meta.url), 'utf8');
  return parseAllDocuments(text).map((document) => {
    const manifest = document.toJSON() as Manifest;
    manifest.metadata.name = `${manifest.metadata.name}-${suffix}`;
    (manifest.spec.providerRef as { name: string }).name = providerName;
    if (manifest.kind === 'CacheSubnetGroup') {
      manifest.spec.name = `${String(manifest.spec.name)}-${suffix}`;
      manifest.spec.subnetIDs = [subnetID];
    } else {
      manifest.spec.clusterID = `${String(manifest.spec.clusterID)}-${suffix}`;
      if (typeof manifest.spec.subnetGroupName === 'string') manifest.spec.subnetGroupName = `${manifest.spec.subnetGroupName}-${suffix}`;
    }
    return manifest;
  });
}

const yaml = (manifests: Manifest[]): string => manifests.map((manifest) => stringify(manifest)).join('---\n');

function redisYaml(name: string, clusterID: string, extra = ''): string {
  return `
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: ElastiCacheCluster
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  clusterID: ${clusterID}
  engine: redis
  nodeType: cache.t3.micro
${extra}`;
}

describe('ElastiCache on the real stack', () => {
  test("the guide's redis and memcached clusters become Ready as written, take a spec change, repair drift, and delete under Retain and Delete", async () => {
    const [subnetGroup, redis, memcached] = (await exampleManifests('guide')) as [Manifest, Manifest, Manifest];
    const redisID = String(redis.spec.clusterID);
    const memcachedID = String(memcached.spec.clusterID);
    await h.until('provider Ready', async () => (await h.get('awsproviders', providerName))?.status?.ready === true, 120_000);
    const callsBefore = h.proxy.calls.length;
    const started = performance.now();
    await h.apply(yaml([subnetGroup, redis, memcached]));
    const group = await ready('cachesubnetgroups', subnetGroup.metadata.name);
    const groupReadyMs = performance.now() - started;
    const redisObject = await ready('elasticacheclusters', redis.metadata.name);
    const redisReadyMs = performance.now() - started;
    const memcachedObject = await ready('elasticacheclusters', memcached.metadata.name);
    const memcachedReadyMs = performance.now() - started;
    const calls = h.proxy.calls.slice(callsBefore).filter((call) => call.service === 'elasticache');
    const mentioning = (id: string) => calls.filter((call) => call.body.toString('utf8').includes(id) || call.path.includes(id)).length;
    console.log(
      `apply -> Ready: CacheSubnetGroup ${groupReadyMs.toFixed(0)} ms, redis ${redisReadyMs.toFixed(0)} ms, memcached ${memcachedReadyMs.toFixed(0)} ms; ` +
        `${calls.length} ElastiCache calls (${mentioning(String(subnetGroup.spec.name))} naming the subnet group, ${mentioning(redisID)} the redis cluster, ${mentioning(memcachedID)} the memcached cluster)`,
    );

    // AWS as written: the subnet group with its subnet, tagged as ours.
    const awsGroup = (await elasticache.send(new DescribeCacheSubnetGroupsCommand({ CacheSubnetGroupName: String(subnetGroup.spec.name) })))
      .CacheSubnetGroups?.[0];
    assert.deepEqual(awsGroup?.Subnets?.map((subnet) => subnet.SubnetIdentifier), [subnetID]);
    assert.equal(awsGroup?.CacheSubnetGroupDescription, 'Subnets of the production cache clusters');
    assert.equal((await tagsOf(awsGroup?.ARN ?? ''))[OWNER_TAG], `CacheSubnetGroup/default/${subnetGroup.metadata.name}`);
    assert.equal(group.status?.vpcID, awsGroup?.VpcId);

    // The redis cluster: a one-node replication group with the guide's settings.
    const rg = await replicationGroup(redisID);
    assert.equal(rg?.CacheNodeType, 'cache.t3.medium');
    assert.equal(rg?.SnapshotRetentionLimit, 5);
    assert.equal(rg?.SnapshotWindow, '03:00-05:00');
    assert.equal(rg?.TransitEncryptionEnabled, true);
    assert.equal(rg?.AtRestEncryptionEnabled, true);
    assert.equal(rg?.AuthTokenEnabled, false);
    assert.deepEqual(rg?.MemberClusters, [`${redisID}-001`]);
    const create = callsFor('CreateReplicationGroup', 'ReplicationGroupId', redisID)[0];
    assert.ok(create, 'created as a replication group');
    assert.equal(formValue(create, 'CacheSubnetGroupName'), redis.spec.subnetGroupName);
    assert.equal(formValue(create, 'SecurityGroupIds.member.1') ?? formValue(create, 'SecurityGroupIds.SecurityGroupId.1'), 'sg-xxx');
    assert.equal(formValue(create, 'PreferredMaintenanceWindow'), 'sun:05:00-sun:07:00');
    assert.equal(formValue(create, 'EngineVersion'), '7.0');
    const redisTags = await tagsOf(rg?.ARN ?? '');
    assert.equal(redisTags.Application, 'session-store');
    assert.equal(redisTags.Environment, 'production');
    assert.equal(redisTags[OWNER_TAG], `ElastiCacheCluster/default/${redis.metadata.name}`);
    assert.equal(redisObject.status?.clusterID, redisID);
    assert.equal(redisObject.status?.clusterStatus, 'available');
    assert.equal(redisObject.status?.endpoint, rg?.NodeGroups?.[0]?.PrimaryEndpoint?.Address);
    assert.equal(redisObject.status?.port, 6379);
    assert.equal(redisObject.status?.externalID, redisID);

    // The memcached cluster: three nodes across AZs.
    const mc = (await elasticache.send(new DescribeCacheClustersCommand({ CacheClusterId: memcachedID }))).CacheClusters?.[0];
    assert.equal(mc?.Engine, 'memcached');
    assert.equal(mc?.EngineVersion, '1.6.17');
    assert.equal(mc?.NumCacheNodes, 3);
    assert.equal(mc?.CacheNodeType, 'cache.t3.small');
    assert.equal(formValue(callsFor('CreateCacheCluster', 'CacheClusterId', memcachedID)[0], 'AZMode'), 'cross-az');
    assert.equal(memcachedObject.status?.clusterStatus, 'available');

    // A spec change, waited out through `modifying`.
    const beforeChange = h.proxy.calls.length;
    await h.kubectl(['patch', 'elasticachecluster', redis.metadata.name, '--type=merge', '-p', '{"spec":{"snapshotRetentionLimit":7}}']);
    await h.until('the change reported while AWS modifies', async () => {
      const object = await h.get('elasticacheclusters', redis.metadata.name);
      return object?.status?.clusterStatus === 'modifying' && object.status.ready === false;
    });
    await ready('elasticacheclusters', redis.metadata.name);
    assert.equal((await replicationGroup(redisID))?.SnapshotRetentionLimit, 7);
    const modify = callsFor('ModifyReplicationGroup', 'ReplicationGroupId', redisID, beforeChange);
    assert.equal(modify.length, 1, 'one modify call');
    assert.equal(formValue(modify[0], 'ApplyImmediately'), 'true');

    // Drift, made in AWS by hand, repaired: a setting and a tag.
    await elasticache.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: redisID, SnapshotRetentionLimit: 1, ApplyImmediately: true }));
    await h.until('snapshotRetentionLimit repaired', async () => (await replicationGroup(redisID))?.SnapshotRetentionLimit === 7, 60_000);
    await elasticache.send(new RemoveTagsFromResourceCommand({ ResourceName: mc?.ARN ?? '', TagKeys: ['environment'] }));
    await h.until('tag repaired', async () => (await tagsOf(mc?.ARN ?? '')).environment === 'testing', 60_000);
    const events = await h.kubectl(['get', 'events', '--field-selector', `involvedObject.name=${redis.metadata.name}`, '-o', 'json']);
    assert.match(events, /DriftRepaired/);

    // Retain (redis): the CR goes, the cluster stays and is never asked to go.
    const beforeDelete = h.proxy.calls.length;
    await h.kubectl(['delete', 'elasticachecluster', redis.metadata.name, '--wait=false']);
    await gone('elasticacheclusters', redis.metadata.name);
    assert.equal((await replicationGroup(redisID))?.Status, 'available');
    assert.equal(callsFor('DeleteReplicationGroup', 'ReplicationGroupId', redisID, beforeDelete).length, 0);

    // Delete (memcached): deleted in AWS, and the CR waits until it is gone.
    await h.kubectl(['delete', 'elasticachecluster', memcached.metadata.name, '--wait=false']);
    await gone('elasticacheclusters', memcached.metadata.name);
    assert.equal(callsFor('DeleteCacheCluster', 'CacheClusterId', memcachedID, beforeDelete).length, 1);
    const after = (await elasticache.send(new DescribeCacheClustersCommand({ CacheClusterId: memcachedID }))).CacheClusters?.[0];
    assert.equal(after?.CacheClusterStatus, 'deleting', 'moto keeps it deleting; AWS removes it');

    // The subnet group: moto has no DeleteCacheSubnetGroup, so Delete is
    // shown by its call and the error it meets; Orphan then lets the CR go.
    await h.kubectl(['delete', 'cachesubnetgroup', subnetGroup.metadata.name, '--wait=false']);
    await h.until('DeleteCacheSubnetGroup called', async () => h.proxy.count('DeleteCacheSubnetGroup', beforeDelete) > 0);
    await h.until('deletion blocked and reported', async () => {
      const object = await h.get('cachesubnetgroups', subnetGroup.metadata.name);
      return object?.status?.phase === 'Error' || object?.status?.phase === 'Deleting';
    });
    await h.kubectl(['patch', 'cachesubnetgroup', subnetGroup.metadata.name, '--type=merge', '-p', '{"spec":{"deletionPolicy":"Orphan"}}']);
    await gone('cachesubnetgroups', subnetGroup.metadata.name);
  });

  test('an AUTH token from a Secret reaches AWS and the connection Secret, is rotated when the Secret changes, and Snapshot deletes after a final snapshot', async () => {
    const token = `auth-token-${Date.now()}-first-value`;
    const rotated = `auth-token-${Date.now()}-second-value`;
    const clusterID = 'token-redis';
    await h.apply(`
apiVersion: v1
kind: Secret
metadata: { name: redis-auth, namespace: default }
type: Opaque
stringData: { token: ${token} }
---${redisYaml('token-redis', clusterID, `  transitEncryptionEnabled: true
  authTokenSecretRef: { name: redis-auth, key: token }
  writeConnectionSecretToRef: { name: token-redis-connection }
  deletionPolicy: Snapshot
`)}`);
    const object = await ready('elasticacheclusters', 'token-redis');
    assert.equal((await replicationGroup(clusterID))?.AuthTokenEnabled, true);
    assert.equal(formValue(callsFor('CreateReplicationGroup', 'ReplicationGroupId', clusterID)[0], 'AuthToken'), token);
    const connection = async () => {
      const secret = await h.get<{ data?: Record<string, string> }>('secret', 'token-redis-connection');
      return Object.fromEntries(Object.entries(secret?.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
    };
    const details = await h.until('connection Secret written', async () => {
      const found = await connection();
      return found.authToken ? found : null;
    });
    assert.equal(details.authToken, token);
    assert.equal(details.endpoint, object.status?.endpoint);
    assert.equal(details.port, '6379');
    assert.equal(details.region, awsCredentials.region);
    const secret = await h.get('secret', 'redis-auth');
    assert.ok(secret?.metadata.finalizers?.includes('aws-infra-operator.runner.codes/in-use'), 'the token Secret is kept while the cluster needs it');

    const beforeRotation = h.proxy.calls.length;
    await h.kubectl(['patch', 'secret', 'redis-auth', '--type=merge', '-p', JSON.stringify({ stringData: { token: rotated } })]);
    const rotation = await h.until('token rotated in AWS', async () =>
      callsFor('ModifyReplicationGroup', 'ReplicationGroupId', clusterID, beforeRotation).find((call) => formValue(call, 'AuthToken') !== null),
    60_000);
    assert.equal(formValue(rotation, 'AuthToken'), rotated);
    assert.equal(formValue(rotation, 'AuthTokenUpdateStrategy'), 'ROTATE');
    await h.until('connection Secret has the new token', async () => (await connection()).authToken === rotated, 60_000);
    await ready('elasticacheclusters', 'token-redis');
    const rotations = callsFor('ModifyReplicationGroup', 'ReplicationGroupId', clusterID, beforeRotation).length;
    await h.until('a few resyncs', async () => h.proxy.count('DescribeReplicationGroups', beforeRotation) > 12, 60_000);
    assert.equal(callsFor('ModifyReplicationGroup', 'ReplicationGroupId', clusterID, beforeRotation).length, rotations, 'rotated once, not on every pass');

    const beforeDelete = h.proxy.calls.length;
    await h.kubectl(['delete', 'elasticachecluster', 'token-redis', '--wait=false']);
    await gone('elasticacheclusters', 'token-redis');
    const deletes = callsFor('DeleteReplicationGroup', 'ReplicationGroupId', clusterID, beforeDelete);
    assert.equal(deletes.length, 1);
    const uid = object.metadata.uid.replace(/-/g, '').slice(0, 8);
    assert.equal(formValue(deletes[0], 'FinalSnapshotIdentifier'), `${clusterID}-final-${uid}`);
    assert.equal(await h.get('secret', 'token-redis-connection'), null, 'the connection Secret goes with the cluster');
    await h.until('the token Secret released', async () => !(await h.get('secret', 'redis-auth'))?.metadata.finalizers?.length);

    // The token never left the activities: not in logs, Events, statuses or histories.
    for (const value of [token, rotated]) {
      assert.ok(!h.operator.output.join('').includes(value), 'operator logs');
      assert.ok(!(await h.kubectl(['get', 'events', '-A', '-o', 'json'])).includes(value), 'Events');
      assert.ok(!(await h.kubectl(['get', 'aws', '-A', '-o', 'json'])).includes(value), 'custom resources');
      let histories = 0;
      let readable = 0;
      for await (const workflow of h.temporal.workflow.list()) {
        const history = await h.temporal.workflow.getHandle(workflow.workflowId, workflow.runId).fetchHistory();
        const text = historyText(history);
        assert.ok(!text.includes(value), `history of ${workflow.workflowId}`);
        if (text.includes('redis-auth')) readable++;
        histories++;
      }
      assert.ok(histories >= 3, `checked ${histories} histories`);
      // The scan reads payloads: the spec naming the token's Secret is there in plain text.
      assert.ok(readable >= 1, 'no history showed the spec in plain text: the scan would not see a token either');
    }
  });

  test('Orphan keeps the cluster; an untagged cluster of the name is refused until adopted', async () => {
    await h.apply(redisYaml('orphan-redis', 'orphan-redis', '  deletionPolicy: Orphan\n'));
    await ready('elasticacheclusters', 'orphan-redis');
    const beforeDelete = h.proxy.calls.length;
    await h.kubectl(['delete', 'elasticachecluster', 'orphan-redis', '--wait=false']);
    await gone('elasticacheclusters', 'orphan-redis');
    assert.equal((await replicationGroup('orphan-redis'))?.Status, 'available');
    assert.equal(callsFor('DeleteReplicationGroup', 'ReplicationGroupId', 'orphan-redis', beforeDelete).length, 0);

    await elasticache.send(
      new CreateReplicationGroupCommand({ ReplicationGroupId: 'made-by-hand', ReplicationGroupDescription: 'not ours', Engine: 'redis', CacheNodeType: 'cache.t3.micro' }),
    );
    await h.apply(redisYaml('by-hand', 'made-by-hand', '  deletionPolicy: Retain\n'));
    await h.until('AlreadyExists', async () => readyCondition(await h.get('elasticacheclusters', 'by-hand'))?.reason === 'AlreadyExists');
    const arn = (await replicationGroup('made-by-hand'))?.ARN ?? '';
    assert.equal((await tagsOf(arn))[OWNER_TAG], undefined, 'nothing changed on a cluster not ours');
    await h.kubectl(['annotate', 'elasticachecluster', 'by-hand', `${Annotations.adoptionPolicy}=adopt`]);
    await ready('elasticacheclusters', 'by-hand');
    assert.equal((await tagsOf(arn))[OWNER_TAG], 'ElastiCacheCluster/default/by-hand');
    await h.kubectl(['delete', 'elasticachecluster', 'by-hand', '--wait=false']);
    await gone('elasticacheclusters', 'by-hand');
  });

  test('a creation AWS holds in `creating` is waited out on durable timers: about one describe per 15 s, no activity pending', async () => {
    const HOLD_MS = 60_000;
    const clusterID = 'held-redis';
    slow.hold(clusterID, 'creating', HOLD_MS);
    const holdEnds = slow.heldUntil(clusterID) ?? 0;
    const started = performance.now();
    await h.apply(redisYaml('held-redis', clusterID, '  deletionPolicy: Delete\n'));
    await h.until('reported creating', async () => (await h.get('elasticacheclusters', 'held-redis'))?.status?.clusterStatus === 'creating');
    const sinceCreating = h.proxy.calls.length;
    const workflow = h.temporal.workflow.getHandle('ElastiCacheCluster/default/held-redis');
    let samples = 0;
    let withPending = 0;
    while (Date.now() < holdEnds - 1000) {
      const description = await workflow.describe();
      samples++;
      if ((description.raw.pendingActivities?.length ?? 0) > 0) withPending++;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const describes = callsFor('DescribeReplicationGroups', 'ReplicationGroupId', clusterID, sinceCreating).length;
    const object = await ready('elasticacheclusters', 'held-redis', 60_000);
    const readyMs = performance.now() - started;
    const heldSeconds = (holdEnds - Date.now() + readyMs) / 1000;
    console.log(
      `held creating for ${HOLD_MS / 1000} s: ${describes} DescribeReplicationGroups during the hold, ` +
        `${withPending} of ${samples} one-second samples with an activity pending, Ready ${readyMs.toFixed(0)} ms after apply`,
    );
    assert.ok(Date.now() >= holdEnds - 500, `not Ready before AWS is available (${heldSeconds.toFixed(1)} s)`);
    assert.equal(object.status?.clusterStatus, 'available');
    // Backoff 1, 2, 4, 8, then 15 s: about 7 in a minute; AWS's waiters poll every 15-30 s.
    assert.ok(describes >= 3 && describes <= 10, `${describes} describes in ${HOLD_MS / 1000} s`);
    // An observe takes milliseconds on a busy machine too; a sample may catch one, a held slot would show in most.
    assert.ok(withPending <= Math.ceil(samples / 10), `${withPending} of ${samples} samples caught an activity pending`);
    await h.kubectl(['delete', 'elasticachecluster', 'held-redis', '--wait=false']);
    await gone('elasticacheclusters', 'held-redis');
  });
});
