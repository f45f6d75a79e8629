/**
 * SNS topics and connection Secrets on the real local stack: the guide's SNS
 * manifests, a spec change, drift repair, a topic delivering to a queue it
 * refers to (whose own policy and drift repair never fight the topic's
 * statement), deletion under each policy, and the connection Secrets of
 * SQSQueue, S3Bucket and SNSTopic. AWS state is read back from moto.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTagsForResourceCommand,
  PublishCommand,
  SNSClient,
  SetTopicAttributesCommand,
  SubscribeCommand,
  type Subscription,
} from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { OWNER_TAG } from '../../contract/identity.js';
import { TOPIC_GRANT_SID_PREFIX } from '../../activities/aws/sqs/queue-policy.js';
import { awsCredentials, providerName, startHarness, type CustomObject, type Harness } from '../support/harness.js';

const ACCOUNT = '123456789012';
let h: Harness;
let sns: SNSClient;
let sqs: SQSClient;
let s3: S3Client;

before(async () => {
  h = await startHarness();
  const config = {
    region: awsCredentials.region,
    endpoint: h.stack.awsEndpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'verifier', secretAccessKey: 'verifier' },
  };
  sns = new SNSClient(config);
  sqs = new SQSClient(config);
  s3 = new S3Client(config);
});

after(async () => {
  await h?.teardown();
});

const topicArn = (name: string) => `arn:aws:sns:us-east-1:${ACCOUNT}:${name}`;
const queueArn = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;

async function ready(resource: string, name: string, timeoutMs = 90_000): Promise<CustomObject> {
  return h.until(`${resource}/${name} Ready`, async () => {
    const object = await h.get(resource, name);
    return object?.status?.ready === true && object.status.observedGeneration === object.metadata.generation ? object : null;
  }, timeoutMs);
}

async function topicAttributes(name: string): Promise<Record<string, string> | undefined> {
  try {
    return (await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn(name) }))).Attributes ?? {};
  } catch {
    return undefined;
  }
}

async function subscriptions(name: string): Promise<Subscription[]> {
  return (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn(name) }))).Subscriptions ?? [];
}

async function queueUrl(name: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch {
    return undefined;
  }
}

interface PolicyStatement {
  Sid?: string;
  Condition?: { ArnEquals?: { 'aws:SourceArn'?: string } };
  Principal?: unknown;
  Action?: unknown;
}

async function queueStatements(name: string): Promise<PolicyStatement[]> {
  const url = await queueUrl(name);
  const policy = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['Policy'] }))).Attributes?.Policy;
  return policy ? ((JSON.parse(policy) as { Statement: PolicyStatement[] }).Statement ?? []) : [];
}

const grantFor = (statements: PolicyStatement[], topic: string) =>
  statements.find((s) => s.Sid?.startsWith(TOPIC_GRANT_SID_PREFIX) && s.Condition?.ArnEquals?.['aws:SourceArn'] === topicArn(topic));

interface SecretObject {
  metadata: { ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }> };
  data?: Record<string, string>;
}

/** The connection Secret once it exists, its data decoded. */
async function connectionSecret(name: string): Promise<{ secret: SecretObject; data: Record<string, string> }> {
  const secret = await h.until(`Secret ${name}`, () => h.get<SecretObject>('secret', name));
  const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
  return { secret, data };
}

function assertOwnedBy(secret: SecretObject, object: CustomObject, kind: string): void {
  const owners = secret.metadata.ownerReferences ?? [];
  assert.equal(owners.length, 1, 'one owner');
  assert.deepEqual([owners[0]?.kind, owners[0]?.name, owners[0]?.uid, owners[0]?.controller], [kind, object.metadata.name, object.metadata.uid, true]);
}

function queueYaml(name: string, queueName: string, extra = ''): string {
  return `
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: SQSQueue
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  queueName: ${queueName}
${extra}`;
}

function topicYaml(name: string, topicName: string, extra = ''): string {
  return `
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: SNSTopic
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  topicName: ${topicName}
${extra}`;
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

async function bucketExists(bucketName: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucketName }));
    return true;
  } catch {
    return false;
  }
}

