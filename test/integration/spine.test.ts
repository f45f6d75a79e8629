/**
 * The spine end to end on the real local stack: kube-apiserver + etcd, the
 * Temporal dev server, moto; the operator's worker and watcher as separate
 * processes. Nothing is stubbed: AWS state is read back from moto.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  GetBucketEncryptionCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { OWNER_TAG } from '../../contract/identity.js';
import { historyText } from '../support/history-text.js';
import { awsCredentials, providerName, readyCondition, startHarness, type CustomObject, type Harness } from '../support/harness.js';

let h: Harness;
let s3: S3Client;
let sqs: SQSClient;

before(async () => {
  h = await startHarness();
  const config = {
    region: awsCredentials.region,
    endpoint: h.stack.awsEndpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'verifier', secretAccessKey: 'verifier' },
  };
  s3 = new S3Client(config);
  sqs = new SQSClient(config);
});

after(async () => {
  await h?.teardown();
});

/** The guide's manifests with the local provider name they already use. */
async function example(file: string): Promise<string> {
  return readFile(new URL(`../../examples/${file}`, import.meta.url), 'utf8');
}

function bucketYaml(name: string, bucketName: string, extra = ''): string {
  return `
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: S3Bucket
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  bucketName: ${bucketName}
${extra}`;
}

async function ready(resource: string, name: string, timeoutMs = 30_000): Promise<CustomObject> {
  return h.until(`${resource}/${name} Ready`, async () => {
    const object = await h.get(resource, name);
    return object?.status?.ready === true && object.status.observedGeneration === object.metadata.generation ? object : null;
  }, timeoutMs);
}

async function bucketExists(bucketName: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucketName }));
    return true;
  } catch {
    return false;
  }
}

async function versioning(bucketName: string): Promise<string | undefined> {
  return (await s3.send(new GetBucketVersioningCommand({ Bucket: bucketName }))).Status;
}

async function queueAttributes(queueName: string): Promise<Record<string, string>> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  return (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
}


