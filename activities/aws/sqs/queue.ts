/**
 * SQSQueue: one SQS queue, standard or FIFO, with its attributes (timing,
 * redrive to a dead-letter queue, encryption, access policy) and tags.
 *
 * SQS takes any subset of attributes in one SetQueueAttributes call, so the
 * handler compares and fixes attribute by attribute. An attribute the spec
 * leaves unset is not managed, with one exception: the redrive policy (see
 * compareRedrive). Tags are always managed: the operator owns the full set.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  SQSClient,
  SetQueueAttributesCommand,
  TagQueueCommand,
  UntagQueueCommand,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import type { QueueSpec } from '../../../crds/kinds/sqs-queue.js';
import { arnOf } from '../arn.js';
import { errorName, isNotFound, type ErrorCodes } from '../errors.js';
import { absent, present, type AwsContext, type Observation, type ResourceHandler } from '../handler.js';
import { ADOPT_BY_NAME_HINT, alreadyExists, assertNotOwnedByAnother, compareTags, ownership, tagChanges } from '../tags.js';
import { mergeTopicGrants, topicGrantsIn } from './queue-policy.js';

// Two resources with one queueName (OwnedByAnotherResource) is terminal for
// every kind, in errors.ts; queues have no codes of their own.
const ERROR_CODES: ErrorCodes = {};

/**
 * CreateQueue's "a queue of this name exists with other attributes": the
 * SDK's modeled name, and the query-protocol code some endpoints still send.
 */
const QUEUE_EXISTS = new Set(['QueueNameExists', 'QueueAlreadyExists', 'AWS.SimpleQueueService.QueueNameExists']);

/** Queue attributes as SQS reads and writes them: strings by attribute name. */
export type Attributes = Partial<Record<QueueAttributeName, string>>;

/** What AWS has for one queue. */
export interface ObservedQueue {
  url: string;
  attributes: Attributes;
  tags: Record<string, string>;
}

/** One field that differs; reads as `visibilityTimeout: 30 -> 60`. */
export interface Difference {
  field: string;
  detail: string;
  /** The attributes that fix it; tags are fixed by TagQueue/UntagQueue instead. */
  attributes?: Attributes;
}

/** Spec fields that map one to one onto an attribute, compared as strings. */
const SCALAR_FIELDS = [
  ['delaySeconds', 'DelaySeconds'],
  ['maximumMessageSize', 'MaximumMessageSize'],
  ['messageRetentionPeriod', 'MessageRetentionPeriod'],
  ['receiveMessageWaitTimeSeconds', 'ReceiveMessageWaitTimeSeconds'],
  ['visibilityTimeout', 'VisibilityTimeout'],
  ['contentBasedDeduplication', 'ContentBasedDeduplication'],
  ['deduplicationScope', 'DeduplicationScope'],
  ['fifoThroughputLimit', 'FifoThroughputLimit'],
] as const satisfies ReadonlyArray<readonly [keyof QueueSpec, QueueAttributeName]>;

// ---------------------------------------------------------------------------
// Mapping: spec -> AWS attributes. Pure.

/** `queueARN` (the guide) and `targetArn` (earlier samples) are the same field. */
export function deadLetterTargetArn(deadLetterQueue: NonNullable<QueueSpec['deadLetterQueue']>): string {
  return deadLetterQueue.queueARN ?? deadLetterQueue.targetArn ?? '';
}

/** The RedrivePolicy attribute, a JSON document. */
export function redrivePolicy(deadLetterQueue: NonNullable<QueueSpec['deadLetterQueue']>): string {
  return JSON.stringify({
    deadLetterTargetArn: deadLetterTargetArn(deadLetterQueue),
    maxReceiveCount: deadLetterQueue.maxReceiveCount,
  });
}

/**
 * Encryption attributes: a KMS key (SQS then turns SSE-SQS off by itself),
 * SQS-managed keys, or none. Naming both a key and SSE-SQS is an error in SQS.
 */
export function encryptionAttributes(encryption: NonNullable<QueueSpec['encryption']>): Attributes {
  if (!encryption.enabled) return { SqsManagedSseEnabled: 'false' };
  if (encryption.kmsKeyID === undefined) return { SqsManagedSseEnabled: 'true' };
  return {
    KmsMasterKeyId: encryption.kmsKeyID,
    ...(encryption.kmsDataKeyReusePeriodSeconds !== undefined
      ? { KmsDataKeyReusePeriodSeconds: String(encryption.kmsDataKeyReusePeriodSeconds) }
      : {}),
  };
}

