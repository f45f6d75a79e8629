import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import {
  ConnectionSecretRef,
  DeletionPolicySchema,
  JsonDocument,
  LocalRef,
  ProviderRef,
  StringEnum,
  Tags,
  commonStatusProperties,
  exactlyOne,
  immutable,
  withRules,
} from '../schema.js';

/** Protocols SNS delivers to. */
export const SUBSCRIPTION_PROTOCOLS = ['http', 'https', 'email', 'email-json', 'sms', 'sqs', 'application', 'lambda', 'firehose'] as const;

/** Protocols for which SNS honours RawMessageDelivery. */
const RAW_DELIVERY_PROTOCOLS = ['sqs', 'http', 'https', 'firehose'];

/** Most subscriptions one spec may list; keeps the CEL cost within the API server's budget. */
export const MAX_SUBSCRIPTIONS = 100;

export const Subscription = withRules(
  Type.Object(
    {
      protocol: StringEnum(SUBSCRIPTION_PROTOCOLS, {
        description: 'how SNS delivers: http, https, email, email-json, sms, sqs, application, lambda or firehose',
      }),
      endpoint: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 2048,
          description:
            'where SNS delivers: a URL (http, https), an email address (email, email-json), a phone number (sms), or an ARN (sqs, application, lambda, firehose). Set this or queueRef',
        }),
      ),
      queueRef: Type.Optional({
        ...LocalRef,
        description:
          'protocol sqs only: an SQSQueue of this operator, used once Ready (its status.queueARN); the operator also adds a statement to that queue policy that lets this topic send to it. Set this or endpoint',
      }),
      filterPolicy: Type.Optional(
        JsonDocument({
          description:
            'subscription filter policy, a JSON object (one that is not is refused before any AWS call); only matching messages are delivered. Unset: no filter, every message is delivered',
        }),
      ),
      filterPolicyScope: Type.Optional(
        StringEnum(['MessageAttributes', 'MessageBody'] as const, {
          description: 'with filterPolicy: match message attributes (the default) or the JSON message body',
        }),
      ),
      rawMessageDelivery: Type.Optional(
        Type.Boolean({
          description: 'sqs, http, https and firehose only: deliver the message body as published, without the SNS JSON envelope; unset is false',
        }),
      ),
      subscriptionRoleARN: Type.Optional(
        Type.String({
          pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$',
          maxLength: 2048,
          description: 'firehose only (and required there): the IAM role SNS assumes to write to the delivery stream',
        }),
      ),
    },
    { description: 'one subscription; identified by protocol and endpoint, so changing either replaces it' },
  ),
  [
    exactlyOne('endpoint', 'queueRef'),
    { rule: "!has(self.queueRef) || self.protocol == 'sqs'", message: 'queueRef needs protocol sqs' },
    {
      rule: `!has(self.rawMessageDelivery) || self.protocol in ${JSON.stringify(RAW_DELIVERY_PROTOCOLS)}`,
      message: `rawMessageDelivery applies to protocols ${RAW_DELIVERY_PROTOCOLS.join(', ')} only`,
    },
    { rule: "has(self.subscriptionRoleARN) == (self.protocol == 'firehose')", message: 'subscriptionRoleARN is required for protocol firehose and applies to it only' },
    { rule: '!has(self.filterPolicyScope) || has(self.filterPolicy)', message: 'filterPolicyScope needs a filterPolicy' },
  ],
);
export type Subscription = Static<typeof Subscription>;

