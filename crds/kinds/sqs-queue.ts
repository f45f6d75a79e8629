import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { ConnectionSecretRef, DeletionPolicySchema, JsonDocument, ProviderRef, StringEnum, Tags, commonStatusProperties, immutable } from '../schema.js';

const QueueArn = Type.String({
  pattern: '^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$',
  maxLength: 256,
  description: 'ARN of an SQS queue',
});

/** CEL: the dead-letter queue named by `field` is FIFO exactly when this queue is. */
const sameTypeDlq = (field: string) =>
  `(!has(self.deadLetterQueue.${field}) || self.deadLetterQueue.${field}.endsWith('.fifo') == self.queueName.endsWith('.fifo'))`;

export const QueueSpec = Type.Object({
  providerRef: ProviderRef,
  queueName: immutable(
    Type.String({
      minLength: 1,
      maxLength: 80,
      pattern: '^[A-Za-z0-9_-]+(\\.fifo)?$',
      description: 'queue name, up to 80 letters, digits, hyphens and underscores; FIFO queues end with .fifo. Fixed at creation',
    }),
    'queueName',
  ),
  fifoQueue: Type.Optional(
    immutable(
      Type.Boolean({ description: 'true for a FIFO queue (exactly-once, ordered), whose queueName must end with .fifo; unset or false: standard. Fixed at creation' }),
      'fifoQueue',
    ),
  ),
  contentBasedDeduplication: Type.Optional(
    Type.Boolean({
      description: 'FIFO only: deduplicate by a SHA-256 of the message body when a message has no deduplication ID; unset leaves it as AWS has it (off)',
    }),
  ),
  deduplicationScope: Type.Optional(
    StringEnum(['messageGroup', 'queue'] as const, {
      description: 'FIFO only: whether deduplication IDs are unique per message group or per queue; unset leaves it as AWS has it (queue)',
    }),
  ),
  fifoThroughputLimit: Type.Optional(
    StringEnum(['perMessageGroupId', 'perQueue'] as const, {
      description:
        'FIFO only: whether the throughput quota applies per message group (high throughput, with deduplicationScope messageGroup) or per queue; unset leaves it as AWS has it (perQueue)',
    }),
  ),
  delaySeconds: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 900, description: 'seconds every new message stays invisible, 0-900; unset leaves it as AWS has it (0)' }),
  ),
  maximumMessageSize: Type.Optional(
    Type.Integer({
      minimum: 1024,
      maximum: 1048576,
      description: 'largest message SQS accepts, in bytes, 1024-1048576; unset leaves it as AWS has it',
    }),
  ),
  messageRetentionPeriod: Type.Optional(
    Type.Integer({
      minimum: 60,
      maximum: 1209600,
      description: 'seconds a message is kept, 60 (1 minute) to 1209600 (14 days); unset leaves it as AWS has it (345600, 4 days)',
    }),
  ),
  receiveMessageWaitTimeSeconds: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 20,
      description: 'seconds a receive waits for a message (long polling), 0-20; unset leaves it as AWS has it (0: short polling)',
    }),
  ),
  visibilityTimeout: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 43200,
      description: 'seconds a received message stays hidden from other consumers, 0-43200 (12 hours); unset leaves it as AWS has it (30)',
    }),
  ),
  deadLetterQueue: Type.Optional(
    Type.Object(
      {
        queueARN: Type.Optional({ ...QueueArn, description: 'ARN of the dead-letter queue, e.g. arn:aws:sqs:us-east-1:123456789012:my-dlq' }),
        targetArn: Type.Optional({ ...QueueArn, description: 'the same as queueARN, the spelling of earlier samples; set one of the two' }),
        maxReceiveCount: Type.Integer({
          minimum: 1,
          maximum: 1000,
          description: 'receives after which a message moves to the dead-letter queue, 1-1000',
        }),
      },
      {
        description:
          'redrive policy; queueARN (guide) and targetArn (earlier samples) are the same field. Unset removes any redrive policy from the queue',
      },
    ),
  ),
  encryption: Type.Optional(
    Type.Object(
      {
        enabled: Type.Boolean({ description: 'true encrypts messages at rest, with kmsKeyID or else SQS-managed keys (SSE-SQS); false turns SSE-SQS off' }),
        kmsKeyID: Type.Optional(
          Type.String({ minLength: 1, description: 'KMS key ID, ARN or alias, e.g. alias/aws/sqs; unset uses SQS-managed SSE' }),
        ),
        kmsDataKeyReusePeriodSeconds: Type.Optional(
          Type.Integer({
            minimum: 60,
            maximum: 86400,
            description: 'with kmsKeyID: seconds SQS reuses a data key before calling KMS again, 60-86400; unset leaves it as AWS has it (300)',
          }),
        ),
      },
      { description: 'server-side encryption; unset leaves it as AWS has it' },
    ),
  ),
  policy: Type.Optional(
    JsonDocument({
      description:
        'queue access policy, a JSON IAM policy document (one that is not a JSON object is refused before any AWS call); unset leaves it as AWS has it',
    }),
  ),
  tags: Type.Optional(Tags),
  writeConnectionSecretToRef: Type.Optional(ConnectionSecretRef),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type QueueSpec = Static<typeof QueueSpec>;