/** Every attribute the spec sets, as CreateQueue takes them. */
export function createAttributes(desired: QueueSpec): Attributes {
  const attributes: Attributes = {};
  // FifoQueue is fixed at creation, and SQS rejects it (even "false") on a standard queue.
  if (isFifo(desired)) attributes.FifoQueue = 'true';
  for (const [field, attribute] of SCALAR_FIELDS) {
    const value = desired[field];
    if (value !== undefined) attributes[attribute] = String(value);
  }
  if (desired.deadLetterQueue) attributes.RedrivePolicy = redrivePolicy(desired.deadLetterQueue);
  if (desired.encryption) Object.assign(attributes, encryptionAttributes(desired.encryption));
  if (desired.policy !== undefined) attributes.Policy = desired.policy;
  return attributes;
}

function isFifo(desired: QueueSpec): boolean {
  return desired.fifoQueue === true || desired.queueName.endsWith('.fifo');
}

/** The status fields of a queue. */
export function queueStatus(queueName: string, observed: ObservedQueue): Observation['status'] {
  return {
    queueName,
    queueURL: observed.url,
    queueARN: observed.attributes.QueueArn ?? '',
    approximateNumberOfMessages: Number(observed.attributes.ApproximateNumberOfMessages ?? 0),
  };
}

// ---------------------------------------------------------------------------
// Comparison: desired vs observed. Pure.

/** Every field where AWS differs from the spec, with the attributes that fix it. */
export function compareQueue(desired: QueueSpec, observed: ObservedQueue, desiredTags: Record<string, string>): Difference[] {
  const current = observed.attributes;
  const differences: Difference[] = [];
  for (const [field, attribute] of SCALAR_FIELDS) {
    const value = desired[field];
    if (value === undefined || String(value) === current[attribute]) continue;
    differences.push({ field, detail: `${current[attribute] ?? 'unset'} -> ${String(value)}`, attributes: { [attribute]: String(value) } });
  }
  const redrive = compareRedrive(desired.deadLetterQueue, current.RedrivePolicy);
  if (redrive) differences.push(redrive);
  if (desired.encryption) differences.push(...compareEncryption(desired.encryption, current));
  if (desired.policy !== undefined) {
    // The statements SNSTopics added so they can deliver here are theirs, not drift.
    const wanted = mergeTopicGrants(desired.policy, current.Policy);
    if (!samePolicy(wanted, current.Policy)) {
      differences.push({ field: 'policy', detail: current.Policy ? 'changed' : 'unset -> set', attributes: { Policy: wanted } });
    }
  }
  const tags = compareTags(desiredTags, observed.tags);
  if (tags) differences.push({ field: 'tags', detail: tags });
  return differences;
}

/** Readable form of a difference, as it appears in conditions and events. */
export function formatDifference(difference: Difference): string {
  return `${difference.field}: ${difference.detail}`;
}

/**
 * The redrive policy is managed even when the spec leaves deadLetterQueue
 * unset: that is the only way the spec can say "no dead-letter queue", and a
 * queue that keeps redriving to a DLQ the spec no longer names would be a
 * surprise. SQS removes the policy when it is set to ''.
 */
export function compareRedrive(desired: QueueSpec['deadLetterQueue'], observed: string | undefined): Difference | undefined {
  const current = parseRedrive(observed);
  const wanted = desired ? { arn: deadLetterTargetArn(desired), maxReceiveCount: desired.maxReceiveCount } : undefined;
  if (current?.arn === wanted?.arn && current?.maxReceiveCount === wanted?.maxReceiveCount) return undefined;
  return {
    field: 'deadLetterQueue',
    detail: `${describeRedrive(current)} -> ${describeRedrive(wanted)}`,
    attributes: { RedrivePolicy: desired ? redrivePolicy(desired) : '' },
  };
}

