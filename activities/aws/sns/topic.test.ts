import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TopicSpec } from '../../../crds/kinds/sns-topic.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { ALREADY_EXISTS, OWNED_BY_ANOTHER } from '../errors.js';
import { compareQueue, queueHandler } from '../sqs/queue.js';
import { hasGrant, mergeTopicGrants, topicGrant, topicGrantSid, withGrant, withoutGrant } from '../sqs/queue-policy.js';
import { TEST_CLUSTER_ID, awsError, stubContext, type CommandInput, type StubResponse } from '../testing.js';
import { planSubscriptions, subscriptionAttributeChanges, topicArnFor, topicHandler, type WantedSubscription } from './topic.js';

const resource = { kind: 'SNSTopic', namespace: 'default', name: 'alerts', uid: 'uid-1' };
const TAGS = { Team: 'ops', [OWNER_TAG]: 'SNSTopic/default/alerts', [CLUSTER_TAG]: TEST_CLUSTER_ID };
const ARN = 'arn:aws:sns:us-east-1:123456789012:alerts';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:inbox';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/inbox';
const OLD_QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:old-inbox';
const OLD_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/old-inbox';
const FILTER = JSON.stringify({ severity: ['critical'] });
const QUEUE_OWN = { Sid: 'Owners', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sqs:*', Resource: QUEUE_ARN };

const spec: TopicSpec = {
  providerRef: { name: 'aws' },
  topicName: 'alerts',
  displayName: 'Alerts',
  encryption: { enabled: true },
  subscriptions: [
    { protocol: 'email', endpoint: 'ops@example.com' },
    { protocol: 'sqs', queueRef: { name: 'inbox' }, rawMessageDelivery: true, filterPolicy: FILTER },
  ],
};

const resolved = { 'SQSQueue/default/inbox': QUEUE_ARN };
/** resolve answers by status field: the stub keys by reference only, so this wraps it. */
function contextFor(responses: Record<string, StubResponse>, options: Parameters<typeof stubContext>[1] = {}) {
  const context = stubContext(responses, { resource, tags: TAGS, resolved, ...options });
  const resolve = context.resolve.bind(context);
  context.resolve = async (ref, field) => (field === 'queueURL' ? (await resolve(ref, field), QUEUE_URL) : resolve(ref, field));
  return context;
}

const grantedPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [QUEUE_OWN, topicGrant(QUEUE_ARN, ARN)] });
const SQS_SUBSCRIPTION = `${ARN}:sqs-1`;

/** A topic in AWS that matches `spec` exactly. */
function inSync(overrides: Record<string, StubResponse> = {}): Record<string, StubResponse> {
  return {
    GetTopicAttributesCommand: { Attributes: { TopicArn: ARN, DisplayName: 'Alerts', KmsMasterKeyId: 'alias/aws/sns', Policy: '{}' } },
    ListTagsForResourceCommand: { Tags: Object.entries(TAGS).map(([Key, Value]) => ({ Key, Value })) },
    ListSubscriptionsByTopicCommand: {
      Subscriptions: [
        { SubscriptionArn: 'PendingConfirmation', Protocol: 'email', Endpoint: 'ops@example.com' },
        { SubscriptionArn: SQS_SUBSCRIPTION, Protocol: 'sqs', Endpoint: QUEUE_ARN },
      ],
    },
    GetSubscriptionAttributesCommand: {
      Attributes: { RawMessageDelivery: 'true', FilterPolicy: JSON.stringify({ severity: ['critical'] }), FilterPolicyScope: 'MessageAttributes' },
    },
    GetQueueAttributesCommand: { Attributes: { Policy: grantedPolicy } },
    ...overrides,
  };
}

