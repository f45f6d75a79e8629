/**
 * SNSTopic: one SNS topic, standard or FIFO, with its attributes (display
 * name, encryption, delivery and access policies), tags and subscriptions.
 *
 * SNS sets one topic attribute per SetTopicAttributes call and one
 * subscription attribute per SetSubscriptionAttributes call, so the handler
 * compares and fixes attribute by attribute. A topic attribute the spec
 * leaves unset is not managed. Tags are always managed, and so are the
 * subscriptions once the spec lists them: the operator owns the set.
 *
 * A subscription through `queueRef` also needs the queue to accept the
 * topic's messages: the handler keeps one statement of its own (see
 * sqs/queue-policy.ts) in that queue's policy, which the SQSQueue's own
 * drift repair leaves in place, and removes it with the subscription.
 */
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTagsForResourceCommand,
  ListTopicsCommand,
  SNSClient,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
  TagResourceCommand,
  UnsubscribeCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Subscription, TopicSpec } from '../../../crds/kinds/sns-topic.js';
import { errorName, isNotFound, unlessNotFound, type ErrorCodes } from '../errors.js';
import { absent, present, type AwsContext, type Observation, type ResourceHandler } from '../handler.js';
import { samePolicy } from '../sqs/queue.js';
import { hasGrant, topicGrant, topicGrantSid, withGrant, withoutGrant } from '../sqs/queue-policy.js';
import { ADOPT_BY_NAME_HINT, alreadyExists, assertNotOwnedByAnother, compareTags, ownership, tagChanges } from '../tags.js';
import { arnOf } from '../arn.js';

/** SNS's "no such topic" (modeled NotFoundException; the query protocol's code is NotFound). */
const ERROR_CODES: ErrorCodes = { notFound: ['NotFoundException', 'NotFound'] };

/** CreateTopic's answer for a name that exists with other attributes or tags, among other bad parameters. */
const INVALID_PARAMETER = new Set(['InvalidParameterException', 'InvalidParameter']);

/** The key SNS uses when encryption is on and no key is named: the account's AWS-managed SNS key. */
export const DEFAULT_SNS_KEY = 'alias/aws/sns';

/** The SubscriptionArn SNS lists for a subscription whose endpoint has not confirmed it yet. */
const PENDING_CONFIRMATION = 'PendingConfirmation';

/** Protocols for which SNS honours RawMessageDelivery (the schema refuses it for the others). */
const RAW_DELIVERY_PROTOCOLS = new Set(['sqs', 'http', 'https', 'firehose']);

/** Attributes as SNS reads and writes them: strings by name. */
export type Attributes = Record<string, string>;

/** One subscription as SNS lists it, with its attributes when it is confirmed and wanted. */
export interface ObservedSubscription {
  arn: string;
  protocol: string;
  endpoint: string;
  pending: boolean;
  attributes?: Attributes;
}

/** What AWS has for one topic. */
export interface ObservedTopic {
  arn: string;
  attributes: Attributes;
  tags: Record<string, string>;
  subscriptions: ObservedSubscription[];
  /** Policy of each referenced queue, by queue ARN ('' for none). */
  queuePolicies: Record<string, string>;
}

/** A subscription as the spec means it, its queueRef resolved. */
export interface WantedSubscription {
  protocol: string;
  endpoint: string;
  /** The attributes the spec manages, as SNS spells them. */
  attributes: Attributes;
  /** For queueRef: the queue, whose policy must let the topic send. */
  queue?: { arn: string; url: string };
}

/** One topic attribute that differs, with the value that fixes it; reads as `displayName: a -> b`. */
export interface AttributeChange {
  field: string;
  detail: string;
  name: string;
  value: string;
}

/** What to do to the subscriptions: subscribe, unsubscribe, change attributes, grant queues. */
export interface SubscriptionPlan {
  add: WantedSubscription[];
  remove: ObservedSubscription[];
  change: Array<{ subscription: ObservedSubscription; changes: AttributeChange[] }>;
  grant: WantedSubscription[];
}

// ---------------------------------------------------------------------------
// Mapping: spec -> AWS. Pure.

/** The topic ARN SNS gives `topicName`, when the account is known. */
export function topicArnFor(context: Pick<AwsContext, 'region' | 'accountID' | 'awsID'>, topicName: string): string | undefined {
  // The recorded (or adopted) ARN, when it names this topic here; topicName is immutable.
  const [prefix, , service, region, , name] = context.awsID?.split(':') ?? [];
  if (context.awsID && prefix === 'arn' && service === 'sns' && region === context.region && name === topicName) return context.awsID;
  if (!context.accountID) return undefined;
  return arnOf('sns', context.region, context.accountID, topicName);
}