function parseRedrive(policy: string | undefined): { arn: string; maxReceiveCount: number } | undefined {
  if (!policy) return undefined;
  try {
    const parsed = JSON.parse(policy) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    // SQS has returned maxReceiveCount both as a number and as a string.
    const arn = typeof parsed.deadLetterTargetArn === 'string' ? parsed.deadLetterTargetArn : '';
    return { arn, maxReceiveCount: Number(parsed.maxReceiveCount) };
  } catch {
    return { arn: policy, maxReceiveCount: Number.NaN };
  }
}

function describeRedrive(redrive: { arn: string; maxReceiveCount: number } | undefined): string {
  return redrive ? `${redrive.arn} (maxReceiveCount ${redrive.maxReceiveCount})` : 'none';
}

/** Compares the encryption mode (none, SSE-SQS, or a KMS key) and, for KMS, the data key reuse period. */
export function compareEncryption(desired: NonNullable<QueueSpec['encryption']>, observed: Attributes): Difference[] {
  // A key decides: AWS turns SqsManagedSseEnabled off when a key is set, but
  // moto (5.2) leaves it "true" next to the key.
  const currentKey = observed.KmsMasterKeyId || undefined;
  const current = currentKey ? `SSE-KMS ${currentKey}` : observed.SqsManagedSseEnabled === 'true' ? 'SSE-SQS' : 'none';
  const wanted = !desired.enabled ? 'none' : desired.kmsKeyID !== undefined ? `SSE-KMS ${desired.kmsKeyID}` : 'SSE-SQS';
  const differences: Difference[] = [];
  if (current !== wanted) {
    const attributes = encryptionAttributes(desired);
    // Leaving KMS means clearing the key; SQS refuses SSE-SQS next to a key.
    if (currentKey && desired.kmsKeyID === undefined) attributes.KmsMasterKeyId = '';
    differences.push({ field: 'encryption', detail: `${current} -> ${wanted}`, attributes });
  }
  const reuse = desired.kmsDataKeyReusePeriodSeconds;
  if (desired.enabled && desired.kmsKeyID !== undefined && reuse !== undefined && current === wanted) {
    if (String(reuse) !== observed.KmsDataKeyReusePeriodSeconds) {
      differences.push({
        field: 'encryption.kmsDataKeyReusePeriodSeconds',
        detail: `${observed.KmsDataKeyReusePeriodSeconds ?? 'unset'} -> ${reuse}`,
        attributes: { KmsDataKeyReusePeriodSeconds: String(reuse) },
      });
    }
  }
  return differences;
}

/** Policies are equal when they parse to the same JSON, whatever the key order and spacing. */
export function samePolicy(desired: string, observed: string | undefined): boolean {
  if (observed === undefined || observed === '') return false;
  return canonicalJson(desired) === canonicalJson(observed);
}

function canonicalJson(text: string): string {
  const sortKeys = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([key, inner]) => [key, sortKeys(inner)]));
  };
  try {
    return JSON.stringify(sortKeys(JSON.parse(text)));
  } catch {
    return text;
  }
}



// ---------------------------------------------------------------------------
// AWS calls.

/** Reads URL, attributes and tags. Throws QueueDoesNotExist when there is no such queue. */
async function readQueue(sqs: SQSClient, queueName: string): Promise<ObservedQueue> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  const url = QueueUrl ?? '';
  const [attributes, tags] = await Promise.all([
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })),
    sqs.send(new ListQueueTagsCommand({ QueueUrl: url })),
  ]);
  return { url, attributes: attributes.Attributes ?? {}, tags: tags.Tags ?? {} };
}

/**
 * Reads the queue and writes what differs, and only that. Update and the
 * "queue already exists" path of create both end here. It reads again rather
 * than trusting the observation it was given: that holds readable
 * differences, not the tag keys to remove or the encryption mode to leave,
 * and an activity retry may hand it an old one.
 */
async function reconcileQueue(context: AwsContext, sqs: SQSClient, desired: QueueSpec, observed: ObservedQueue): Promise<void> {
  const differences = compareQueue(desired, observed, context.tags);
  const attributes: Attributes = {};
  for (const difference of differences) Object.assign(attributes, difference.attributes);
  if (Object.keys(attributes).length) {
    // moto (5.2) clears the access policy on every SetQueueAttributes that
    // does not name it; AWS keeps it. Sending the unchanged policy along
    // costs nothing on AWS and keeps one update enough on moto; so does
    // the policy AWS has when the spec sets none but topics delivering here
    // put their statements in it.
    const current = observed.attributes.Policy;
    if (desired.policy !== undefined) attributes.Policy ??= mergeTopicGrants(desired.policy, current);
    else if (topicGrantsIn(current).length) attributes.Policy ??= current;
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: observed.url, Attributes: attributes }));
  }
  const { set, remove } = tagChanges(context.tags, observed.tags);
  if (Object.keys(set).length) await sqs.send(new TagQueueCommand({ QueueUrl: observed.url, Tags: set }));
  if (remove.length) await sqs.send(new UntagQueueCommand({ QueueUrl: observed.url, TagKeys: remove }));
}