describe('observe', () => {
  test('a missing topic is exists:false, not an error, and resolves nothing', async () => {
    const context = contextFor({ GetTopicAttributesCommand: awsError('NotFoundException'), ListTagsForResourceCommand: awsError('ResourceNotFoundException') }, { resolved: {} });
    const observed = await topicHandler.observe(context, spec);
    assert.equal(observed.exists, false);
    assert.deepEqual(context.callsTo('GetTopicAttributesCommand'), [{ TopicArn: ARN }], 'found by the ARN the account gives the name');
  });

  test('a topic as the spec says is up to date, a pending subscription counted as pending', async () => {
    const context = contextFor(inSync());
    const observed = await topicHandler.observe(context, spec);
    assert.deepEqual(observed.differences, []);
    assert.equal(observed.id, ARN);
    assert.deepEqual(observed.status, { topicName: 'alerts', topicARN: ARN, subscriptionsConfirmed: 1, subscriptionsPending: 1 });
    assert.deepEqual(context.callsTo('GetSubscriptionAttributesCommand'), [{ SubscriptionArn: SQS_SUBSCRIPTION }], 'only the confirmed one is read');
    assert.deepEqual(context.callsTo('GetQueueAttributesCommand'), [{ QueueUrl: QUEUE_URL, AttributeNames: ['Policy'] }]);
  });

  test('every difference is named: attributes, tags, subscriptions and the queue grant', async () => {
    const context = contextFor(
      inSync({
        GetTopicAttributesCommand: { Attributes: { TopicArn: ARN, DisplayName: 'by hand' } },
        ListTagsForResourceCommand: { Tags: [...Object.entries(TAGS).map(([Key, Value]) => ({ Key, Value })), { Key: 'extra', Value: 'x' }] },
        ListSubscriptionsByTopicCommand: {
          Subscriptions: [
            { SubscriptionArn: SQS_SUBSCRIPTION, Protocol: 'sqs', Endpoint: QUEUE_ARN },
            { SubscriptionArn: `${ARN}:http-1`, Protocol: 'https', Endpoint: 'https://example.com/hook' },
          ],
        },
        GetSubscriptionAttributesCommand: { Attributes: { RawMessageDelivery: 'false' } },
        GetQueueAttributesCommand: { Attributes: { Policy: JSON.stringify({ Statement: [QUEUE_OWN] }) } },
      }),
    );
    const observed = await topicHandler.observe(context, spec);
    assert.deepEqual(observed.differences, [
      'displayName: "by hand" -> "Alerts"',
      'encryption: none -> alias/aws/sns',
      'tags: -extra',
      'subscriptions: +email ops@example.com',
      'subscriptions: -https https://example.com/hook',
      `subscriptions[sqs ${QUEUE_ARN}].filterPolicyScope: unset -> MessageAttributes`,
      `subscriptions[sqs ${QUEUE_ARN}].filterPolicy: none -> set`,
      `subscriptions[sqs ${QUEUE_ARN}].rawMessageDelivery: false -> true`,
      `subscriptions[sqs ${QUEUE_ARN}]: the queue policy does not let this topic send to the queue`,
    ]);
    assert.equal(observed.upToDate, false);
  });

  test("another resource's topic is reported as theirs without resolving its references", async () => {
    const context = contextFor(inSync({ ListTagsForResourceCommand: { Tags: [{ Key: OWNER_TAG, Value: 'SNSTopic/other/alerts' }, { Key: CLUSTER_TAG, Value: TEST_CLUSTER_ID }] } }), {
      resolved: {},
    });
    const observed = await topicHandler.observe(context, spec);
    assert.equal(observed.ownedBy, 'SNSTopic/other/alerts');
    assert.equal(context.callsTo('GetQueueAttributesCommand').length, 0);
  });

  test('without the account, the topic is found by name in ListTopics', async () => {
    const context = contextFor(
      inSync({ ListTopicsCommand: { Topics: [{ TopicArn: 'arn:aws:sns:us-east-1:999999999999:other' }, { TopicArn: 'arn:aws:sns:us-east-1:999999999999:alerts' }] } }),
      { accountID: '' },
    );
    const observed = await topicHandler.observe(context, spec);
    assert.equal(observed.id, 'arn:aws:sns:us-east-1:999999999999:alerts');
  });

  test('the recorded ARN is used when it names this topic here, else the one the account gives', () => {
    const here = { region: 'us-east-1', accountID: '123456789012' };
    assert.equal(topicArnFor({ ...here, awsID: 'arn:aws:sns:us-east-1:555555555555:alerts' }, 'alerts'), 'arn:aws:sns:us-east-1:555555555555:alerts');
    assert.equal(topicArnFor({ ...here, awsID: 'arn:aws:sns:eu-west-1:555555555555:alerts' }, 'alerts'), ARN);
    assert.equal(topicArnFor({ ...here, awsID: 'arn:aws:sns:us-east-1:555555555555:other' }, 'alerts'), ARN);
    assert.equal(topicArnFor({ region: 'cn-north-1', accountID: '123456789012' }, 'alerts'), 'arn:aws-cn:sns:cn-north-1:123456789012:alerts');
  });
});