function isFifo(desired: TopicSpec): boolean {
  return desired.fifoTopic === true || desired.topicName.endsWith('.fifo');
}

function kmsKey(encryption: NonNullable<TopicSpec['encryption']>): string {
  return encryption.enabled ? (encryption.kmsKeyID ?? DEFAULT_SNS_KEY) : '';
}

/** Every attribute the spec sets, as CreateTopic takes them. */
export function createAttributes(desired: TopicSpec): Attributes {
  const attributes: Attributes = {};
  // FifoTopic is fixed at creation; a standard topic is simply not named FIFO.
  if (isFifo(desired)) attributes.FifoTopic = 'true';
  if (desired.contentBasedDeduplication !== undefined) attributes.ContentBasedDeduplication = String(desired.contentBasedDeduplication);
  if (desired.displayName !== undefined) attributes.DisplayName = desired.displayName;
  if (desired.encryption?.enabled) attributes.KmsMasterKeyId = kmsKey(desired.encryption);
  if (desired.deliveryPolicy !== undefined) attributes.DeliveryPolicy = desired.deliveryPolicy;
  if (desired.policy !== undefined) attributes.Policy = desired.policy;
  return attributes;
}

/** The attributes of one subscription that the spec manages: unset means none (no filter, not raw). */
export function subscriptionAttributes(protocol: string, subscription: Subscription): Attributes {
  const attributes: Attributes = { FilterPolicy: subscription.filterPolicy ?? '' };
  if (subscription.filterPolicy !== undefined) attributes.FilterPolicyScope = subscription.filterPolicyScope ?? 'MessageAttributes';
  if (RAW_DELIVERY_PROTOCOLS.has(protocol)) attributes.RawMessageDelivery = String(subscription.rawMessageDelivery ?? false);
  if (subscription.subscriptionRoleARN !== undefined) attributes.SubscriptionRoleArn = subscription.subscriptionRoleARN;
  return attributes;
}

/** What Subscribe is given: only what differs from a new subscription's defaults. */
export function subscribeAttributes(wanted: WantedSubscription): Attributes {
  return Object.fromEntries(
    Object.entries(wanted.attributes).filter(([name, value]) => !(name === 'FilterPolicy' && value === '') && !(name === 'RawMessageDelivery' && value === 'false')),
  );
}

const subscriptionKey = (subscription: { protocol: string; endpoint: string }) => `${subscription.protocol} ${subscription.endpoint}`;

/** The status fields of a topic. */
export function topicStatus(topicName: string, observed: Pick<ObservedTopic, 'arn' | 'subscriptions'>): Observation['status'] {
  const pending = observed.subscriptions.filter((subscription) => subscription.pending).length;
  return {
    topicName,
    topicARN: observed.arn,
    subscriptionsConfirmed: observed.subscriptions.length - pending,
    subscriptionsPending: pending,
  };
}

// ---------------------------------------------------------------------------
// Comparison: desired vs observed. Pure.

const sameBoolean = (a: string | undefined, b: string) => String(a ?? 'false').toLowerCase() === b.toLowerCase();

/** Topic attributes that differ from the spec, each with the SetTopicAttributes that fixes it. */
export function topicAttributeChanges(desired: TopicSpec, observed: Attributes): AttributeChange[] {
  const changes: AttributeChange[] = [];
  const change = (field: string, name: string, value: string, detail: string) => changes.push({ field, name, value, detail });
  if (desired.displayName !== undefined && desired.displayName !== (observed.DisplayName ?? '')) {
    change('displayName', 'DisplayName', desired.displayName, `${JSON.stringify(observed.DisplayName ?? '')} -> ${JSON.stringify(desired.displayName)}`);
  }
  const dedup = desired.contentBasedDeduplication;
  if (dedup !== undefined && !sameBoolean(observed.ContentBasedDeduplication, String(dedup))) {
    change('contentBasedDeduplication', 'ContentBasedDeduplication', String(dedup), `${observed.ContentBasedDeduplication ?? 'false'} -> ${dedup}`);
  }
  if (desired.encryption) {
    const wanted = kmsKey(desired.encryption);
    const current = observed.KmsMasterKeyId ?? '';
    if (wanted !== current) change('encryption', 'KmsMasterKeyId', wanted, `${current || 'none'} -> ${wanted || 'none'}`);
  }
  if (desired.deliveryPolicy !== undefined && !samePolicy(desired.deliveryPolicy, observed.DeliveryPolicy)) {
    change('deliveryPolicy', 'DeliveryPolicy', desired.deliveryPolicy, observed.DeliveryPolicy ? 'changed' : 'unset -> set');
  }
  if (desired.policy !== undefined && !samePolicy(desired.policy, observed.Policy)) {
    change('policy', 'Policy', desired.policy, observed.Policy ? 'changed' : 'unset -> set');
  }
  return changes;
}