describe('SNS topics on the real stack', () => {
  test("the guide's SNS manifests become Ready and exist in AWS as written", async () => {
    const since = h.proxy.calls.length;
    const started = Date.now();
    await h.apply(await readFile(new URL('../../examples/sns-topic.yaml', import.meta.url), 'utf8'));
    // The first apply also waits for the provider and a freshly started worker.
    const notifications = await ready('snstopics', 'notifications', 180_000);
    console.log(`apply to Ready (SNSTopic notifications, with its two queues): ${Date.now() - started} ms`);
    const orders = await ready('snstopics', 'order-events');
    const snsCalls = h.proxy.calls.slice(since).filter((call) => call.service === 'sns');
    console.log(`SNS calls for two topics from apply to Ready: ${snsCalls.length} (${[...new Set(snsCalls.map((c) => c.operation))].map((op) => `${op} ${snsCalls.filter((c) => c.operation === op).length}`).join(', ')})`);
    assert.equal(h.proxy.count('CreateTopic', since), 2, 'one CreateTopic per topic');

    assert.equal(notifications.status?.topicARN, topicArn('production-notifications'));
    assert.equal(notifications.status?.externalID, topicArn('production-notifications'), 'the recorded ID is the ARN');
    assert.equal(notifications.status?.subscriptionsConfirmed, 2);
    assert.equal(notifications.status?.subscriptionsPending, 0);
    const attributes = await topicAttributes('production-notifications');
    assert.equal(attributes?.DisplayName, 'Production Notifications');
    assert.equal(attributes?.KmsMasterKeyId, 'alias/aws/sns');
    const tags = Object.fromEntries(
      ((await sns.send(new ListTagsForResourceCommand({ ResourceArn: topicArn('production-notifications') }))).Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']),
    ) as Record<string, string>;
    assert.equal(tags.Application, 'notification-service');
    assert.equal(tags['managed-by'], 'infra-operator', 'provider defaultTags are merged in');
    assert.equal(tags[OWNER_TAG], 'SNSTopic/default/notifications');
    assert.deepEqual(
      (await subscriptions('production-notifications')).map((s) => `${s.Protocol} ${s.Endpoint}`).sort(),
      ['email alerts@company.com', `sqs ${queueArn('notification-queue')}`],
    );

    assert.equal(orders.status?.topicARN, topicArn('production-order-events.fifo'));
    const fifo = await topicAttributes('production-order-events.fifo');
    assert.equal(String(fifo?.FifoTopic).toLowerCase(), 'true');
    assert.equal(String(fifo?.ContentBasedDeduplication).toLowerCase(), 'true');
    assert.equal(fifo?.DisplayName, 'Order Events');
    assert.deepEqual((await subscriptions('production-order-events.fifo')).map((s) => s.Endpoint), [queueArn('order-processor.fifo')]);
    assert.match(await h.kubectl(['get', 'snstopics']), /notifications\s+production-notifications\s+true\s+Ready\s+2\s+0/);
  });

  test('a spec change is applied: display name, a subscription removed, raw delivery and a filter policy on another', async () => {
    const filterPolicy = JSON.stringify({ severity: ['critical', 'high'] });
    await h.kubectl([
      'patch', 'snstopic', 'notifications', '--type=merge', '-p',
      JSON.stringify({
        spec: {
          displayName: 'Production Alerts',
          subscriptions: [{ protocol: 'sqs', endpoint: queueArn('notification-queue'), rawMessageDelivery: true, filterPolicy }],
        },
      }),
    ]);
    const object = await ready('snstopics', 'notifications');
    assert.equal(object.status?.subscriptionsConfirmed, 1);
    assert.equal((await topicAttributes('production-notifications'))?.DisplayName, 'Production Alerts');
    const [only, ...rest] = await subscriptions('production-notifications');
    assert.equal(rest.length, 0, 'the email subscription is gone');
    assert.equal(only?.Endpoint, queueArn('notification-queue'));
    const subscription = (await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: only?.SubscriptionArn }))).Attributes ?? {};
    assert.equal(String(subscription.RawMessageDelivery).toLowerCase(), 'true');
    assert.deepEqual(JSON.parse(subscription.FilterPolicy ?? '{}'), JSON.parse(filterPolicy));
  });

  test('changes made in AWS behind the operator are repaired: the display name and a subscription added by hand', async () => {
    await sns.send(new SetTopicAttributesCommand({ TopicArn: topicArn('production-notifications'), AttributeName: 'DisplayName', AttributeValue: 'changed by hand' }));
    await sns.send(new SubscribeCommand({ TopicArn: topicArn('production-notifications'), Protocol: 'email', Endpoint: 'intruder@example.com' }));
    await h.until('display name repaired', async () => (await topicAttributes('production-notifications'))?.DisplayName === 'Production Alerts', 30_000);
    await h.until('the extra subscription removed', async () => (await subscriptions('production-notifications')).length === 1, 30_000);
    const events = await h.until('a DriftRepaired Event', async () => {
      const list = await h.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=notifications', '-o', 'json']);
      return /DriftRepaired/.test(list) ? list : null;
    });
    const messages = (JSON.parse(events) as { items: Array<{ reason: string; message: string }> }).items
      .filter((event) => event.reason === 'DriftRepaired')
      .map((event) => event.message)
      .join('\n');
    assert.match(messages, /displayName: "changed by hand" -> "Production Alerts"/);
  });

  test('a topic delivers to a queue it refers to; the queue policy holds both kinds\' statements and neither undoes the other', async () => {
    const ownStatement = { Sid: 'QueueOwnersOnly', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sqs:*', Resource: queueArn('deliveries') };
    const queuePolicy = JSON.stringify({ Version: '2012-10-17', Statement: [ownStatement] });
    // Topic first: it waits for the queue it refers to.
    await h.apply(
      topicYaml('deliverer', 'deliverer', `  subscriptions:\n  - protocol: sqs\n    queueRef: { name: deliveries }\n    rawMessageDelivery: true\n  writeConnectionSecretToRef: { name: deliverer-connection }\n`) +
        '---' +
        queueYaml('deliveries', 'deliveries', `  visibilityTimeout: 30\n  policy: '${queuePolicy}'\n  writeConnectionSecretToRef: { name: deliveries-connection }\n`),
    );
    const topic = await ready('snstopics', 'deliverer');
    const queue = await ready('sqsqueues', 'deliveries');
    const statements = await queueStatements('deliveries');
    assert.deepEqual(statements.map((s) => s.Sid).filter((sid) => sid === 'QueueOwnersOnly'), ['QueueOwnersOnly'], "the queue's own statement");
    const grant = grantFor(statements, 'deliverer');
    assert.ok(grant, "the topic's statement");
    assert.deepEqual([grant.Principal, grant.Action], [{ Service: 'sns.amazonaws.com' }, 'sqs:SendMessage']);

    await sns.send(new PublishCommand({ TopicArn: topicArn('deliverer'), Message: 'hello from the topic' }));
    const url = String(queue.status?.queueURL);
    const received = await h.until('the message in the queue', async () => {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
      return Messages?.[0];
    });
    assert.equal(received.Body, 'hello from the topic', 'raw delivery: the body as published');

    // Several drift checks of both, and neither rewrites the queue policy.
    const writes = h.proxy.count('SetQueueAttributes');
    const reads = h.proxy.count('GetQueueAttributes');
    await h.until('four more drift checks', async () => h.proxy.count('GetQueueAttributes') >= reads + 8, 60_000);
    assert.equal(h.proxy.count('SetQueueAttributes'), writes, 'no SetQueueAttributes while nothing changes');
    assert.ok(grantFor(await queueStatements('deliveries'), 'deliverer'));

    // A change to the queue's own attributes keeps the topic's statement.
    await h.kubectl(['patch', 'sqsqueue', 'deliveries', '--type=merge', '-p', '{"spec":{"visibilityTimeout":90}}']);
    await ready('sqsqueues', 'deliveries');
    const attributes = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['VisibilityTimeout'] }))).Attributes;
    assert.equal(attributes?.VisibilityTimeout, '90');
    const after = await queueStatements('deliveries');
    assert.ok(grantFor(after, 'deliverer'), "the topic's statement survives the queue's update");
    assert.ok(after.some((s) => s.Sid === 'QueueOwnersOnly'));

    // Connection Secrets of both.
    const topicSecret = await connectionSecret('deliverer-connection');
    assert.deepEqual(topicSecret.data, { arn: topicArn('deliverer'), name: 'deliverer', region: 'us-east-1' });
    assertOwnedBy(topicSecret.secret, topic, 'SNSTopic');
    const queueSecret = await connectionSecret('deliveries-connection');
    assert.deepEqual(queueSecret.data, { arn: queueArn('deliveries'), name: 'deliveries', url, region: 'us-east-1' });
    assertOwnedBy(queueSecret.secret, queue, 'SQSQueue');

    // The subscription goes, and with it the topic's statement; the queue's own stays.
    await h.kubectl(['patch', 'snstopic', 'deliverer', '--type=merge', '-p', '{"spec":{"subscriptions":[]}}']);
    await h.until('the subscription removed', async () => (await subscriptions('deliverer')).length === 0);
    await h.until("the topic's statement removed", async () => !grantFor(await queueStatements('deliveries'), 'deliverer'));
    assert.deepEqual((await queueStatements('deliveries')).map((s) => s.Sid), ['QueueOwnersOnly']);
  });

  for (const policy of ['Delete', 'Retain', 'Orphan'] as const) {
    test(`deletionPolicy ${policy}: the topic, queue and bucket ${policy === 'Delete' ? 'go from' : 'stay in'} AWS, and their connection Secrets go`, async () => {
      const name = `gone-${policy.toLowerCase()}`;
      await h.apply(
        queueYaml(`${name}-queue`, `${name}-queue`, `  deletionPolicy: ${policy}\n  writeConnectionSecretToRef: { name: ${name}-queue-connection }\n`) +
          '---' +
          topicYaml(
            name,
            `${name}-topic`,
            `  deletionPolicy: ${policy}\n  subscriptions:\n  - protocol: sqs\n    queueRef: { name: ${name}-queue }\n  writeConnectionSecretToRef: { name: ${name}-topic-connection }\n`,
          ) +
          '---' +
          bucketYaml(`${name}-bucket`, `${name}-bucket`, `  deletionPolicy: ${policy}\n  writeConnectionSecretToRef: { name: ${name}-bucket-connection }\n`),
      );
      const applied = Date.now();
      const topic = await ready('snstopics', name);
      console.log(`apply to Ready (SNSTopic ${name}, subscribed to a queue applied with it): ${Date.now() - applied} ms`);
      const bucket = await ready('s3buckets', `${name}-bucket`);
      const queue = await ready('sqsqueues', `${name}-queue`);
      const bucketSecret = await connectionSecret(`${name}-bucket-connection`);
      assert.deepEqual(bucketSecret.data, { arn: `arn:aws:s3:::${name}-bucket`, name: `${name}-bucket`, region: 'us-east-1' });
      assertOwnedBy(bucketSecret.secret, bucket, 'S3Bucket');
      assertOwnedBy((await connectionSecret(`${name}-topic-connection`)).secret, topic, 'SNSTopic');
      assertOwnedBy((await connectionSecret(`${name}-queue-connection`)).secret, queue, 'SQSQueue');
      assert.ok(grantFor(await queueStatements(`${name}-queue`), `${name}-topic`));

      // The topic first, so the queue still shows what the topic's deletion did to its policy.
      await h.kubectl(['delete', 'snstopic', name, '--timeout=60s']);
      assert.equal(await h.get('snstopics', name), null);
      assert.equal((await topicAttributes(`${name}-topic`)) !== undefined, policy !== 'Delete');
      assert.equal(Boolean(grantFor(await queueStatements(`${name}-queue`), `${name}-topic`)), policy !== 'Delete', "the topic's statement goes with the topic");
      await h.kubectl(['delete', 'sqsqueue', `${name}-queue`, '--timeout=60s']);
      await h.kubectl(['delete', 's3bucket', `${name}-bucket`, '--timeout=60s']);
      assert.equal((await queueUrl(`${name}-queue`)) !== undefined, policy !== 'Delete');
      assert.equal(await bucketExists(`${name}-bucket`), policy !== 'Delete');
      for (const kind of ['topic', 'queue', 'bucket']) {
        assert.equal(await h.get('secret', `${name}-${kind}-connection`), null, `the ${kind}'s connection Secret is removed`);
      }
    });
  }

  test('a topic of that name made outside the operator is AlreadyExists and left alone', async () => {
    await sns.send(new CreateTopicCommand({ Name: 'made-by-hand', Attributes: { DisplayName: 'by hand' } }));
    await h.apply(topicYaml('not-ours', 'made-by-hand', '  displayName: operator\n'));
    const refused = await h.until('AlreadyExists', async () => {
      const object = await h.get('snstopics', 'not-ours');
      return object?.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'AlreadyExists' ? object : null;
    });
    assert.equal(refused.status?.ready, false);
    assert.equal((await topicAttributes('made-by-hand'))?.DisplayName, 'by hand', 'nothing was changed');
    await h.kubectl(['annotate', 'snstopic', 'not-ours', 'aws-infra-operator.runner.codes/adoption-policy=adopt']);
    await ready('snstopics', 'not-ours');
    assert.equal((await topicAttributes('made-by-hand'))?.DisplayName, 'operator', 'adopted, then managed');
  });
});