describe('create', () => {
  const created = (tags: Record<string, string> = TAGS): Record<string, StubResponse> => ({
    CreateTopicCommand: { TopicArn: ARN },
    ListTagsForResourceCommand: { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    GetQueueAttributesCommand: { Attributes: { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [QUEUE_OWN] }) } },
    SetQueueAttributesCommand: {},
    SubscribeCommand: (input: CommandInput) => ({ SubscriptionArn: `${ARN}:${String(input.Protocol)}` }),
  });

  test('one CreateTopic with the attributes and tags, then each subscription; the queue is granted before it is subscribed', async () => {
    const context = contextFor(created());
    await topicHandler.create(context, { ...spec, deliveryPolicy: '{"http":{}}' });
    assert.deepEqual(context.commandNames(), [
      'CreateTopicCommand',
      'ListTagsForResourceCommand',
      'SubscribeCommand',
      'GetQueueAttributesCommand',
      'SetQueueAttributesCommand',
      'SubscribeCommand',
    ]);
    const [create] = context.callsTo('CreateTopicCommand');
    assert.deepEqual(create?.Attributes, { DisplayName: 'Alerts', KmsMasterKeyId: 'alias/aws/sns', DeliveryPolicy: '{"http":{}}' });
    assert.deepEqual(create?.Tags, Object.entries(TAGS).map(([Key, Value]) => ({ Key, Value })));
    const policy = String((context.callsTo('SetQueueAttributesCommand')[0]?.Attributes as { Policy: string }).Policy);
    assert.ok(hasGrant(policy, topicGrant(QUEUE_ARN, ARN)), "the topic's statement");
    assert.ok(policy.includes('"Sid":"Owners"'), "the queue's own statement is kept");
    assert.deepEqual(context.callsTo('SubscribeCommand'), [
      { TopicArn: ARN, Protocol: 'email', Endpoint: 'ops@example.com', ReturnSubscriptionArn: true },
      {
        TopicArn: ARN,
        Protocol: 'sqs',
        Endpoint: QUEUE_ARN,
        ReturnSubscriptionArn: true,
        Attributes: { FilterPolicy: FILTER, FilterPolicyScope: 'MessageAttributes', RawMessageDelivery: 'true' },
      },
    ]);
  });

  test('a FIFO topic is created FIFO, with content-based deduplication', async () => {
    const context = contextFor(created());
    await topicHandler.create(context, { providerRef: { name: 'aws' }, topicName: 'orders.fifo', fifoTopic: true, contentBasedDeduplication: true });
    assert.deepEqual(context.callsTo('CreateTopicCommand')[0]?.Attributes, { FifoTopic: 'true', ContentBasedDeduplication: 'true' });
    assert.deepEqual(context.commandNames(), ['CreateTopicCommand', 'ListTagsForResourceCommand']);
  });

  test('a subscription to a queue that is not Ready waits before anything is made', async () => {
    const context = contextFor(created(), { resolved: {} });
    await assert.rejects(topicHandler.create(context, spec), /waiting for SQSQueue\/default\/inbox/);
    assert.deepEqual(context.commandNames(), []);
  });

  test('a topic of that name without our tags, which CreateTopic answered with, is AlreadyExists and changed no further', async () => {
    const context = contextFor(created({ Team: 'theirs' }));
    await assert.rejects(topicHandler.create(context, spec), (error: Error) => error.name === ALREADY_EXISTS && /adoption-policy=adopt/.test(error.message));
    assert.deepEqual(context.commandNames(), ['CreateTopicCommand', 'ListTagsForResourceCommand']);
  });

  test("another resource's topic is refused", async () => {
    const context = contextFor(created({ [OWNER_TAG]: 'SNSTopic/other/alerts', [CLUSTER_TAG]: TEST_CLUSTER_ID }));
    await assert.rejects(topicHandler.create(context, spec), (error: Error) => error.name === OWNED_BY_ANOTHER);
  });

  test('refused because our topic exists with other attributes (an earlier attempt): it is brought in line instead', async () => {
    const context = contextFor({
      ...inSync({ GetTopicAttributesCommand: { Attributes: { TopicArn: ARN, DisplayName: 'old', KmsMasterKeyId: 'alias/aws/sns' } } }),
      CreateTopicCommand: awsError('InvalidParameterException'),
      SetTopicAttributesCommand: {},
    });
    await topicHandler.create(context, spec);
    assert.deepEqual(context.callsTo('SetTopicAttributesCommand'), [{ TopicArn: ARN, AttributeName: 'DisplayName', AttributeValue: 'Alerts' }]);
  });

  test('refused, and no topic of that name: the refusal stands', async () => {
    const context = contextFor({
      CreateTopicCommand: awsError('InvalidParameterException', { message: 'bad key' }),
      ListTagsForResourceCommand: awsError('ResourceNotFoundException'),
    });
    await assert.rejects(topicHandler.create(context, spec), /bad key/);
  });
});