const FIELD_OF: Record<string, string> = {
  FilterPolicyScope: 'filterPolicyScope',
  FilterPolicy: 'filterPolicy',
  RawMessageDelivery: 'rawMessageDelivery',
  SubscriptionRoleArn: 'subscriptionRoleARN',
};

function isNoFilter(policy: string | undefined): boolean {
  return policy === undefined || policy === '' || policy.replace(/\s/g, '') === '{}';
}

/**
 * Subscription attributes that differ. FilterPolicyScope comes first: SNS
 * checks a filter policy against the scope in force when it is set.
 */
export function subscriptionAttributeChanges(wanted: Attributes, observed: Attributes): AttributeChange[] {
  const changes: AttributeChange[] = [];
  for (const name of ['FilterPolicyScope', 'FilterPolicy', 'RawMessageDelivery', 'SubscriptionRoleArn']) {
    const value = wanted[name];
    if (value === undefined) continue;
    const current = observed[name];
    let same: boolean;
    if (name === 'FilterPolicy') same = value === '' ? isNoFilter(current) : !isNoFilter(current) && samePolicy(value, current);
    else if (name === 'RawMessageDelivery') same = sameBoolean(current, value);
    else same = value === current;
    if (same) continue;
    const detail = name === 'FilterPolicy' ? `${isNoFilter(current) ? 'none' : 'set'} -> ${value === '' ? 'none' : 'set'}` : `${current ?? 'unset'} -> ${value}`;
    changes.push({ field: FIELD_OF[name] ?? name, name, value, detail });
  }
  return changes;
}

/**
 * How to turn the observed subscriptions into the wanted ones. A subscription
 * is its protocol and endpoint. One waiting for confirmation has no ARN to
 * act on yet (SNS drops it unconfirmed after a few days), so it is neither
 * changed nor removed.
 */
export function planSubscriptions(
  wanted: WantedSubscription[],
  observed: ObservedSubscription[],
  queuePolicies: Record<string, string>,
  topicArn: string,
): SubscriptionPlan {
  const byKey = new Map(observed.map((subscription) => [subscriptionKey(subscription), subscription]));
  const wantedKeys = new Set(wanted.map(subscriptionKey));
  const plan: SubscriptionPlan = { add: [], remove: [], change: [], grant: [] };
  for (const subscription of wanted) {
    const found = byKey.get(subscriptionKey(subscription));
    if (!found) plan.add.push(subscription);
    else if (!found.pending && found.attributes) {
      const changes = subscriptionAttributeChanges(subscription.attributes, found.attributes);
      if (changes.length) plan.change.push({ subscription: found, changes });
    }
    if (subscription.queue && !hasGrant(queuePolicies[subscription.queue.arn], topicGrant(subscription.queue.arn, topicArn))) {
      plan.grant.push(subscription);
    }
  }
  plan.remove = observed.filter((subscription) => !subscription.pending && !wantedKeys.has(subscriptionKey(subscription)));
  return plan;
}

/** Every difference, readable, as it appears in conditions and events. */
export function compareTopic(
  desired: TopicSpec,
  observed: ObservedTopic,
  wanted: WantedSubscription[] | undefined,
  desiredTags: Record<string, string>,
): string[] {
  const differences = topicAttributeChanges(desired, observed.attributes).map((change) => `${change.field}: ${change.detail}`);
  const tags = compareTags(desiredTags, observed.tags);
  if (tags) differences.push(`tags: ${tags}`);
  if (wanted) {
    const plan = planSubscriptions(wanted, observed.subscriptions, observed.queuePolicies, observed.arn);
    differences.push(
      ...plan.add.map((subscription) => `subscriptions: +${subscriptionKey(subscription)}`),
      ...plan.remove.map((subscription) => `subscriptions: -${subscriptionKey(subscription)}`),
      ...plan.change.flatMap(({ subscription, changes }) =>
        changes.map((change) => `subscriptions[${subscriptionKey(subscription)}].${change.field}: ${change.detail}`),
      ),
      ...plan.grant.map((subscription) => `subscriptions[${subscriptionKey(subscription)}]: the queue policy does not let this topic send to the queue`),
    );
  }
  return differences;
}

