import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { QueueSpec } from '../../../crds/kinds/sqs-queue.js';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { ErrorClass, classifyAwsError } from '../errors.js';
import { TEST_CLUSTER_ID, awsError, stubContext, type StubResponse } from '../testing.js';
import {
  compareEncryption,
  compareQueue,
  compareRedrive,
  createAttributes,
  queueHandler,
  redrivePolicy,
  samePolicy,
  type Attributes,
} from './queue.js';

const OWNER = 'SQSQueue/default/orders';
const TAGS = { Team: 'shop', [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID };
const resource = { kind: 'SQSQueue', namespace: 'default', name: 'orders', uid: 'uid-1' };
const URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo';
const DLQ = 'arn:aws:sqs:us-east-1:123456789012:orders-dlq.fifo';
const POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sqs:SendMessage' }] };

const spec: QueueSpec = {
  providerRef: { name: 'aws' },
  queueName: 'orders.fifo',
  fifoQueue: true,
  contentBasedDeduplication: true,
  deduplicationScope: 'messageGroup',
  fifoThroughputLimit: 'perMessageGroupId',
  delaySeconds: 0,
  visibilityTimeout: 60,
  messageRetentionPeriod: 86400,
  deadLetterQueue: { targetArn: DLQ, maxReceiveCount: 5 },
  encryption: { enabled: true },
  policy: JSON.stringify(POLICY),
};

/** SQS's attributes for a queue that matches `spec` exactly (as SQS spells them). */
const inSyncAttributes: Attributes = {
  QueueArn: 'arn:aws:sqs:us-east-1:123456789012:orders.fifo',
  ApproximateNumberOfMessages: '7',
  FifoQueue: 'true',
  ContentBasedDeduplication: 'true',
  DeduplicationScope: 'messageGroup',
  FifoThroughputLimit: 'perMessageGroupId',
  DelaySeconds: '0',
  VisibilityTimeout: '60',
  MessageRetentionPeriod: '86400',
  MaximumMessageSize: '262144',
  ReceiveMessageWaitTimeSeconds: '0',
  // SQS returns maxReceiveCount as a number; the spec's order of keys differs too.
  RedrivePolicy: JSON.stringify({ maxReceiveCount: 5, deadLetterTargetArn: DLQ }),
  SqsManagedSseEnabled: 'true',
  Policy: JSON.stringify({ Statement: [{ Action: 'sqs:SendMessage', Principal: '*', Effect: 'Allow' }], Version: '2012-10-17' }),
};

function existingQueue(attributes: Attributes = inSyncAttributes, tags: Record<string, string> = TAGS): Record<string, StubResponse> {
  return {
    GetQueueUrlCommand: { QueueUrl: URL },
    GetQueueAttributesCommand: { Attributes: attributes },
    ListQueueTagsCommand: { Tags: tags },
    SetQueueAttributesCommand: {},
    TagQueueCommand: {},
    UntagQueueCommand: {},
  };
}

const observedQueue = (attributes: Attributes, tags: Record<string, string> = TAGS) => ({ url: URL, attributes, tags });

describe('observe', () => {
  test('a missing queue is exists:false, not an error', async () => {
    for (const name of ['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']) {
      const context = stubContext({ GetQueueUrlCommand: awsError(name) }, { resource, tags: TAGS });
      const observed = await queueHandler.observe(context, spec);
      assert.equal(observed.exists, false, name);
      assert.deepEqual(context.commandNames(), ['GetQueueUrlCommand']);
    }
  });

  test('a queue that matches the spec is up to date, with the status fields', async () => {
    const context = stubContext(existingQueue(), { resource, tags: TAGS });
    const observed = await queueHandler.observe(context, spec);
    assert.deepEqual(observed.differences, []);
    assert.equal(observed.upToDate, true);
    assert.equal(observed.ready, true);
    assert.equal(observed.ownedBy, undefined);
    assert.deepEqual(observed.status, {
      queueName: 'orders.fifo',
      queueURL: URL,
      queueARN: 'arn:aws:sqs:us-east-1:123456789012:orders.fifo',
      approximateNumberOfMessages: 7,
    });
    assert.deepEqual(context.callsTo('GetQueueAttributesCommand'), [{ QueueUrl: URL, AttributeNames: ['All'] }]);
  });

  test('deadLetterQueue.queueARN and deadLetterQueue.targetArn are the same field', async () => {
    const viaQueueArn: QueueSpec = { ...spec, deadLetterQueue: { queueARN: DLQ, maxReceiveCount: 5 } };
    const observed = await queueHandler.observe(stubContext(existingQueue(), { resource, tags: TAGS }), viaQueueArn);
    assert.equal(observed.upToDate, true);
    assert.equal(redrivePolicy({ queueARN: DLQ, maxReceiveCount: 5 }), redrivePolicy({ targetArn: DLQ, maxReceiveCount: 5 }));
  });

  test('fields the spec leaves unset are not compared', async () => {
    const minimal: QueueSpec = { providerRef: { name: 'aws' }, queueName: 'orders.fifo', fifoQueue: true, deadLetterQueue: spec.deadLetterQueue };
    const observed = await queueHandler.observe(
      stubContext(existingQueue({ ...inSyncAttributes, VisibilityTimeout: '999', Policy: '{}' }), { resource, tags: TAGS }),
      minimal,
    );
    assert.deepEqual(observed.differences, []);
  });

  test('a queue tagged for another custom resource reports ownedBy', async () => {
    const context = stubContext(existingQueue(inSyncAttributes, { ...TAGS, [OWNER_TAG]: 'SQSQueue/other/orders' }), { resource, tags: TAGS });
    assert.equal((await queueHandler.observe(context, spec)).ownedBy, 'SQSQueue/other/orders');
  });

  test('every kind of difference, readable', async () => {
    const drifted: Attributes = {
      ...inSyncAttributes,
      VisibilityTimeout: '30',
      ContentBasedDeduplication: 'false',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ, maxReceiveCount: 3 }),
      SqsManagedSseEnabled: 'false',
      Policy: JSON.stringify({ Statement: [] }),
    };
    const context = stubContext(existingQueue(drifted, { Team: 'other', Extra: 'x' }), { resource, tags: TAGS });
    const observed = await queueHandler.observe(context, spec);
    assert.equal(observed.upToDate, false);
    assert.deepEqual(observed.differences, [
      'visibilityTimeout: 30 -> 60',
      'contentBasedDeduplication: false -> true',
      `deadLetterQueue: ${DLQ} (maxReceiveCount 3) -> ${DLQ} (maxReceiveCount 5)`,
      'encryption: none -> SSE-SQS',
      'policy: changed',
      `tags: +${CLUSTER_TAG}, +${OWNER_TAG}, -Extra, ~Team`,
    ]);
  });
});

