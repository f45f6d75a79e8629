import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, ProviderRef, StringEnum, Tags, commonStatusProperties, immutable } from '../schema.js';

const QueueArn = Type.String({ pattern: '^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$' });

export const QueueSpec = Type.Object({
  providerRef: ProviderRef,
  queueName: immutable(
    Type.String({
      minLength: 1,
      maxLength: 80,
      pattern: '^[A-Za-z0-9_-]+(\\.fifo)?$',
      description: 'queue name: letters, digits, hyphens and underscores; FIFO queues end with .fifo',
    }),
    'queueName',
  ),
  fifoQueue: Type.Optional(immutable(Type.Boolean(), 'fifoQueue')),
  contentBasedDeduplication: Type.Optional(Type.Boolean()),
  deduplicationScope: Type.Optional(StringEnum(['messageGroup', 'queue'] as const)),
  fifoThroughputLimit: Type.Optional(StringEnum(['perMessageGroupId', 'perQueue'] as const)),
  delaySeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 900 })),
  maximumMessageSize: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1048576 })),
  messageRetentionPeriod: Type.Optional(Type.Integer({ minimum: 60, maximum: 1209600 })),
  receiveMessageWaitTimeSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
  visibilityTimeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 43200 })),
  deadLetterQueue: Type.Optional(
    Type.Object(
      {
        queueARN: Type.Optional(QueueArn),
        targetArn: Type.Optional(QueueArn),
        maxReceiveCount: Type.Integer({ minimum: 1, maximum: 1000 }),
      },
      { description: 'redrive policy; queueARN (guide) and targetArn (earlier samples) are the same field' },
    ),
  ),
  encryption: Type.Optional(
    Type.Object({
      enabled: Type.Boolean(),
      kmsKeyID: Type.Optional(Type.String({ minLength: 1, description: 'KMS key; unset uses SQS-managed SSE' })),
      kmsDataKeyReusePeriodSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 86400 })),
    }),
  ),
  policy: Type.Optional(Type.String({ description: 'queue access policy, a JSON document' })),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type QueueSpec = Static<typeof QueueSpec>;

export const QueueStatus = Type.Object({
  ...commonStatusProperties,
  queueName: Type.Optional(Type.String()),
  queueURL: Type.Optional(Type.String()),
  queueARN: Type.Optional(Type.String()),
  approximateNumberOfMessages: Type.Optional(Type.Integer()),
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
  references: (spec, namespace) => [providerReference(spec, namespace)],
});