// ---------------------------------------------------------------------------
// AWS calls.

/** The spec's subscriptions, queueRefs resolved to the queue's ARN and URL; duplicates once. */
async function wantedSubscriptions(context: AwsContext, desired: TopicSpec): Promise<WantedSubscription[] | undefined> {
  if (!desired.subscriptions) return undefined;
  const wanted = new Map<string, WantedSubscription>();
  for (const subscription of desired.subscriptions) {
    let endpoint = subscription.endpoint ?? '';
    let queue: WantedSubscription['queue'];
    if (subscription.queueRef) {
      const ref = { kind: 'SQSQueue', ...subscription.queueRef };
      queue = { arn: await context.resolve(ref, 'queueARN'), url: await context.resolve(ref, 'queueURL') };
      endpoint = queue.arn;
    }
    const entry: WantedSubscription = { protocol: subscription.protocol, endpoint, attributes: subscriptionAttributes(subscription.protocol, subscription) };
    if (queue) entry.queue = queue;
    wanted.set(subscriptionKey(entry), entry);
  }
  return [...wanted.values()];
}

/** The topic's ARN: known from the account, else looked up by name (a provider whose account STS has not reported). */
async function locateTopic(context: AwsContext, sns: SNSClient, topicName: string): Promise<string | undefined> {
  const known = topicArnFor(context, topicName);
  if (known) return known;
  let NextToken: string | undefined;
  do {
    const page = await sns.send(new ListTopicsCommand({ NextToken }));
    const found = page.Topics?.find((topic) => topic.TopicArn?.split(':')[5] === topicName)?.TopicArn;
    if (found) return found;
    NextToken = page.NextToken;
  } while (NextToken);
  return undefined;
}

async function readTags(sns: SNSClient, arn: string): Promise<Record<string, string>> {
  const { Tags } = await sns.send(new ListTagsForResourceCommand({ ResourceArn: arn }));
  return Object.fromEntries((Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

async function listSubscriptions(sns: SNSClient, arn: string): Promise<ObservedSubscription[]> {
  const subscriptions: ObservedSubscription[] = [];
  let NextToken: string | undefined;
  do {
    const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn, NextToken }));
    for (const subscription of page.Subscriptions ?? []) {
      const subscriptionArn = subscription.SubscriptionArn ?? '';
      subscriptions.push({
        arn: subscriptionArn,
        protocol: subscription.Protocol ?? '',
        endpoint: subscription.Endpoint ?? '',
        pending: subscriptionArn === PENDING_CONFIRMATION || !subscriptionArn.startsWith('arn:'),
      });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return subscriptions;
}

async function queuePolicy(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['Policy'] }));
  return Attributes?.Policy ?? '';
}

/** Reads attributes and tags. Throws NotFound for no topic. */
async function readTopic(sns: SNSClient, arn: string): Promise<ObservedTopic> {
  const [{ Attributes }, tags] = await Promise.all([sns.send(new GetTopicAttributesCommand({ TopicArn: arn })), readTags(sns, arn)]);
  return { arn, attributes: Attributes ?? {}, tags, subscriptions: [], queuePolicies: {} };
}

/**
 * Adds to `observed` what comparing `wanted` needs: the attributes of the
 * confirmed subscriptions it wants, and the policies of the queues it
 * refers to.
 */
async function readSubscriptionDetails(context: AwsContext, sns: SNSClient, observed: ObservedTopic, wanted: WantedSubscription[]): Promise<void> {
  const wantedKeys = new Set(wanted.map(subscriptionKey));
  await Promise.all(
    observed.subscriptions
      .filter((subscription) => !subscription.pending && wantedKeys.has(subscriptionKey(subscription)))
      .map(async (subscription) => {
        const answer = await unlessNotFound(sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscription.arn })), ERROR_CODES);
        subscription.attributes = answer?.Attributes ?? {};
      }),
  );
  const queues = wanted.flatMap((subscription) => (subscription.queue ? [subscription.queue] : []));
  if (!queues.length) return;
  const sqs = context.client(SQSClient);
  for (const queue of queues) observed.queuePolicies[queue.arn] = await queuePolicy(sqs, queue.url);
}