describe('compare', () => {
  test('redrive: a JSON comparison; unset in the spec removes it', () => {
    const dlq = { queueARN: DLQ, maxReceiveCount: 5 };
    assert.equal(compareRedrive(dlq, `{"deadLetterTargetArn":"${DLQ}","maxReceiveCount":"5"}`), undefined);
    assert.deepEqual(compareRedrive(undefined, redrivePolicy(dlq)), {
      field: 'deadLetterQueue',
      detail: `${DLQ} (maxReceiveCount 5) -> none`,
      attributes: { RedrivePolicy: '' },
    });
    assert.equal(compareRedrive(undefined, undefined), undefined);
    assert.equal(compareRedrive(undefined, ''), undefined);
    assert.equal(compareRedrive(dlq, undefined)?.attributes?.RedrivePolicy, redrivePolicy(dlq));
  });

  test('encryption modes and the attributes that switch between them', () => {
    const kms = { KmsMasterKeyId: 'alias/k', KmsDataKeyReusePeriodSeconds: '300', SqsManagedSseEnabled: 'false' };
    assert.deepEqual(compareEncryption({ enabled: true, kmsKeyID: 'alias/k' }, kms), []);
    assert.deepEqual(compareEncryption({ enabled: true }, kms), [
      { field: 'encryption', detail: 'SSE-KMS alias/k -> SSE-SQS', attributes: { SqsManagedSseEnabled: 'true', KmsMasterKeyId: '' } },
    ]);
    assert.deepEqual(compareEncryption({ enabled: false }, kms), [
      { field: 'encryption', detail: 'SSE-KMS alias/k -> none', attributes: { SqsManagedSseEnabled: 'false', KmsMasterKeyId: '' } },
    ]);
    const toKms = { enabled: true, kmsKeyID: 'alias/k2', kmsDataKeyReusePeriodSeconds: 600 };
    assert.deepEqual(compareEncryption(toKms, { SqsManagedSseEnabled: 'true' }), [
      {
        field: 'encryption',
        detail: 'SSE-SQS -> SSE-KMS alias/k2',
        attributes: { KmsMasterKeyId: 'alias/k2', KmsDataKeyReusePeriodSeconds: '600' },
      },
    ]);
    assert.deepEqual(compareEncryption({ enabled: true, kmsKeyID: 'alias/k', kmsDataKeyReusePeriodSeconds: 600 }, kms), [
      { field: 'encryption.kmsDataKeyReusePeriodSeconds', detail: '300 -> 600', attributes: { KmsDataKeyReusePeriodSeconds: '600' } },
    ]);
    // A key decides even when SqsManagedSseEnabled still says true (moto does that).
    assert.deepEqual(compareEncryption({ enabled: true, kmsKeyID: 'alias/k' }, { ...kms, SqsManagedSseEnabled: 'true' }), []);
  });

  test('policies compare as parsed JSON', () => {
    assert.equal(samePolicy('{"a":1,"b":[{"c":2,"d":3}]}', '{ "b": [{"d":3,"c":2}], "a": 1 }'), true);
    assert.equal(samePolicy('{"a":1}', '{"a":2}'), false);
    assert.equal(samePolicy('{"a":1}', undefined), false);
  });

  test('scalar attributes compare as SQS strings', () => {
    const differences = compareQueue({ ...spec, delaySeconds: 10, maximumMessageSize: 2048 }, observedQueue(inSyncAttributes), TAGS);
    assert.deepEqual(differences, [
      { field: 'delaySeconds', detail: '0 -> 10', attributes: { DelaySeconds: '10' } },
      { field: 'maximumMessageSize', detail: '262144 -> 2048', attributes: { MaximumMessageSize: '2048' } },
    ]);
  });
});