describe('spine on the real stack', () => {
  test('the provider validates its credentials with STS and reports the account', async () => {
    const provider = await ready('awsproviders', providerName);
    assert.equal(provider.status?.accountID, '123456789012');
    assert.match(String(provider.status?.callerIdentity), /^arn:aws:/);
  });

  test('a provider with roleARN assumes the role through STS, on keys from a credentialsSecret', async () => {
    await h.apply(`
apiVersion: v1
kind: Secret
metadata: { name: legacy-credentials, namespace: default }
type: Opaque
stringData: { AWS_ACCESS_KEY_ID: AKIALEGACYSPELLING01, AWS_SECRET_ACCESS_KEY: ${h.secretAccessKey} }
---
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: AWSProvider
metadata: { name: assumed, namespace: default }
spec:
  region: us-east-1
  endpoint: ${h.proxy.url}
  credentialsSecret: { name: legacy-credentials }
  roleARN: arn:aws:iam::123456789012:role/infra-operator-role
  externalID: infra-operator
`);
    const provider = await ready('awsproviders', 'assumed');
    assert.match(String(provider.status?.callerIdentity), /:assumed-role\/infra-operator-role\/infra-operator$/);
    assert.ok(h.proxy.count('AssumeRole') >= 1, 'STS AssumeRole was called');
    await h.apply(`
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: S3Bucket
metadata: { name: via-role, namespace: default }
spec:
  providerRef: { name: assumed }
  bucketName: via-role-bucket
`);
    await ready('s3buckets', 'via-role');
    assert.ok(await bucketExists('via-role-bucket'));
  });

  test('a provider whose Secret is missing holds its resources Waiting, does not block a Retain deletion, and releases them once the Secret exists', async () => {
    await h.apply(`
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: AWSProvider
metadata: { name: keyless, namespace: default }
spec:
  region: us-east-1
  endpoint: ${h.proxy.url}
  accessKeyIDRef: { name: later-credentials, key: id }
  secretAccessKeyRef: { name: later-credentials, key: secret }
---
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: S3Bucket
metadata: { name: held, namespace: default }
spec:
  providerRef: { name: keyless }
  bucketName: held-bucket
---
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: S3Bucket
metadata: { name: held-retain, namespace: default }
spec:
  providerRef: { name: keyless }
  bucketName: held-retain-bucket
  deletionPolicy: Retain
`);
    const provider = await h.until('provider waiting for its Secret', async () => {
      const object = await h.get('awsproviders', 'keyless');
      return readyCondition(object)?.reason === 'SecretNotFound' ? object : null;
    });
    assert.match(readyCondition(provider)?.message ?? '', /later-credentials/);
    const held = await h.until('bucket waiting for its provider', async () => {
      const object = await h.get('s3buckets', 'held');
      return object?.status?.phase === 'Waiting' ? object : null;
    });
    assert.match(readyCondition(held)?.message ?? '', /AWSProvider default\/keyless is not Ready/);
    await h.kubectl(['delete', 's3bucket', 'held-retain', '--timeout=30s']);
    assert.equal(await h.get('s3buckets', 'held-retain'), null);

    await h.apply(`
apiVersion: v1
kind: Secret
metadata: { name: later-credentials, namespace: default }
type: Opaque
stringData: { id: AKIALATERCREDENTIALS, secret: ${h.secretAccessKey} }
`);
    await ready('awsproviders', 'keyless');
    await ready('s3buckets', 'held');
    assert.ok(await bucketExists('held-bucket'));
    assert.equal(await bucketExists('held-retain-bucket'), false, 'the Retain deletion made no AWS call');
  });

  test("the guide's S3 and SQS manifests become Ready and exist in AWS as written", async () => {
    const started = Date.now();
    await h.apply(await example('s3-bucket.yaml'));
    await h.apply(await example('sqs-queue.yaml'));
    const secure = await ready('s3buckets', 'secure-data-bucket');
    console.log(`apply to Ready (S3Bucket secure-data-bucket): ${Date.now() - started} ms`);
    await ready('s3buckets', 'my-app-data');
    await ready('s3buckets', 'logs-bucket');
    const task = await ready('sqsqueues', 'task-queue', 60_000);
    await ready('sqsqueues', 'orders-queue');

    assert.equal(secure.status?.arn, 'arn:aws:s3:::mycompany-secure-data');
    assert.equal(await versioning('mycompany-secure-data'), 'Enabled');
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'mycompany-secure-data' }));
    assert.equal(encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
    const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'mycompany-secure-data' }));
    assert.deepEqual(block.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    const tags = Object.fromEntries(
      ((await s3.send(new GetBucketTaggingCommand({ Bucket: 'mycompany-secure-data' }))).TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']),
    ) as Record<string, string>;
    assert.equal(tags.Compliance, 'required');
    assert.equal(tags['managed-by'], 'infra-operator', 'provider defaultTags are merged in');
    assert.equal(tags[OWNER_TAG], 'S3Bucket/default/secure-data-bucket');

    const attributes = await queueAttributes('production-task-queue');
    assert.equal(attributes.VisibilityTimeout, '30');
    assert.equal(attributes.MessageRetentionPeriod, '345600');
    assert.equal((JSON.parse(attributes.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string }).deadLetterTargetArn, 'arn:aws:sqs:us-east-1:123456789012:production-dlq');
    assert.equal(task.status?.queueARN, 'arn:aws:sqs:us-east-1:123456789012:production-task-queue');
    assert.equal((await queueAttributes('production-orders.fifo')).FifoQueue, 'true');

    const table = await h.kubectl(['get', 's3buckets,sqsqueues']);
    assert.match(table, /secure-data-bucket\s+mycompany-secure-data\s+true\s+Ready/);
    const described = await h.kubectl(['describe', 's3bucket', 'secure-data-bucket']);
    assert.match(described, /Created/);
    const workflows = h.temporal.workflow.list({ query: `ResourceKind = 'S3Bucket' AND ResourceName = 'secure-data-bucket'` });
    const found: string[] = [];
    for await (const workflow of workflows) found.push(workflow.workflowId);
    assert.deepEqual(found, ['S3Bucket/default/secure-data-bucket'], 'one workflow, findable by kind and name');
  });

  test('editing a CR is applied in AWS', async () => {
    await h.kubectl(['patch', 's3bucket', 'my-app-data', '--type=merge', '-p', '{"spec":{"versioning":{"enabled":true}}}']);
    await h.kubectl(['patch', 'sqsqueue', 'task-queue', '--type=merge', '-p', '{"spec":{"visibilityTimeout":120}}']);
    await h.until('versioning enabled in AWS', async () => (await versioning('mycompany-app-data-prod')) === 'Enabled');
    await h.until('visibility timeout applied', async () => (await queueAttributes('production-task-queue')).VisibilityTimeout === '120');
    await ready('s3buckets', 'my-app-data');
  });

  test('a change made in AWS behind the operator is repaired at the next drift check', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'mycompany-secure-data', VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal(await versioning('mycompany-secure-data'), 'Suspended');
    await h.until('drift repaired', async () => (await versioning('mycompany-secure-data')) === 'Enabled', 20_000);
    // The Event follows the repair; wait for it rather than race it.
    const events = await h.until('a DriftRepaired Event', async () => {
      const list = await h.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=secure-data-bucket', '-o', 'json']);
      return /DriftRepaired/.test(list) ? list : null;
    });
    const messages = (JSON.parse(events) as { items: Array<{ reason: string; message: string }> }).items
      .filter((event) => event.reason === 'DriftRepaired')
      .map((event) => event.message);
    assert.match(messages.join('\n'), /versioning: Suspended -> Enabled/);
  });

  test('a manifest the schema rejects fails at apply with the field named, and nothing is created', async () => {
    await assert.rejects(h.apply(bucketYaml('bad-bucket', 'Bad_Name')), (error: { stderr?: string }) => {
      assert.match(String(error.stderr), /bucketName/);
      return true;
    });
    assert.equal(await h.get('s3buckets', 'bad-bucket'), null);
    await h.kubectl(['patch', 's3bucket', 'logs-bucket', '--type=merge', '-p', '{"spec":{"bucketName":"renamed-logs"}}']).then(
      () => assert.fail('bucketName is immutable'),
      (error: { stderr?: string }) => assert.match(String(error.stderr), /bucketName is immutable/),
    );
  });

  test('a config AWS refuses becomes Ready=False and Terminal with the reason, without a retry storm, until the spec is fixed', async () => {
    // The schema cannot know the VPC's range, so only AWS refuses this subnet.
    const subnetYaml = (cidrBlock: string) => `
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: VPC
metadata: { name: refused-vpc, namespace: default }
spec: { providerRef: { name: ${providerName} }, cidrBlock: 10.91.0.0/16 }
---
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: Subnet
metadata: { name: refused-subnet, namespace: default }
spec: { providerRef: { name: ${providerName} }, vpcRef: { name: refused-vpc }, cidrBlock: ${cidrBlock} }
`;
    await h.apply(subnetYaml('10.92.0.0/24'));
    const refused = await h.until('Ready=False with the AWS reason', async () => {
      const object = await h.get('subnets', 'refused-subnet');
      return readyCondition(object)?.reason === 'InvalidSubnet.Range' ? object : null;
    }, 60_000);
    assert.equal(refused.status?.ready, false);
    assert.match(readyCondition(refused)?.message ?? '', /InvalidSubnet\.Range: /, 'the AWS message, not a generic one');
    assert.match(readyCondition(refused)?.message ?? '', /needs a change to the spec/);
    const terminal = refused.status?.conditions?.find((c) => c.type === 'Terminal');
    assert.deepEqual([terminal?.status, terminal?.reason], ['True', 'InvalidSubnet.Range'], 'a script can tell it from retrying');
    const before = h.proxy.count('CreateSubnet');
    // Wake it as a re-list would, then wait until that pass is over and it
    // waits again: a retry would have come in that pass.
    const workflow = h.temporal.workflow.getHandle('Subnet/default/refused-subnet');
    const since = (await workflow.fetchHistory()).events?.length ?? 0;
    await workflow.signal('resourceChanged', { uid: refused.metadata.uid, generation: refused.metadata.generation, deleting: false });
    await h.until('the woken workflow waiting again', async () =>
      ((await workflow.fetchHistory()).events ?? []).slice(since).some((event) => event.timerStartedEventAttributes),
    );
    assert.equal(h.proxy.count('CreateSubnet'), before, 'not retried while the spec is unchanged');
    const events = await h.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=refused-subnet,type=Warning', '-o', 'json']);
    assert.match(events, /InvalidSubnet\.Range/);
    // cidrBlock is immutable, so the fix is a new subnet: nothing was made
    // in AWS for the refused one, so it goes at once.
    await h.kubectl(['delete', 'subnet', 'refused-subnet']);
    await h.apply(subnetYaml('10.91.1.0/24'));
    const fixed = await ready('subnets', 'refused-subnet', 60_000);
    assert.equal(fixed.status?.conditions?.some((c) => c.type === 'Terminal'), false, 'the Terminal condition is gone once it is fixed');
    await h.kubectl(['delete', 'subnet', 'refused-subnet']);
    await h.kubectl(['delete', 'vpc', 'refused-vpc']);
  });

  for (const policy of ['Delete', 'Retain', 'Orphan'] as const) {
    test(`kubectl delete with deletionPolicy ${policy} ${policy === 'Delete' ? 'removes' : 'keeps'} the bucket and the CR goes`, async () => {
      const name = `policy-${policy.toLowerCase()}`;
      await h.apply(bucketYaml(name, `${name}-bucket`, `  deletionPolicy: ${policy}\n  versioning: { enabled: true }`));
      await ready('s3buckets', name);
      assert.ok(await bucketExists(`${name}-bucket`));
      await h.kubectl(['delete', 's3bucket', name, '--timeout=60s']);
      assert.equal(await h.get('s3buckets', name), null);
      assert.equal(await bucketExists(`${name}-bucket`), policy !== 'Delete');
    });
  }

  test('a CR deleted and at once re-created under the same name gets a fresh AWS resource with the new spec', async () => {
    await h.apply(bucketYaml('reborn', 'reborn-bucket', '  deletionPolicy: Delete'));
    const first = await ready('s3buckets', 'reborn');
    await h.kubectl(['delete', 's3bucket', 'reborn', '--timeout=60s']);
    await h.apply(bucketYaml('reborn', 'reborn-bucket', '  deletionPolicy: Delete\n  versioning: { enabled: true }'));
    const second = await ready('s3buckets', 'reborn', 60_000);
    assert.notEqual(second.metadata.uid, first.metadata.uid);
    assert.ok(await bucketExists('reborn-bucket'));
    assert.equal(await versioning('reborn-bucket'), 'Enabled');
  });

  test('a CR whose finalizer is forced off still has its bucket deleted, per the last known deletionPolicy', async () => {
    await h.apply(bucketYaml('forced', 'forced-bucket', '  deletionPolicy: Delete'));
    await ready('s3buckets', 'forced');
    // With the worker down nothing can put the finalizer back, so the CR is
    // really gone before the workflow sees it again.
    await h.operator.kill('worker');
    await h.kubectl(['patch', 's3bucket', 'forced', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await h.kubectl(['delete', 's3bucket', 'forced', '--timeout=30s']);
    assert.equal(await h.get('s3buckets', 'forced'), null);
    assert.ok(await bucketExists('forced-bucket'), 'nothing deleted the bucket while the worker was down');
    await h.operator.start(['worker']);
    await h.until('bucket deleted in AWS', async () => !(await bucketExists('forced-bucket')), 60_000);
  });

  test('throttling is retried by the AWS call itself, inside one activity attempt; a longer 5xx outage shows in status and heals without a spec change', async () => {
    const s3Error = (status: number, code: string) => ({
      respond: {
        status,
        headers: { 'content-type': 'application/xml' },
        body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the test proxy</Message></Error>`,
      },
    });
    const throttledAt: number[] = [];
    const removeThrottle = h.proxy.intercept((call) => {
      if (call.operation !== 'CreateBucket' || call.path.replace(/\/$/, '') !== '/throttled-bucket' || throttledAt.length >= 3) return undefined;
      throttledAt.push(Date.now());
      return s3Error(503, 'SlowDown');
    });
    let outage = true;
    const removeOutage = h.proxy.intercept((call) =>
      outage && call.operation === 'CreateBucket' && call.path.replace(/\/$/, '') === '/flaky-bucket' ? s3Error(500, 'InternalError') : undefined,
    );
    try {
      await h.apply(bucketYaml('throttled', 'throttled-bucket'));
      await h.apply(bucketYaml('flaky', 'flaky-bucket'));
      await ready('s3buckets', 'throttled', 60_000);
      assert.equal(throttledAt.length, 3);
      // Three attempts per call: the first create attempt got three
      // SlowDowns, and the activity's own retry (attempt 2) one more try.
      const history = await h.temporal.workflow.getHandle('S3Bucket/default/throttled').fetchHistory();
      const createAttempts = (history.events ?? []).filter(
        (event) => event.activityTaskStartedEventAttributes && history.events?.some(
          (scheduled) =>
            Number(scheduled.eventId) === Number(event.activityTaskStartedEventAttributes?.scheduledEventId) &&
            scheduled.activityTaskScheduledEventAttributes?.activityType?.name === 'createResource',
        ),
      );
      assert.deepEqual(
        createAttempts.map((event) => event.activityTaskStartedEventAttributes?.attempt),
        [2],
        'the SDK absorbed the throttling of the first attempt, the activity retried once',
      );

      const failing = await h.until('the outage reported in status', async () => {
        const object = await h.get('s3buckets', 'flaky');
        return readyCondition(object)?.reason === 'InternalError' ? object : null;
      }, 60_000);
      assert.equal(failing.status?.phase, 'Error');
      assert.match(readyCondition(failing)?.message ?? '', /retrying/);
      outage = false;
      await ready('s3buckets', 'flaky', 60_000);
    } finally {
      removeThrottle();
      removeOutage();
    }
    const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets ?? [];
    assert.equal(buckets.filter((b) => b.Name === 'throttled-bucket' || b.Name === 'flaky-bucket').length, 2);
  });

  test('a worker killed after AWS created the bucket but before the activity finished leaves exactly one bucket', async () => {
    const crash = h.crashWorkerAfter((call) => call.operation === 'CreateBucket' && call.path.replace(/\/$/, '') === '/crash-bucket');
    try {
      await h.apply(bucketYaml('crash-bucket', 'crash-bucket'));
      await h.until('the worker crashed mid-create', async () => crash.killed());
      assert.ok(await bucketExists('crash-bucket'), 'AWS made the bucket before the crash');
      await h.operator.start(['worker']);
      const object = await ready('s3buckets', 'crash-bucket', 90_000);
      assert.equal(object.status?.bucketName, 'crash-bucket');
    } finally {
      crash.remove();
    }
    const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets ?? [];
    assert.equal(buckets.filter((b) => b.Name === 'crash-bucket').length, 1);
  });

  test('CRs changed while the watcher was down are all reconciled after it restarts', async () => {
    await h.apply(bucketYaml('while-down-delete', 'while-down-delete', '  deletionPolicy: Delete'));
    await ready('s3buckets', 'while-down-delete');
    await h.operator.kill('watcher');
    await h.apply(bucketYaml('while-down-new', 'while-down-new'));
    await h.kubectl(['patch', 'sqsqueue', 'task-queue', '--type=merge', '-p', '{"spec":{"visibilityTimeout":45}}']);
    await h.kubectl(['delete', 's3bucket', 'while-down-delete', '--wait=false']);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await h.operator.start(['watcher']);
    await ready('s3buckets', 'while-down-new');
    await h.until('queue change applied', async () => (await queueAttributes('production-task-queue')).VisibilityTimeout === '45');
    await h.until('deleted CR gone', async () => (await h.get('s3buckets', 'while-down-delete')) === null);
    assert.equal(await bucketExists('while-down-delete'), false);
  });

  test('the Temporal server restarted while CRs change: nothing is lost and nothing is made twice', async () => {
    await h.stack.stopComponent('temporal');
    await h.apply(bucketYaml('while-temporal-down', 'while-temporal-down', '  versioning: { enabled: true }'));
    await h.kubectl(['patch', 'sqsqueue', 'task-queue', '--type=merge', '-p', '{"spec":{"visibilityTimeout":75}}']);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await h.stack.startComponent('temporal');
    const object = await ready('s3buckets', 'while-temporal-down', 120_000);
    assert.equal(object.status?.bucketName, 'while-temporal-down');
    assert.equal(await versioning('while-temporal-down'), 'Enabled');
    await h.until('queue change applied', async () => (await queueAttributes('production-task-queue')).VisibilityTimeout === '75', 60_000);
    assert.ok(h.operator.running('worker') && h.operator.running('watcher'), 'worker and watcher rode out the outage');
    const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets ?? [];
    assert.equal(buckets.filter((b) => b.Name === 'while-temporal-down').length, 1);
    // Workflows from before the restart are still there and still drift-checking.
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'mycompany-secure-data', VersioningConfiguration: { Status: 'Suspended' } }));
    await h.until('drift repaired after the restart', async () => (await versioning('mycompany-secure-data')) === 'Enabled', 30_000);
  });

  test('no secret value appears in logs, Events, statuses or workflow histories', async () => {
    const secret = h.secretAccessKey;
    assert.ok(!h.operator.output.join('').includes(secret), 'operator logs');
    assert.ok(!(await h.kubectl(['get', 'events', '-A', '-o', 'json'])).includes(secret), 'Events');
    assert.ok(!(await h.kubectl(['get', 'aws', '-A', '-o', 'json'])).includes(secret), 'custom resources');
    let histories = 0;
    for await (const workflow of h.temporal.workflow.list()) {
      const history = await h.temporal.workflow.getHandle(workflow.workflowId, workflow.runId).fetchHistory();
      assert.ok(!historyText(history).includes(secret), `history of ${workflow.workflowId}`);
      histories++;
    }
    assert.ok(histories >= 8, `checked ${histories} histories`);
  });
});
