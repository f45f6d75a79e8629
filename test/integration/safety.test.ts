/**
 * Safe by default, on the real stack: the operator never takes over, changes
 * or deletes an AWS resource that is not its own (another cluster's, one
 * made by hand), changes nothing while observe-only or paused, keeps a
 * bucket's data unless told to destroy it, keeps a provider to the
 * namespaces it allows, and still deletes everything when a provider and
 * its resources, or a whole namespace, go at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTagsCommand, DescribeVpcsCommand, EC2Client, type Vpc } from '@aws-sdk/client-ec2';
import {
  CreateBucketCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Annotations, CLUSTER_TAG, FINALIZER, OWNER_TAG, SECRET_IN_USE_FINALIZER } from '../../contract/identity.js';
import { awsCredentials, providerName, providerYaml, startHarness, startSecondCluster, type CustomObject, type Harness } from '../support/harness.js';
import type { ProxyCall } from '../support/aws-proxy.js';

const API = 'aws-infra-operator.runner.codes/v1alpha1';
/** Long enough for a slow 2-core machine; every wait below ends as soon as its state is reached. */
const WAIT_MS = 90_000;

let h: Harness;
let s3: S3Client;
let sqs: SQSClient;
let ec2: EC2Client;

before(async () => {
  h = await startHarness();
  const config = {
    region: awsCredentials.region,
    endpoint: h.stack.awsEndpoint,
    credentials: { accessKeyId: 'verifier', secretAccessKey: 'verifier' },
  };
  s3 = new S3Client({ ...config, forcePathStyle: true });
  sqs = new SQSClient(config);
  ec2 = new EC2Client(config);
});

after(async () => {
  await h?.teardown();
});

// ---------------------------------------------------------------------------
// Kubernetes helpers, for either cluster.

/** What the tests need of a cluster: the harness, or a second cluster. */
interface Cluster {
  kubectl(args: string[], stdin?: string): Promise<string>;
  apply(yaml: string): Promise<void>;
  until<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
}

interface KubeEvent {
  type: string;
  reason: string;
  message: string;
  involvedObject: { uid?: string };
}

/** The object as JSON, or null when it does not exist. */
async function getObject<T = CustomObject>(cluster: Cluster, resource: string, name: string, namespace = 'default'): Promise<T | null> {
  try {
    return JSON.parse(await cluster.kubectl(['get', resource, name, '-n', namespace, '-o', 'json'])) as T;
  } catch (error) {
    if (String((error as { stderr?: string }).stderr).includes('NotFound')) return null;
    throw error;
  }
}