describe('create', () => {
  test('creates with every attribute the spec sets, and the tags', async () => {
    const context = stubContext({ CreateQueueCommand: { QueueUrl: URL }, ListQueueTagsCommand: { Tags: TAGS } }, { resource, tags: TAGS });
    const created = await queueHandler.create(context, spec);
    assert.deepEqual(context.commandNames(), ['CreateQueueCommand', 'ListQueueTagsCommand'], 'the tags prove the queue is the one just made');
    // What observe would read back, so the workflow need not read it back.
    assert.deepEqual(created && { id: created.id, upToDate: created.upToDate, ready: created.ready, status: created.status }, {
      id: URL,
      upToDate: true,
      ready: true,
      status: { queueName: 'orders.fifo', queueURL: URL, queueARN: 'arn:aws:sqs:us-east-1:123456789012:orders.fifo', approximateNumberOfMessages: 0 },
    });
    assert.deepEqual(context.callsTo('CreateQueueCommand'), [
      {
        QueueName: 'orders.fifo',
        tags: TAGS,
        Attributes: {
          FifoQueue: 'true',
          DelaySeconds: '0',
          MessageRetentionPeriod: '86400',
          VisibilityTimeout: '60',
          ContentBasedDeduplication: 'true',
          DeduplicationScope: 'messageGroup',
          FifoThroughputLimit: 'perMessageGroupId',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ, maxReceiveCount: 5 }),
          SqsManagedSseEnabled: 'true',
          Policy: spec.policy,
        },
      },
    ]);
  });

  test('a standard queue gets no FifoQueue attribute', () => {
    assert.deepEqual(createAttributes({ providerRef: { name: 'aws' }, queueName: 'plain', visibilityTimeout: 5 }), { VisibilityTimeout: '5' });
    assert.deepEqual(createAttributes({ providerRef: { name: 'aws' }, queueName: 'p', encryption: { enabled: true, kmsKeyID: 'k' } }), {
      KmsMasterKeyId: 'k',
    });
  });

  test('a queue that exists with other attributes is brought in line instead', async () => {
    for (const name of ['QueueNameExists', 'QueueAlreadyExists']) {
      const context = stubContext(
        {
          ...existingQueue({ ...inSyncAttributes, VisibilityTimeout: '30' }, { [OWNER_TAG]: OWNER, [CLUSTER_TAG]: TEST_CLUSTER_ID, Old: 'x' }),
          CreateQueueCommand: awsError(name),
        },
        { resource, tags: TAGS },
      );
      await queueHandler.create(context, spec);
      assert.deepEqual(context.callsTo('SetQueueAttributesCommand'), [
        // The policy rides along: see the moto note in reconcileQueue.
        { QueueUrl: URL, Attributes: { VisibilityTimeout: '60', Policy: spec.policy } },
      ], name);
      assert.deepEqual(context.callsTo('TagQueueCommand'), [{ QueueUrl: URL, Tags: { Team: 'shop' } }]);
      assert.deepEqual(context.callsTo('UntagQueueCommand'), [{ QueueUrl: URL, TagKeys: ['Old'] }]);
    }
  });

  test('an existing queue tagged for another resource is not taken over', async () => {
    const context = stubContext(
      { ...existingQueue(inSyncAttributes, { [OWNER_TAG]: 'SQSQueue/other/orders' }), CreateQueueCommand: awsError('QueueNameExists') },
      { resource, tags: TAGS },
    );
    const error = await queueHandler.create(context, spec).then(
      () => assert.fail('create should fail'),
      (e: unknown) => e,
    );
    assert.equal(classifyAwsError(error, queueHandler.errorCodes), ErrorClass.Terminal);
    assert.deepEqual(context.callsTo('TagQueueCommand'), []);
    assert.deepEqual(context.callsTo('SetQueueAttributesCommand'), []);
  });

  test('a queue made outside the operator is left alone: AlreadyExists, nothing written', async () => {
    for (const create of [{ QueueUrl: URL }, awsError('QueueNameExists')]) {
      const context = stubContext(
        { ...existingQueue(inSyncAttributes, { Team: 'theirs' }), CreateQueueCommand: create },
        { resource, tags: TAGS },
      );
      const error = await queueHandler.create(context, spec).then(
        () => assert.fail('create should fail'),
        (e: unknown) => e,
      );
      assert.equal((error as Error).name, 'AlreadyExists');
      assert.match((error as Error).message, /adoption-policy=adopt/);
      assert.equal(classifyAwsError(error, queueHandler.errorCodes), ErrorClass.Terminal);
      assert.deepEqual(context.callsTo('TagQueueCommand'), []);
      assert.deepEqual(context.callsTo('SetQueueAttributesCommand'), []);
    }
  });

  test("another cluster's queue of the same name is not taken over", async () => {
    const context = stubContext(
      { ...existingQueue(inSyncAttributes, { [OWNER_TAG]: OWNER, [CLUSTER_TAG]: 'other-cluster' }), CreateQueueCommand: { QueueUrl: URL } },
      { resource, tags: TAGS },
    );
    await assert.rejects(queueHandler.create(context, spec), { name: 'OwnedByAnotherResource', message: /in cluster other-cluster/ });
  });

  test('QueueDeletedRecently surfaces as retryable', async () => {
    const context = stubContext({ CreateQueueCommand: awsError('QueueDeletedRecently') }, { resource, tags: TAGS });
    const error = await queueHandler.create(context, spec).then(
      () => assert.fail('create should fail'),
      (e: unknown) => e,
    );
    assert.equal(classifyAwsError(error, queueHandler.errorCodes), ErrorClass.Retryable);
  });
});