/**
 * The queue CreateQueue made, as observe would read it: its attributes are
 * the spec's and its tags, just read, are ours. Undefined when the URL does
 * not name the account (no ARN to report): the workflow then looks itself.
 */
function createdQueue(context: AwsContext, desired: QueueSpec, url: string): Observation | undefined {
  const account = /\/(\d{12})\/[^/]+$/.exec(url)?.[1];
  if (!account) return undefined;
  const observed: ObservedQueue = {
    url,
    attributes: { QueueArn: arnOf('sqs', context.region, account, desired.queueName) },
    tags: context.tags,
  };
  return present({ id: url, differences: [], ready: true, status: queueStatus(desired.queueName, observed) });
}

/** The SQSQueue handler. */
export const queueHandler: ResourceHandler<QueueSpec> = {
  kind: 'SQSQueue',
  errorCodes: ERROR_CODES,
  // CreateQueue takes the tags.
  createsTagged: true,

  async observe(context, desired) {
    let observed: ObservedQueue;
    try {
      observed = await readQueue(context.client(SQSClient), desired.queueName);
    } catch (error) {
      if (isNotFound(error, ERROR_CODES)) return absent();
      throw error;
    }
    return present({
      id: observed.url,
      differences: compareQueue(desired, observed, context.tags).map(formatDifference),
      ready: true,
      status: queueStatus(desired.queueName, observed),
      ...ownership(context, observed.tags),
    });
  },

  async create(context, desired) {
    const sqs = context.client(SQSClient);
    let created: string | undefined;
    try {
      // Tags go with the create call, so that even a crash right after it
      // leaves a queue the next observe recognises as ours. CreateQueue with
      // the attributes of an existing queue returns that queue, which makes a
      // retry after a crash safe.
      const answer = await sqs.send(
        new CreateQueueCommand({ QueueName: desired.queueName, Attributes: createAttributes(desired), tags: context.tags }),
      );
      created = answer.QueueUrl;
    } catch (error) {
      if (!QUEUE_EXISTS.has(errorName(error))) throw error;
    }
    // The queue may have existed already (CreateQueue answers with it when
    // the attributes match, and refuses when they differ): an earlier attempt
    // of ours, whose tags came with it, or one made outside the operator
    // since observe looked, which is left alone.
    const tags = created ? ((await sqs.send(new ListQueueTagsCommand({ QueueUrl: created }))).Tags ?? {}) : undefined;
    const observed = tags ? undefined : await readQueue(sqs, desired.queueName);
    const found = tags ?? observed?.tags ?? {};
    assertNotOwnedByAnother(context, `queue ${desired.queueName}`, found);
    if (ownership(context, found).unmanaged) throw alreadyExists(`queue ${desired.queueName}`, ADOPT_BY_NAME_HINT);
    if (created) return createdQueue(context, desired, created);
    // Ours, with other attributes: an earlier attempt whose spec has changed since.
    if (observed) await reconcileQueue(context, sqs, desired, observed);
  },

  async update(context, desired) {
    const sqs = context.client(SQSClient);
    await reconcileQueue(context, sqs, desired, await readQueue(sqs, desired.queueName));
  },

  async delete(context, desired) {
    const sqs = context.client(SQSClient);
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: desired.queueName }));
      // SQS finishes deleting within 60 seconds; the queue no longer takes
      // messages from now on, so the custom resource can go.
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    } catch (error) {
      if (!isNotFound(error, ERROR_CODES)) throw error;
    }
    return 'Deleted';
  },

  async connectionDetails(context, desired, observed) {
    const arn = observed.status.queueARN;
    return { name: desired.queueName, url: observed.id ?? '', arn: typeof arn === 'string' ? arn : '', region: context.region };
  },
};