export const QueueStatus = Type.Object({
  ...commonStatusProperties,
  queueName: Type.Optional(Type.String({ description: 'name of the queue in SQS' })),
  queueURL: Type.Optional(Type.String({ description: 'URL of the queue, for SQS API calls' })),
  queueARN: Type.Optional(Type.String({ description: 'ARN of the queue, e.g. arn:aws:sqs:us-east-1:123456789012:my-queue' })),
  approximateNumberOfMessages: Type.Optional(
    Type.Integer({ description: 'messages available for retrieval at the last check, as SQS estimates it' }),
  ),
});
export type QueueStatus = Static<typeof QueueStatus>;

export const SQSQueueKind = defineKind({
  kind: 'SQSQueue',
  plural: 'sqsqueues',
  singular: 'sqsqueue',
  shortNames: ['sqs'],
  description: 'an SQS queue, standard or FIFO, with redrive and encryption',
  spec: QueueSpec,
  status: QueueStatus,
  specRules: [
    {
      rule: "(has(self.fifoQueue) && self.fifoQueue) == self.queueName.endsWith('.fifo')",
      message: 'fifoQueue must be true exactly when queueName ends with .fifo',
    },
    {
      rule: '!has(self.deadLetterQueue) || has(self.deadLetterQueue.queueARN) != has(self.deadLetterQueue.targetArn)',
      message: 'deadLetterQueue needs exactly one of queueARN or targetArn',
    },
    {
      rule: `!has(self.deadLetterQueue) || (${sameTypeDlq('queueARN')} && ${sameTypeDlq('targetArn')})`,
      message:
        'deadLetterQueue must be a queue of the same type: a FIFO queue (queueName ending .fifo) needs a FIFO dead-letter queue (ARN ending .fifo), a standard queue a standard one',
      fieldPath: '.deadLetterQueue',
    },
    {
      rule: '(has(self.fifoQueue) && self.fifoQueue) || !(has(self.contentBasedDeduplication) || has(self.deduplicationScope) || has(self.fifoThroughputLimit))',
      message: 'contentBasedDeduplication, deduplicationScope and fifoThroughputLimit apply to FIFO queues only',
    },
  ],
  printerColumns: [
    { name: 'Queue', type: 'string', jsonPath: '.status.queueName' },
    readyColumn,
    phaseColumn,
    { name: 'ARN', type: 'string', jsonPath: '.status.queueARN', priority: 1 },
    { name: 'URL', type: 'string', jsonPath: '.status.queueURL', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'queueURL',
  references: (spec, namespace) => [providerReference(spec, namespace)],
});