function conditionOf(object: CustomObject | null, type: string) {
  return object?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the object is Ready for its current generation. */
async function ready(cluster: Cluster, resource: string, name: string, namespace = 'default'): Promise<CustomObject> {
  return waitForObject(cluster, resource, name, namespace, 'Ready', (object) =>
    object.status?.ready === true && object.status.observedGeneration === object.metadata.generation,
  );
}

/** Waits until the Ready condition has `reason`. */
async function readyReason(cluster: Cluster, resource: string, name: string, reason: string, namespace = 'default'): Promise<CustomObject> {
  return waitForObject(
    cluster,
    resource,
    name,
    namespace,
    `with Ready reason ${reason}`,
    (object) => conditionOf(object, 'Ready')?.reason === reason,
  );
}

/** Waits until the object satisfies `check`; a timeout names the status last seen. */
async function waitForObject(
  cluster: Cluster,
  resource: string,
  name: string,
  namespace: string,
  what: string,
  check: (object: CustomObject) => boolean,
): Promise<CustomObject> {
  // A holder, not a `let`: the closure assigns it, which narrowing cannot see.
  const seen: { last?: CustomObject | null } = {};
  try {
    return await cluster.until(
      `${resource} ${namespace}/${name} ${what}`,
      async () => {
        const object = await getObject(cluster, resource, name, namespace);
        seen.last = object;
        return object && check(object) ? object : null;
      },
      WAIT_MS,
    );
  } catch (error) {
    const last = seen.last;
    const events = (await eventsFor(cluster, name, namespace).catch(() => []))
      .map((event) => `${event.type} ${event.reason}: ${event.message}`)
      .join('\n  ');
    throw new Error(
      `${(error as Error).message}\nlast seen: ${JSON.stringify({ metadata: last?.metadata, status: last?.status })}\nEvents:\n  ${events}`,
      { cause: error },
    );
  }
}

async function gone(cluster: Cluster, resource: string, name: string, namespace = 'default'): Promise<void> {
  await cluster.until(
    `${resource} ${namespace}/${name} gone`,
    async () => (await getObject(cluster, resource, name, namespace)) === null,
    WAIT_MS,
  );
}

/** Events about one object (by name, and by uid when given). */
async function eventsFor(cluster: Cluster, name: string, namespace = 'default', uid?: string): Promise<KubeEvent[]> {
  const list = JSON.parse(
    await cluster.kubectl(['get', 'events', '-n', namespace, '--field-selector', `involvedObject.name=${name}`, '-o', 'json']),
  ) as { items: KubeEvent[] };
  return list.items.filter((event) => uid === undefined || event.involvedObject.uid === uid);
}

async function waitForEvent(cluster: Cluster, name: string, reason: string, namespace = 'default', uid?: string): Promise<KubeEvent> {
  return cluster.until(
    `an Event ${reason} for ${namespace}/${name}`,
    async () => (await eventsFor(cluster, name, namespace, uid)).find((event) => event.reason === reason),
    WAIT_MS,
  );
}

async function kubeSystemUID(cluster: Cluster): Promise<string> {
  return (await cluster.kubectl(['get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.uid}'])).trim();
}

/** Where a manifest goes and what it adds: `extra` is more spec lines, indented two spaces. */
interface ManifestOptions {
  namespace?: string;
  provider?: string;
  extra?: string;
  annotations?: Record<string, string>;
}

function bucketYaml(name: string, bucketName: string, options: ManifestOptions = {}): string {
  const annotations = options.annotations ? `\n  annotations: ${JSON.stringify(options.annotations)}` : '';
  return `
apiVersion: ${API}
kind: S3Bucket
metadata:
  name: ${name}
  namespace: ${options.namespace ?? 'default'}${annotations}
spec:
  providerRef: { name: ${options.provider ?? providerName} }
  bucketName: ${bucketName}
${options.extra ?? ''}
`;
}

function queueYaml(name: string, queueName: string, options: ManifestOptions = {}): string {
  const annotations = options.annotations ? `\n  annotations: ${JSON.stringify(options.annotations)}` : '';
  return `
apiVersion: ${API}
kind: SQSQueue
metadata:
  name: ${name}
  namespace: ${options.namespace ?? 'default'}${annotations}
spec:
  providerRef: { name: ${options.provider ?? providerName} }
  queueName: ${queueName}
${options.extra ?? ''}
`;
}

function vpcYaml(name: string, cidrBlock: string): string {
  return `
apiVersion: ${API}
kind: VPC
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  cidrBlock: "${cidrBlock}"
  deletionPolicy: Delete
`;
}

// ---------------------------------------------------------------------------
// AWS helpers: read moto directly, not through the proxy, so they never count.

async function bucketExists(bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch {
    return false;
  }
}

async function objectExists(bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

async function bucketTags(bucket: string): Promise<Record<string, string>> {
  try {
    const { TagSet } = await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    return Object.fromEntries((TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchTagSet') return {};
    throw error;
  }
}

async function queueUrl(queueName: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl;
  } catch {
    return undefined;
  }
}

async function queueAttributes(url: string): Promise<Record<string, string>> {
  return (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes ?? {};
}

async function queueTags(url: string): Promise<Record<string, string>> {
  return (await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {};
}

function vpcTags(vpc: Vpc | undefined): Record<string, string> {
  return Object.fromEntries((vpc?.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

async function vpcsOwnedBy(owner: string): Promise<Vpc[]> {
  return (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: `tag:${OWNER_TAG}`, Values: [owner] }] }))).Vpcs ?? [];
}

async function vpcByID(id: string): Promise<Vpc | undefined> {
  try {
    return (await ec2.send(new DescribeVpcsCommand({ VpcIds: [id] }))).Vpcs?.find((vpc) => vpc.VpcId === id);
  } catch (error) {
    if ((error as { name?: string }).name === 'InvalidVpcID.NotFound') return undefined;
    throw error;
  }
}

// ---------------------------------------------------------------------------
// Proxy and workflow helpers.

/** Reads, by AWS's naming: everything else may change something. */
function isRead(call: ProxyCall): boolean {
  return /^(Get|List|Describe|Head)/.test(call.operation);
}

/** Calls since `since` that name `name` in their path or body (a bucket or queue name). */
function callsMentioning(name: string, since = 0): ProxyCall[] {
  return h.proxy.calls.slice(since).filter((call) => call.path.includes(name) || call.body.toString('utf8').includes(name));
}

function describeCalls(calls: ProxyCall[]): string {
  return calls.map((call) => `${call.operation} ${call.method} ${call.path}`).join(', ');
}

/** How many durable timers of a workflow fired: each one is a wait that ran out, then another pass. */
async function timersFired(workflowId: string): Promise<number> {
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((event) => event.timerFiredEventAttributes).length;
}

/** Waits until the workflow has made at least `passes` more passes after timing out its wait. */
async function morePasses(workflowId: string, passes: number): Promise<void> {
  const start = await timersFired(workflowId);
  await h.until(`${passes} more passes of ${workflowId}`, async () => (await timersFired(workflowId)) >= start + passes + 1, WAIT_MS);
}

async function workflowClosed(workflowId: string): Promise<void> {
  await h.until(
    `workflow ${workflowId} closed`,
    async () => (await h.temporal.workflow.getHandle(workflowId).describe()).status.name !== 'RUNNING',
    WAIT_MS,
  );
}

function assertNoSecretIn(output: string[], where: string): void {
  assert.ok(!output.join('').includes(h.secretAccessKey), `the secret access key appears in ${where}`);
}

describe('safe by default, on the real stack', () => {
  test('two clusters sharing one AWS account keep their same-named resources apart', async () => {
    const b = await startSecondCluster(h);
    try {
      const clusterA = await kubeSystemUID(h);
      assert.notEqual(clusterA, b.clusterID, 'two API servers, two kube-system UIDs');

      const vpc = vpcYaml('app-vpc', '10.20.0.0/16');
      await Promise.all([h.apply(vpc), b.apply(vpc)]);
      const [vpcA, vpcB] = await Promise.all([ready(h, 'vpcs', 'app-vpc'), ready(b, 'vpcs', 'app-vpc')]);
      const idA = String(vpcA.status?.vpcID);
      const idB = String(vpcB.status?.vpcID);
      assert.match(idA, /^vpc-/);
      assert.match(idB, /^vpc-/);
      assert.notEqual(idA, idB, 'each cluster made a VPC of its own');
      assert.equal(vpcA.status?.externalID, idA);
      assert.equal(vpcB.status?.externalID, idB);

      const owned = await vpcsOwnedBy('VPC/default/app-vpc');
      assert.deepEqual(owned.map((v) => v.VpcId).sort(), [idA, idB].sort(), 'exactly the two VPCs carry the owner tag');
      assert.equal(vpcTags(owned.find((v) => v.VpcId === idA))[CLUSTER_TAG], clusterA);
      assert.equal(vpcTags(owned.find((v) => v.VpcId === idB))[CLUSTER_TAG], b.clusterID);

      // Neither takes the other's VPC for a duplicate of its own: let both
      // pass several drift checks. Each cluster's drift sweep lists the VPCs
      // carrying its own cluster tag, so the calls naming each cluster's ID
      // count its passes.
      const since = h.proxy.calls.length;
      const sweepsOf = (clusterID: string) =>
        h.proxy.calls.slice(since).filter((call) => call.operation === 'DescribeVpcs' && call.body.toString('utf8').includes(clusterID)).length;
      await h.until('three drift sweeps of app-vpc in each cluster', async () => sweepsOf(clusterA) >= 3 && sweepsOf(b.clusterID) >= 3, WAIT_MS);
      assert.ok(h.proxy.count('DescribeVpcs', since) >= 6, 'both clusters looked at AWS meanwhile');
      assert.equal(h.proxy.count('DeleteVpc', since), 0, 'no VPC was deleted as a duplicate');
      assert.ok(await vpcByID(idA), `cluster A's VPC ${idA} still exists`);
      assert.ok(await vpcByID(idB), `cluster B's VPC ${idB} still exists`);
      assert.equal((await vpcsOwnedBy('VPC/default/app-vpc')).length, 2);

      // A queue has a name: the second cluster must not take cluster A's.
      const queue = queueYaml('shared-queue', 'safety-shared-queue');
      await h.apply(queue);
      await ready(h, 'sqsqueues', 'shared-queue');
      const url = await queueUrl('safety-shared-queue');
      assert.ok(url, 'the queue exists');
      assert.equal((await queueTags(url))[CLUSTER_TAG], clusterA);
      const beforeB = h.proxy.calls.length;
      await b.apply(queue);
      const refused = await readyReason(b, 'sqsqueues', 'shared-queue', 'AlreadyManaged');
      assert.equal(refused.status?.ready, false);
      assert.match(conditionOf(refused, 'Ready')?.message ?? '', /in cluster/);
      assert.match(conditionOf(refused, 'Ready')?.message ?? '', new RegExp(clusterA));
      const tags = await queueTags(url);
      assert.equal(tags[CLUSTER_TAG], clusterA, "the queue's tags still say cluster A");
      assert.equal(tags[OWNER_TAG], 'SQSQueue/default/shared-queue');
      const writes = callsMentioning('safety-shared-queue', beforeB).filter((call) => !isRead(call) && call.operation !== 'CreateQueue');
      assert.deepEqual(describeCalls(writes), '', 'cluster B changed nothing of the queue');

      // Deleting cluster B's VPC removes its VPC only.
      await b.kubectl(['delete', 'vpc', 'app-vpc', '--wait=false']);
      await gone(b, 'vpcs', 'app-vpc');
      await h.until(`cluster B's VPC ${idB} deleted`, async () => (await vpcByID(idB)) === undefined, WAIT_MS);
      assert.ok(await vpcByID(idA), `cluster A's VPC ${idA} stays`);
      assert.equal((await ready(h, 'vpcs', 'app-vpc')).status?.vpcID, idA);

      // Deleting cluster B's refused queue leaves cluster A's queue alone.
      await b.kubectl(['delete', 'sqsqueue', 'shared-queue', '--timeout=90s']);
      assert.ok(await queueUrl('safety-shared-queue'), "cluster A's queue stays");
      assert.equal((await queueTags(url))[CLUSTER_TAG], clusterA);
      assertNoSecretIn(b.operator.output, "the second cluster's operator output");
    } finally {
      await b.teardown();
    }
  });

  test('an owner tag removed by hand is put back on the same VPC, and no second VPC is made', async () => {
    await h.apply(vpcYaml('retagged-vpc', '10.30.0.0/16'));
    const first = await ready(h, 'vpcs', 'retagged-vpc');
    const id = String(first.status?.vpcID);
    assert.equal(first.status?.externalID, id);
    const owner = 'VPC/default/retagged-vpc';
    const since = h.proxy.calls.length;
    await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: OWNER_TAG }] }));
    assert.equal(vpcTags(await vpcByID(id))[OWNER_TAG], undefined, 'the owner tag is gone');

    await h.until('the owner tag back on the VPC', async () => vpcTags(await vpcByID(id))[OWNER_TAG] === owner, WAIT_MS);
    const object = await ready(h, 'vpcs', 'retagged-vpc');
    const owned = await vpcsOwnedBy(owner);
    assert.deepEqual(owned.map((v) => v.VpcId), [id], 'exactly one VPC carries the owner tag');
    assert.equal(object.status?.externalID, id);
    assert.equal(object.status?.vpcID, id);
    assert.equal(h.proxy.count('CreateVpc', since), 0, 'no VPC was created');
  });

  test('a bucket and a queue made outside the operator are left alone until adopted', async () => {
    const bucket = 'safety-handmade-bucket';
    const queueName = 'safety-handmade-queue';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'team', Value: 'data' }] } }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep.txt', Body: 'precious' }));
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: queueName, tags: { team: 'data' } }))).QueueUrl;
    assert.ok(url);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'precious' }));
    const attributesBefore = await queueAttributes(url);

    const since = h.proxy.calls.length;
    await h.apply(bucketYaml('handmade-bucket', bucket) + '---' + queueYaml('handmade-queue', queueName));
    for (const [resource, name] of [['s3buckets', 'handmade-bucket'], ['sqsqueues', 'handmade-queue']] as const) {
      const object = await readyReason(h, resource, name, 'AlreadyExists');
      assert.equal(object.status?.ready, false);
      assert.equal(object.status?.phase, 'Error');
      const message = conditionOf(object, 'Ready')?.message ?? '';
      assert.match(message, /already exists and was not created by this operator/);
      assert.match(message, /adoption-policy=adopt/);
      const event = await waitForEvent(h, name, 'AlreadyExists', 'default', object.metadata.uid);
      assert.equal(event.type, 'Warning');
    }
    assert.deepEqual(await bucketTags(bucket), { team: 'data' }, 'bucket tags unchanged');
    assert.deepEqual(await queueTags(url), { team: 'data' }, 'queue tags unchanged');
    const attributesAfter = await queueAttributes(url);
    assert.equal(attributesAfter.VisibilityTimeout, attributesBefore.VisibilityTimeout);
    assert.equal(attributesAfter.LastModifiedTimestamp, attributesBefore.LastModifiedTimestamp, 'no queue attribute written');
    const writes = [...callsMentioning(bucket, since), ...callsMentioning(queueName, since)].filter(
      (call) => !isRead(call) && !call.operation.startsWith('Create'),
    );
    assert.equal(describeCalls(writes), '', 'no write to the existing bucket or queue');

    const uids = {
      bucket: (await getObject(h, 's3buckets', 'handmade-bucket'))?.metadata.uid,
      queue: (await getObject(h, 'sqsqueues', 'handmade-queue'))?.metadata.uid,
    };
    await h.kubectl(['delete', 's3bucket', 'handmade-bucket', '--timeout=90s']);
    await h.kubectl(['delete', 'sqsqueue', 'handmade-queue', '--timeout=90s']);
    assert.equal(await getObject(h, 's3buckets', 'handmade-bucket'), null);
    assert.equal(await getObject(h, 'sqsqueues', 'handmade-queue'), null);
    await waitForEvent(h, 'handmade-bucket', 'Released', 'default', uids.bucket);
    await waitForEvent(h, 'handmade-queue', 'Released', 'default', uids.queue);
    assert.ok(await objectExists(bucket, 'keep.txt'), 'the object is still there');
    assert.equal((await queueAttributes(url)).ApproximateNumberOfMessages, '1', 'the message is still there');
    assert.deepEqual(await bucketTags(bucket), { team: 'data' });

    // Adopted on request: managed from then on, with our tags.
    const adopt = { [Annotations.adoptionPolicy]: 'adopt' };
    await h.apply(
      bucketYaml('handmade-bucket', bucket, { annotations: adopt, extra: '  deletionPolicy: Orphan' }) +
        '---\n' +
        queueYaml('handmade-queue', queueName, { annotations: adopt, extra: '  deletionPolicy: Orphan' }),
    );
    const clusterID = await kubeSystemUID(h);
    for (const [resource, name] of [['s3buckets', 'handmade-bucket'], ['sqsqueues', 'handmade-queue']] as const) {
      const object = await ready(h, resource, name);
      const adopted = conditionOf(object, 'Adopted');
      assert.equal(adopted?.status, 'True', `${name} has condition Adopted`);
      assert.equal(adopted?.reason, 'Adopted');
      await waitForEvent(h, name, 'Adopted', 'default', object.metadata.uid);
    }
    const adoptedBucketTags = await bucketTags(bucket);
    assert.equal(adoptedBucketTags[OWNER_TAG], 'S3Bucket/default/handmade-bucket');
    assert.equal(adoptedBucketTags[CLUSTER_TAG], clusterID);
    const adoptedQueueTags = await queueTags(url);
    assert.equal(adoptedQueueTags[OWNER_TAG], 'SQSQueue/default/handmade-queue');
    assert.equal(adoptedQueueTags[CLUSTER_TAG], clusterID);
    assert.ok(await objectExists(bucket, 'keep.txt'), 'adoption keeps the data');

    await h.kubectl(['delete', 's3bucket', 'handmade-bucket', '--timeout=90s']);
    await h.kubectl(['delete', 'sqsqueue', 'handmade-queue', '--timeout=90s']);
    assert.ok(await bucketExists(bucket), 'Orphan keeps the bucket');
    assert.ok(await queueUrl(queueName), 'Orphan keeps the queue');
  });

  test('deleting a non-empty bucket waits for forceDestroy and keeps its data until then', async () => {
    const bucket = 'safety-full-bucket';
    await h.apply(bucketYaml('full-bucket', bucket, { extra: '  deletionPolicy: Delete' }));
    await ready(h, 's3buckets', 'full-bucket');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'data.csv', Body: 'a,b\n1,2\n' }));

    await h.kubectl(['delete', 's3bucket', 'full-bucket', '--wait=false']);
    const waiting = await readyReason(h, 's3buckets', 'full-bucket', 'BucketNotEmpty');
    assert.ok(waiting.metadata.deletionTimestamp, 'the CR is being deleted');
    assert.ok(waiting.metadata.finalizers?.includes(FINALIZER), 'the finalizer is kept');
    assert.match(conditionOf(waiting, 'Ready')?.message ?? '', /forceDestroy/);
    assert.ok(await objectExists(bucket, 'data.csv'), 'the object is still there');
    assert.ok(await bucketExists(bucket));
    // Still so after more passes: it waits, it does not give up or empty it.
    await morePasses('S3Bucket/default/full-bucket', 1);
    assert.ok(await getObject(h, 's3buckets', 'full-bucket'), 'the CR is still there');
    assert.ok(await objectExists(bucket, 'data.csv'), 'the object is still there after more passes');

    await h.kubectl(['patch', 's3bucket', 'full-bucket', '--type=merge', '-p', '{"spec":{"forceDestroy":true}}']);
    await gone(h, 's3buckets', 'full-bucket');
    assert.equal(await bucketExists(bucket), false, 'forceDestroy emptied and deleted the bucket');
  });

  test('observe-only reads a queue and reports drift, and never writes, creates or deletes', async () => {
    const queueName = 'safety-observed-queue';
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: { VisibilityTimeout: '30' } }))).QueueUrl;
    assert.ok(url);
    const since = h.proxy.calls.length;
    await h.apply(
      queueYaml('observed-queue', queueName, {
        annotations: { [Annotations.managementPolicy]: 'Observe' },
        extra: '  visibilityTimeout: 60',
      }),
    );
    const object = await ready(h, 'sqsqueues', 'observed-queue');
    assert.equal(conditionOf(object, 'Ready')?.reason, 'Observed');
    const synced = conditionOf(object, 'Synced');
    assert.equal(synced?.status, 'False');
    assert.equal(synced?.reason, 'DriftDetected');
    assert.match(synced?.message ?? '', /visibilityTimeout/i);
    assert.equal(object.status?.queueURL, url, 'status is filled from AWS');
    assert.ok(!(object.metadata.finalizers ?? []).includes(FINALIZER), 'no finalizer');
    const drift = await waitForEvent(h, 'observed-queue', 'DriftDetected', 'default', object.metadata.uid);
    assert.equal(drift.type, 'Warning');

    await morePasses('SQSQueue/default/observed-queue', 2);
    assert.equal(describeCalls(callsMentioning(queueName, since).filter((call) => !isRead(call))), '', 'only reads');
    assert.ok(callsMentioning(queueName, since).length > 0, 'it did read the queue');
    assert.equal((await queueAttributes(url)).VisibilityTimeout, '30', 'the drift is not repaired');

    await h.kubectl(['delete', 'sqsqueue', 'observed-queue', '--timeout=60s']);
    await workflowClosed('SQSQueue/default/observed-queue');
    assert.ok(await queueUrl(queueName), 'the queue still exists');
    assert.equal(describeCalls(callsMentioning(queueName, since).filter((call) => !isRead(call))), '', 'only reads, deletion included');
  });

  test('a paused bucket makes no AWS call until the annotation is removed', async () => {
    const bucket = 'safety-paused-bucket';
    const since = h.proxy.calls.length;
    await h.apply(bucketYaml('paused-bucket', bucket, { annotations: { [Annotations.paused]: 'true' } }));
    const paused = await h.until(
      'condition Paused',
      async () => {
        const object = await getObject(h, 's3buckets', 'paused-bucket');
        return conditionOf(object, 'Paused')?.status === 'True' ? object : null;
      },
      WAIT_MS,
    );
    assert.notEqual(paused.status?.ready, true);
    await morePasses('S3Bucket/default/paused-bucket', 1);
    assert.equal(describeCalls(callsMentioning(bucket, since)), '', 'no AWS call for the paused bucket');
    assert.equal(await bucketExists(bucket), false);

    await h.kubectl(['annotate', 's3bucket', 'paused-bucket', `${Annotations.paused}-`]);
    await ready(h, 's3buckets', 'paused-bucket');
    assert.ok(await bucketExists(bucket), 'created once resumed');
  });

  test('a provider in another namespace is refused until it allows that namespace', async () => {
    const bucket = 'safety-team-a-bucket';
    await h.kubectl(['create', 'namespace', 'team-a']);
    const since = h.proxy.calls.length;
    await h.apply(`
apiVersion: ${API}
kind: S3Bucket
metadata: { name: team-bucket, namespace: team-a }
spec:
  providerRef: { name: ${providerName}, namespace: default }
  bucketName: ${bucket}
`);
    const refused = await readyReason(h, 's3buckets', 'team-bucket', 'ProviderNamespaceNotAllowed', 'team-a');
    assert.equal(refused.status?.phase, 'Waiting');
    assert.match(conditionOf(refused, 'Ready')?.message ?? '', /allowedNamespaces/);
    assert.equal(describeCalls(callsMentioning(bucket, since)), '', 'no AWS call for the refused bucket');
    assert.equal(await bucketExists(bucket), false);

    await h.kubectl(['patch', 'awsprovider', providerName, '--type=merge', '-p', '{"spec":{"allowedNamespaces":["team-a"]}}']);
    await ready(h, 's3buckets', 'team-bucket', 'team-a');
    assert.ok(await bucketExists(bucket), 'created once allowed');
  });

  test('a provider, its Secret and its resources deleted with one kubectl delete -f all go', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'safety-'));
    const file = join(dir, 'provider-and-resources.yaml');
    const bucket = 'safety-together-bucket';
    const queueName = 'safety-together-queue';
    try {
      await writeFile(
        file,
        `${providerYaml({ provider: 'together-aws', secret: 'together-credentials', endpoint: h.proxy.url, secretAccessKey: h.secretAccessKey })}---${bucketYaml('together-bucket', bucket, { provider: 'together-aws' })}
---${queueYaml('together-queue', queueName, { provider: 'together-aws' })}`,
      );
      await h.kubectl(['apply', '-f', file]);
      await ready(h, 'awsproviders', 'together-aws');
      await ready(h, 's3buckets', 'together-bucket');
      await ready(h, 'sqsqueues', 'together-queue');
      assert.ok(await bucketExists(bucket));
      assert.ok(await queueUrl(queueName));
      const secret = await getObject<{ metadata: { finalizers?: string[] } }>(h, 'secret', 'together-credentials');
      assert.ok(secret?.metadata.finalizers?.includes(SECRET_IN_USE_FINALIZER), 'the Secret carries the in-use finalizer');

      const started = Date.now();
      await h.kubectl(['delete', '-f', file, '--wait=false']);
      let inUse: string | undefined;
      let secretWentFirst: string | undefined;
      await h.until(
        'provider, Secret, CRs, bucket and queue all gone',
        async () => {
          // The Secret first: gone then, and a CR still there after, means it went before a user of its keys.
          const secret = await getObject(h, 'secret', 'together-credentials');
          const provider = await getObject(h, 'awsproviders', 'together-aws');
          const condition = conditionOf(provider, 'Ready');
          if (condition?.reason === 'InUse') inUse ??= condition.message;
          const users = await Promise.all([getObject(h, 's3buckets', 'together-bucket'), getObject(h, 'sqsqueues', 'together-queue')]);
          const left = [provider, ...users].flatMap((object) => (object ? [object.metadata.name] : []));
          if (secret === null && left.length) secretWentFirst ??= left.join(', ');
          return secret === null && left.length === 0 && !(await bucketExists(bucket)) && !(await queueUrl(queueName));
        },
        WAIT_MS,
      );
      console.log(`delete -f provider+resources: ${Date.now() - started} ms${inUse ? '' : ' (InUse not observed)'}`);
      if (inUse !== undefined) assert.match(inUse, /S3Bucket default\/together-bucket|SQSQueue default\/together-queue/);
      assert.equal(secretWentFirst, undefined, `the Secret was gone while ${secretWentFirst ?? ''} still existed`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a namespace's resources, provider and Secret all go when it is deleted, Events refused or not", async () => {
    const bucket = 'safety-doomed-bucket';
    const queueName = 'safety-doomed-queue';
    await h.kubectl(['create', 'namespace', 'doomed']);
    await h.apply(`${providerYaml({
      provider: 'doomed-aws',
      secret: 'doomed-credentials',
      namespace: 'doomed',
      endpoint: h.proxy.url,
      secretAccessKey: h.secretAccessKey,
    })}---${bucketYaml('doomed-bucket', bucket, { namespace: 'doomed', provider: 'doomed-aws' })}
---${queueYaml('doomed-queue', queueName, { namespace: 'doomed', provider: 'doomed-aws' })}`);
    await ready(h, 'awsproviders', 'doomed-aws', 'doomed');
    await ready(h, 's3buckets', 'doomed-bucket', 'doomed');
    await ready(h, 'sqsqueues', 'doomed-queue', 'doomed');
    assert.ok(await bucketExists(bucket));
    assert.ok(await queueUrl(queueName));

    await h.kubectl(['delete', 'namespace', 'doomed', '--wait=false']);
    const namespace = await h.until(
      'namespace doomed Terminating',
      async () => {
        const object = await getObject<{ status?: { phase?: string } }>(h, 'namespace', 'doomed');
        return object?.status?.phase === 'Terminating' ? object : null;
      },
      WAIT_MS,
    );
    assert.equal(namespace.status?.phase, 'Terminating');
    // What the namespace controller would do (this stack runs none).
    await h.kubectl(['delete', 's3buckets,sqsqueues,awsproviders', '--all', '-n', 'doomed', '--wait=false']);
    await h.kubectl(['delete', 'secrets', '--all', '-n', 'doomed', '--wait=false']);

    const started = Date.now();
    let secretWentFirst: string | undefined;
    await h.until(
      'nothing left in namespace doomed, bucket and queue gone',
      async () => {
        // The Secret first, as above: gone then, and a CR still there after, means it went too early.
        const secret = await getObject(h, 'secret', 'doomed-credentials', 'doomed');
        const list = JSON.parse(await h.kubectl(['get', 's3buckets,sqsqueues,awsproviders', '-n', 'doomed', '-o', 'json'])) as {
          items: Array<{ kind: string; metadata: { name: string } }>;
        };
        if (secret === null && list.items.length) {
          secretWentFirst ??= list.items.map((item) => `${item.kind} ${item.metadata.name}`).join(', ');
        }
        return secret === null && list.items.length === 0 && !(await bucketExists(bucket)) && !(await queueUrl(queueName));
      },
      WAIT_MS,
    );
    console.log(`namespace doomed emptied: ${Date.now() - started} ms`);
    assert.equal(secretWentFirst, undefined, `the Secret was gone while ${secretWentFirst ?? ''} still existed`);
    const secrets = JSON.parse(await h.kubectl(['get', 'secrets', '-n', 'doomed', '-o', 'json'])) as { items: unknown[] };
    assert.equal(secrets.items.length, 0, 'no Secret left in doomed');
  });

  test('the secret access key never appears in the operator output', () => {
    assertNoSecretIn(h.operator.output, 'the operator output');
  });
});