/** Everything reconciling needs: the topic, and its subscriptions when the spec lists any. */
async function readAll(context: AwsContext, sns: SNSClient, arn: string, wanted: WantedSubscription[] | undefined): Promise<ObservedTopic> {
  const observed = await readTopic(sns, arn);
  if (!wanted) return observed;
  observed.subscriptions = await listSubscriptions(sns, arn);
  await readSubscriptionDetails(context, sns, observed, wanted);
  return observed;
}

async function subscribe(sns: SNSClient, topicArn: string, subscription: WantedSubscription): Promise<void> {
  const attributes = subscribeAttributes(subscription);
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: subscription.protocol,
      Endpoint: subscription.endpoint,
      ReturnSubscriptionArn: true,
      ...(Object.keys(attributes).length ? { Attributes: attributes } : {}),
    }),
  );
}

/** Adds the topic's statement to the queue policy, keeping every other statement. */
async function grantQueue(sqs: SQSClient, queue: { arn: string; url: string }, topicArn: string, current: string | undefined): Promise<void> {
  const policy = withGrant(current ?? (await queuePolicy(sqs, queue.url)), topicGrant(queue.arn, topicArn));
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: { Policy: policy } }));
}

/**
 * Takes the topic's statement out of a queue policy, if the queue is in the
 * topic's account and region (the only queues it was ever granted on) and
 * still exists.
 */
async function revokeQueue(sqs: SQSClient, queueArn: string, topicArn: string): Promise<void> {
  const [, , , region, account, name] = queueArn.split(':');
  const [, , , topicRegion, topicAccount] = topicArn.split(':');
  if (!name || region !== topicRegion || account !== topicAccount) return;
  const found = await unlessNotFound(sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account })));
  if (!found?.QueueUrl) return;
  const policy = withoutGrant(await queuePolicy(sqs, found.QueueUrl), topicGrantSid(topicArn));
  if (policy === undefined) return;
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: found.QueueUrl, Attributes: { Policy: policy } }));
}

/**
 * Reads the topic and writes what differs, and only that. Update and the
 * "topic already exists" path of create both end here; it reads again
 * rather than trusting an observation an activity retry may hand it old.
 */
async function reconcileTopic(
  context: AwsContext,
  sns: SNSClient,
  desired: TopicSpec,
  wanted: WantedSubscription[] | undefined,
  arn: string,
): Promise<void> {
  const observed = await readAll(context, sns, arn, wanted);
  for (const change of topicAttributeChanges(desired, observed.attributes)) {
    await sns.send(new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: change.name, AttributeValue: change.value }));
  }
  const { set, remove } = tagChanges(context.tags, observed.tags);
  if (Object.keys(set).length) {
    await sns.send(new TagResourceCommand({ ResourceArn: arn, Tags: Object.entries(set).map(([Key, Value]) => ({ Key, Value })) }));
  }
  if (remove.length) await sns.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: remove }));
  if (!wanted) return;
  const plan = planSubscriptions(wanted, observed.subscriptions, observed.queuePolicies, arn);
  const sqs = context.client(SQSClient);
  for (const subscription of plan.remove) {
    await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscription.arn }));
    if (subscription.protocol === 'sqs') await revokeQueue(sqs, subscription.endpoint, arn);
  }
  for (const { subscription, changes } of plan.change) {
    for (const change of changes) {
      await sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn: subscription.arn, AttributeName: change.name, AttributeValue: change.value }));
    }
  }
  // The grant before the subscription, so the first message already gets through.
  for (const subscription of plan.grant) {
    if (subscription.queue) await grantQueue(sqs, subscription.queue, arn, observed.queuePolicies[subscription.queue.arn]);
  }
  for (const subscription of plan.add) await subscribe(sns, arn, subscription);
}