describe('update', () => {
  test('subscribes what is missing, removes what is extra (and its grant), fixes attributes and grants the queue', async () => {
    const context = contextFor({
      ...inSync({
        ListSubscriptionsByTopicCommand: {
          Subscriptions: [
            { SubscriptionArn: SQS_SUBSCRIPTION, Protocol: 'sqs', Endpoint: QUEUE_ARN },
            { SubscriptionArn: `${ARN}:old`, Protocol: 'sqs', Endpoint: OLD_QUEUE_ARN },
          ],
        },
        GetSubscriptionAttributesCommand: { Attributes: { RawMessageDelivery: 'false', FilterPolicy: FILTER, FilterPolicyScope: 'MessageAttributes' } },
        GetQueueAttributesCommand: (input: CommandInput) => ({
          Attributes: { Policy: input.QueueUrl === OLD_QUEUE_URL ? JSON.stringify({ Statement: [topicGrant(OLD_QUEUE_ARN, ARN)] }) : JSON.stringify({ Statement: [QUEUE_OWN] }) },
        }),
      }),
      GetQueueUrlCommand: { QueueUrl: OLD_QUEUE_URL },
      UnsubscribeCommand: {},
      SetSubscriptionAttributesCommand: {},
      SetQueueAttributesCommand: {},
      SubscribeCommand: { SubscriptionArn: `${ARN}:email` },
    });
    const observed = await topicHandler.observe(context, spec);
    await topicHandler.update(context, spec, observed);
    assert.deepEqual(context.callsTo('UnsubscribeCommand'), [{ SubscriptionArn: `${ARN}:old` }]);
    assert.deepEqual(context.callsTo('GetQueueUrlCommand'), [{ QueueName: 'old-inbox', QueueOwnerAWSAccountId: '123456789012' }]);
    const [revoke, grant] = context.callsTo('SetQueueAttributesCommand');
    assert.deepEqual(revoke, { QueueUrl: OLD_QUEUE_URL, Attributes: { Policy: '' } }, 'the old queue held only our statement: its policy goes');
    assert.equal(grant?.QueueUrl, QUEUE_URL);
    assert.ok(hasGrant((grant?.Attributes as { Policy: string }).Policy, topicGrant(QUEUE_ARN, ARN)));
    assert.deepEqual(context.callsTo('SetSubscriptionAttributesCommand'), [
      { SubscriptionArn: SQS_SUBSCRIPTION, AttributeName: 'RawMessageDelivery', AttributeValue: 'true' },
    ]);
    assert.deepEqual(context.callsTo('SubscribeCommand').map((input) => input.Endpoint), ['ops@example.com']);
  });

  test('a spec without subscriptions leaves them alone', async () => {
    const context = contextFor({ ...inSync(), SetTopicAttributesCommand: {} });
    const { subscriptions: _ignored, ...withoutSubscriptions } = spec;
    await topicHandler.update(context, withoutSubscriptions, await topicHandler.observe(context, withoutSubscriptions));
    const writes = context.commandNames().filter((name) => /^(Subscribe|Unsubscribe|SetSubscriptionAttributes|SetQueueAttributes|GetQueueAttributes)Command$/.test(name));
    assert.deepEqual(writes, [], 'neither subscriptions nor queues are touched');
  });
});