export const TopicSpec = Type.Object({
  providerRef: ProviderRef,
  topicName: immutable(
    Type.String({
      minLength: 1,
      maxLength: 256,
      pattern: '^[A-Za-z0-9_-]+(\\.fifo)?$',
      description: 'topic name, up to 256 letters, digits, hyphens and underscores; FIFO topics end with .fifo. Fixed at creation',
    }),
    'topicName',
  ),
  displayName: Type.Optional(
    Type.String({ maxLength: 100, description: 'display name, the sender name of SMS and email deliveries (up to 100 characters); unset leaves it as AWS has it' }),
  ),
  fifoTopic: Type.Optional(
    immutable(
      Type.Boolean({ description: 'true for a FIFO topic (ordered, deduplicated), whose topicName must end with .fifo; unset or false: standard. Fixed at creation' }),
      'fifoTopic',
    ),
  ),
  contentBasedDeduplication: Type.Optional(
    Type.Boolean({
      description: 'FIFO only: deduplicate by a SHA-256 of the message body when a message has no deduplication ID; unset leaves it as AWS has it (off)',
    }),
  ),
  encryption: Type.Optional(
    Type.Object(
      {
        enabled: Type.Boolean({ description: 'true encrypts messages at rest with a KMS key (kmsKeyID, else alias/aws/sns); false turns encryption off' }),
        kmsKeyID: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'KMS key ID, ARN or alias, e.g. alias/aws/sns; unset uses alias/aws/sns' })),
      },
      { description: 'server-side encryption; unset leaves it as AWS has it' },
    ),
  ),
  deliveryPolicy: Type.Optional(
    JsonDocument({
      description:
        'delivery retry policy for http and https subscriptions, a JSON document (one that is not a JSON object is refused before any AWS call); unset leaves it as AWS has it',
    }),
  ),
  policy: Type.Optional(
    JsonDocument({
      description:
        'topic access policy, a JSON IAM policy document (one that is not a JSON object is refused before any AWS call); unset leaves it as AWS has it (the owner account only)',
    }),
  ),
  subscriptions: Type.Optional(
    Type.Array(Subscription, {
      maxItems: MAX_SUBSCRIPTIONS,
      description: `the topic's subscriptions, at most ${MAX_SUBSCRIPTIONS}; the operator owns the set: missing ones are subscribed, others removed, and their attributes kept as written. Unset manages none`,
    }),
  ),
  tags: Type.Optional(Tags),
  writeConnectionSecretToRef: Type.Optional(ConnectionSecretRef),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type TopicSpec = Static<typeof TopicSpec>;

export const TopicStatus = Type.Object({
  ...commonStatusProperties,
  topicName: Type.Optional(Type.String({ description: 'name of the topic in SNS' })),
  topicARN: Type.Optional(Type.String({ description: 'ARN of the topic, e.g. arn:aws:sns:us-east-1:123456789012:my-topic' })),
  subscriptionsConfirmed: Type.Optional(Type.Integer({ description: 'subscriptions of the topic that are confirmed and receive messages' })),
  subscriptionsPending: Type.Optional(
    Type.Integer({ description: 'subscriptions waiting for their endpoint to confirm (an email link, an HTTP confirmation); they receive nothing until then' }),
  ),
});
export type TopicStatus = Static<typeof TopicStatus>;

export const SNSTopicKind = defineKind({
  kind: 'SNSTopic',
  plural: 'snstopics',
  singular: 'snstopic',
  shortNames: ['sns'],
  description: 'an SNS topic, standard or FIFO, with its subscriptions, encryption and policies',
  spec: TopicSpec,
  status: TopicStatus,
  specRules: [
    {
      rule: "(has(self.fifoTopic) && self.fifoTopic) == self.topicName.endsWith('.fifo')",
      message: 'fifoTopic must be true exactly when topicName ends with .fifo',
    },
    {
      rule: '(has(self.fifoTopic) && self.fifoTopic) || !has(self.contentBasedDeduplication)',
      message: 'contentBasedDeduplication applies to FIFO topics only',
    },
    {
      rule: '!has(self.encryption) || self.encryption.enabled || !has(self.encryption.kmsKeyID)',
      message: 'encryption.kmsKeyID needs encryption.enabled: true',
    },
  ],
  printerColumns: [
    { name: 'Topic', type: 'string', jsonPath: '.status.topicName' },
    readyColumn,
    phaseColumn,
    { name: 'Confirmed', type: 'integer', jsonPath: '.status.subscriptionsConfirmed' },
    { name: 'Pending', type: 'integer', jsonPath: '.status.subscriptionsPending' },
    { name: 'ARN', type: 'string', jsonPath: '.status.topicARN', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'topicARN',
  references: (spec, namespace) => [
    providerReference(spec, namespace),
    ...(spec.subscriptions ?? []).flatMap((subscription) => localReference('SQSQueue', subscription.queueRef, namespace)),
  ],
});