/** The SNSTopic handler. */
export const topicHandler: ResourceHandler<TopicSpec> = {
  kind: 'SNSTopic',
  // CreateTopic takes the tags.
  createsTagged: true,
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const sns = context.client(SNSClient);
    const arn = await locateTopic(context, sns, desired.topicName);
    if (!arn) return absent();
    let observed: ObservedTopic;
    try {
      observed = await readTopic(sns, arn);
      // Counted for the status whatever the spec lists.
      observed.subscriptions = await listSubscriptions(sns, arn);
    } catch (error) {
      if (isNotFound(error, ERROR_CODES)) return absent();
      throw error;
    }
    const owner = ownership(context, observed.tags);
    // Another's topic is not compared, so its references need not resolve;
    // while deleting, references may be gone and nothing is compared either.
    const wanted = context.deleting || owner.ownedBy !== undefined ? undefined : await wantedSubscriptions(context, desired);
    if (wanted) await readSubscriptionDetails(context, sns, observed, wanted);
    return present({
      id: arn,
      differences: compareTopic(desired, observed, wanted, context.tags),
      ready: true,
      status: topicStatus(desired.topicName, observed),
      ...owner,
    });
  },

  async create(context, desired) {
    const sns = context.client(SNSClient);
    // Before anything is made: a subscription to a queue not Ready yet waits here.
    const wanted = await wantedSubscriptions(context, desired);
    const what = `topic ${desired.topicName}`;
    let arn: string;
    try {
      // Tags go with the create call, so that even a crash right after it
      // leaves a topic the next observe recognises as ours. CreateTopic with
      // the attributes and tags of an existing topic returns that topic,
      // which makes a retry after a crash safe.
      const answer = await sns.send(
        new CreateTopicCommand({
          Name: desired.topicName,
          Attributes: createAttributes(desired),
          Tags: Object.entries(context.tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      arn = answer.TopicArn ?? '';
    } catch (error) {
      // AWS refuses a name that exists with other attributes or tags: an
      // earlier attempt of ours whose spec has changed since, or a topic
      // made outside the operator since observe looked, which is left alone.
      if (!INVALID_PARAMETER.has(errorName(error))) throw error;
      const existing = await locateTopic(context, sns, desired.topicName);
      const tags = existing ? await unlessNotFound(readTags(sns, existing), ERROR_CODES) : undefined;
      if (!existing || !tags) throw error;
      assertNotOwnedByAnother(context, what, tags);
      if (ownership(context, tags).unmanaged) throw alreadyExists(what, ADOPT_BY_NAME_HINT);
      await reconcileTopic(context, sns, desired, wanted, existing);
      return;
    }
    // CreateTopic answers with an existing topic of that name when nothing
    // differs (and some endpoints whatever the tags): it is ours only if it
    // carries our tags.
    const tags = await readTags(sns, arn);
    assertNotOwnedByAnother(context, what, tags);
    if (ownership(context, tags).unmanaged) throw alreadyExists(what, ADOPT_BY_NAME_HINT);
    if (!wanted?.length) return;
    // A new topic has no subscriptions, so each is made without a listing.
    // A retried create meets those of its earlier attempt: SNS answers the
    // same subscription for the same attributes and refuses other ones, and
    // then the full comparison fixes them.
    const sqs = context.client(SQSClient);
    try {
      for (const subscription of wanted) {
        if (subscription.queue) await grantQueue(sqs, subscription.queue, arn, undefined);
        await subscribe(sns, arn, subscription);
      }
    } catch (error) {
      if (!INVALID_PARAMETER.has(errorName(error))) throw error;
      await reconcileTopic(context, sns, desired, wanted, arn);
    }
  },

  async update(context, desired) {
    const sns = context.client(SNSClient);
    const arn = await locateTopic(context, sns, desired.topicName);
    if (!arn) throw Object.assign(new Error(`topic ${desired.topicName} not found`), { name: 'NotFound' });
    await reconcileTopic(context, sns, desired, await wantedSubscriptions(context, desired), arn);
  },

  async delete(context, desired) {
    const sns = context.client(SNSClient);
    const arn = await locateTopic(context, sns, desired.topicName);
    if (!arn) return 'Deleted';
    const subscriptions = await unlessNotFound(listSubscriptions(sns, arn), ERROR_CODES);
    if (!subscriptions) return 'Deleted';
    // The queues keep no statement for a topic that is gone. SNS removes
    // the subscriptions with the topic.
    const sqs = context.client(SQSClient);
    for (const subscription of subscriptions) {
      if (subscription.protocol === 'sqs') await revokeQueue(sqs, subscription.endpoint, arn);
    }
    await unlessNotFound(sns.send(new DeleteTopicCommand({ TopicArn: arn })), ERROR_CODES);
    return 'Deleted';
  },

  async connectionDetails(context, desired, observed) {
    return { name: desired.topicName, arn: observed.id ?? '', region: context.region };
  },
};