describe('delete', () => {
  test('takes its statement out of the queues it delivers to, then deletes the topic', async () => {
    const context = contextFor({
      ListSubscriptionsByTopicCommand: { Subscriptions: [{ SubscriptionArn: SQS_SUBSCRIPTION, Protocol: 'sqs', Endpoint: QUEUE_ARN }] },
      GetQueueUrlCommand: { QueueUrl: QUEUE_URL },
      GetQueueAttributesCommand: { Attributes: { Policy: grantedPolicy } },
      SetQueueAttributesCommand: {},
      DeleteTopicCommand: {},
    }, { deleting: true, resolved: {} });
    assert.equal(await topicHandler.delete(context, spec), 'Deleted');
    const policy = JSON.parse(String((context.callsTo('SetQueueAttributesCommand')[0]?.Attributes as { Policy: string }).Policy)) as { Statement: unknown[] };
    assert.deepEqual(policy.Statement, [QUEUE_OWN]);
    assert.deepEqual(context.callsTo('DeleteTopicCommand'), [{ TopicArn: ARN }]);
  });

  test('a topic already gone is Deleted', async () => {
    const context = contextFor({ ListSubscriptionsByTopicCommand: awsError('NotFoundException') }, { deleting: true });
    assert.equal(await topicHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.commandNames(), ['ListSubscriptionsByTopicCommand']);
  });

  test("a queue of another account is never touched: the topic never granted on it", async () => {
    const context = contextFor({
      ListSubscriptionsByTopicCommand: { Subscriptions: [{ SubscriptionArn: SQS_SUBSCRIPTION, Protocol: 'sqs', Endpoint: 'arn:aws:sqs:us-east-1:999999999999:theirs' }] },
      DeleteTopicCommand: {},
    }, { deleting: true });
    assert.equal(await topicHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.commandNames(), ['ListSubscriptionsByTopicCommand', 'DeleteTopicCommand']);
  });
});

describe('subscriptions, pure', () => {
  const wanted = (attributes: Record<string, string>): WantedSubscription => ({ protocol: 'sqs', endpoint: QUEUE_ARN, attributes });

  test('a filter policy removed is set to none; "{}" and "" both read as none; key order does not matter', () => {
    assert.deepEqual(subscriptionAttributeChanges({ FilterPolicy: '' }, { FilterPolicy: FILTER }).map((c) => [c.name, c.value]), [['FilterPolicy', '']]);
    assert.deepEqual(subscriptionAttributeChanges({ FilterPolicy: '' }, { FilterPolicy: '{}' }), []);
    assert.deepEqual(subscriptionAttributeChanges({ FilterPolicy: '{"a":[1],"b":[2]}' }, { FilterPolicy: '{ "b": [2], "a": [1] }' }), []);
    assert.deepEqual(subscriptionAttributeChanges({ RawMessageDelivery: 'true' }, { RawMessageDelivery: 'True' }), [], 'booleans in any case');
  });

  test('a pending subscription is neither changed nor removed: it has no ARN to act on', () => {
    const plan = planSubscriptions(
      [wanted({ RawMessageDelivery: 'true' })],
      [
        { arn: 'PendingConfirmation', protocol: 'sqs', endpoint: QUEUE_ARN, pending: true },
        { arn: 'PendingConfirmation', protocol: 'email', endpoint: 'x@example.com', pending: true },
      ],
      {},
      ARN,
    );
    assert.deepEqual([plan.add, plan.remove, plan.change, plan.grant], [[], [], [], []]);
  });
});