describe('update', () => {
  test('sends only the differing attributes, and fixes tags with TagQueue/UntagQueue', async () => {
    const changed: QueueSpec = { ...spec, policy: undefined, visibilityTimeout: 120, deadLetterQueue: undefined };
    const context = stubContext(existingQueue(inSyncAttributes, { ...TAGS, Extra: 'x', Team: 'old' }), { resource, tags: TAGS });
    const observed = await queueHandler.observe(context, changed);
    assert.deepEqual(observed.differences, [
      'visibilityTimeout: 60 -> 120',
      `deadLetterQueue: ${DLQ} (maxReceiveCount 5) -> none`,
      'tags: -Extra, ~Team',
    ]);
    await queueHandler.update(context, changed, observed);
    assert.deepEqual(context.callsTo('SetQueueAttributesCommand'), [
      { QueueUrl: URL, Attributes: { VisibilityTimeout: '120', RedrivePolicy: '' } },
    ]);
    assert.deepEqual(context.callsTo('TagQueueCommand'), [{ QueueUrl: URL, Tags: { Team: 'shop' } }]);
    assert.deepEqual(context.callsTo('UntagQueueCommand'), [{ QueueUrl: URL, TagKeys: ['Extra'] }]);
  });

  test('nothing differs: nothing is written', async () => {
    const context = stubContext(existingQueue(), { resource, tags: TAGS });
    await queueHandler.update(context, spec, await queueHandler.observe(context, spec));
    assert.deepEqual(
      context.commandNames().filter((name) => !name.startsWith('Get') && !name.startsWith('List')),
      [],
    );
  });
});

describe('delete', () => {
  test('deletes the queue by URL', async () => {
    const context = stubContext({ GetQueueUrlCommand: { QueueUrl: URL }, DeleteQueueCommand: {} }, { resource, tags: TAGS });
    assert.equal(await queueHandler.delete(context, spec), 'Deleted');
    assert.deepEqual(context.callsTo('DeleteQueueCommand'), [{ QueueUrl: URL }]);
  });

  test('a queue that is already gone is Deleted', async () => {
    const context = stubContext({ GetQueueUrlCommand: awsError('QueueDoesNotExist') }, { resource, tags: TAGS });
    assert.equal(await queueHandler.delete(context, spec), 'Deleted');
  });

  test('other errors are not swallowed', async () => {
    const context = stubContext(
      { GetQueueUrlCommand: { QueueUrl: URL }, DeleteQueueCommand: awsError('AccessDenied', { status: 403 }) },
      { resource, tags: TAGS },
    );
    await assert.rejects(queueHandler.delete(context, spec), { name: 'AccessDenied' });
  });
});