describe('queue policy shared by SQSQueue and SNSTopic', () => {
  const own = JSON.stringify({ Version: '2012-10-17', Statement: [QUEUE_OWN] });

  test("the queue's drift repair keeps the topics' statements and sees no drift in them", () => {
    assert.equal(mergeTopicGrants(own, undefined), own);
    const merged = mergeTopicGrants(own, grantedPolicy);
    assert.ok(hasGrant(merged, topicGrant(QUEUE_ARN, ARN)));
    const attributes = { QueueArn: QUEUE_ARN, Policy: grantedPolicy };
    const differences = compareQueue({ providerRef: { name: 'aws' }, queueName: 'inbox', policy: own }, { url: QUEUE_URL, attributes, tags: {} }, {});
    assert.deepEqual(differences, []);
  });

  test("the queue's own statements are its own: one removed by hand comes back, with the topic's kept", () => {
    const onlyGrant = JSON.stringify({ Version: '2012-10-17', Statement: [topicGrant(QUEUE_ARN, ARN)] });
    const [difference] = compareQueue({ providerRef: { name: 'aws' }, queueName: 'inbox', policy: own }, { url: QUEUE_URL, attributes: { Policy: onlyGrant }, tags: {} }, {});
    const fixed = String(difference?.attributes?.Policy);
    assert.ok(hasGrant(fixed, topicGrant(QUEUE_ARN, ARN)) && fixed.includes('"Sid":"Owners"'));
  });

  test('an update of other queue attributes sends the policy along with the grants, so moto cannot drop them', async () => {
    const context = stubContext({
      GetQueueUrlCommand: { QueueUrl: QUEUE_URL },
      GetQueueAttributesCommand: { Attributes: { VisibilityTimeout: '30', Policy: grantedPolicy } },
      ListQueueTagsCommand: { Tags: {} },
      SetQueueAttributesCommand: {},
    }, { tags: {} });
    await queueHandler.update(context, { providerRef: { name: 'aws' }, queueName: 'inbox', visibilityTimeout: 60 }, { exists: true, upToDate: false, ready: true, differences: [], status: {} });
    assert.deepEqual(context.callsTo('SetQueueAttributesCommand'), [{ QueueUrl: QUEUE_URL, Attributes: { VisibilityTimeout: '60', Policy: grantedPolicy } }]);
  });

  test('grant and revoke touch only the statement of their Sid', () => {
    const granted = withGrant(own, topicGrant(QUEUE_ARN, ARN));
    assert.equal(withGrant(granted, topicGrant(QUEUE_ARN, ARN)), granted, 'idempotent');
    assert.equal(withoutGrant(granted, topicGrantSid(ARN)), own);
    assert.equal(withoutGrant(own, topicGrantSid(ARN)), undefined, 'nothing to take out');
    assert.match(topicGrantSid(ARN), /^[A-Za-z0-9]+$/, 'IAM Sids are letters and digits');
    assert.notEqual(topicGrantSid(ARN), topicGrantSid(`${ARN}2`));
  });
});

describe('connection details', () => {
  test('the topic, the queue and the bucket hand out their ARN, name (URL for the queue) and region', async () => {
    const context = stubContext({});
    const observed = { exists: true, upToDate: true, ready: true, differences: [], id: ARN, status: { topicARN: ARN } };
    assert.deepEqual(await topicHandler.connectionDetails?.(context, spec, observed), { name: 'alerts', arn: ARN, region: 'us-east-1' });
    const queue = { exists: true, upToDate: true, ready: true, differences: [], id: QUEUE_URL, status: { queueARN: QUEUE_ARN } };
    assert.deepEqual(await queueHandler.connectionDetails?.(context, { providerRef: { name: 'aws' }, queueName: 'inbox' }, queue), {
      name: 'inbox',
      url: QUEUE_URL,
      arn: QUEUE_ARN,
      region: 'us-east-1',
    });
  });
});
