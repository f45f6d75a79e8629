/**
 * The statements an SNSTopic puts into an SQS queue policy so the topic can
 * deliver to the queue, and how the SQSQueue keeps them.
 *
 * Two kinds write one queue policy: the SQSQueue (its spec.policy) and each
 * SNSTopic subscribed through queueRef (one statement). So that they never
 * undo each other's work, each owns its own statements: the topic owns those
 * whose Sid starts with TOPIC_GRANT_SID_PREFIX (one per topic ARN), the queue
 * owns every other. The queue's drift repair keeps the topics' statements
 * (mergeTopicGrants), and a topic adds and removes only its own.
 */
import { createHash } from 'node:crypto';
import type { JsonValue } from '../handler.js';

/** Sid prefix of the statements SNSTopics own in queue policies. */
export const TOPIC_GRANT_SID_PREFIX = 'InfraOperatorSnsTopic';

/** One policy statement, as loose as IAM's JSON. */
export type PolicyStatement = { Sid?: string } & { [key: string]: JsonValue };

interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement[];
  [key: string]: JsonValue | PolicyStatement[] | undefined;
}

/** The Sid of `topicArn`'s statement: IAM allows only letters and digits, so the ARN is hashed. */
export function topicGrantSid(topicArn: string): string {
  return `${TOPIC_GRANT_SID_PREFIX}${createHash('sha256').update(topicArn).digest('hex').slice(0, 20)}`;
}

/** The statement letting `topicArn` (and nothing else) send to `queueArn`. */
export function topicGrant(queueArn: string, topicArn: string): PolicyStatement {
  return {
    Sid: topicGrantSid(topicArn),
    Effect: 'Allow',
    Principal: { Service: 'sns.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: queueArn,
    Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
  };
}

function parsePolicy(text: string | undefined): PolicyDocument | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const document = parsed as { Statement?: unknown };
    const statements = Array.isArray(document.Statement) ? document.Statement : document.Statement ? [document.Statement] : [];
    return { ...(parsed as PolicyDocument), Statement: statements as PolicyStatement[] };
  } catch {
    return undefined;
  }
}

const isTopicGrant = (statement: PolicyStatement) => typeof statement.Sid === 'string' && statement.Sid.startsWith(TOPIC_GRANT_SID_PREFIX);

/** The topics' statements in a queue policy. */
export function topicGrantsIn(policy: string | undefined): PolicyStatement[] {
  return (parsePolicy(policy)?.Statement ?? []).filter(isTopicGrant);
}

/**
 * The queue's own policy with the topics' statements of the policy AWS has
 * added: what the SQSQueue's spec.policy means once topics deliver to it.
 * The spec's own statements win over a topic's of the same Sid.
 */
export function mergeTopicGrants(specPolicy: string, observedPolicy: string | undefined): string {
  const grants = topicGrantsIn(observedPolicy);
  const document = parsePolicy(specPolicy);
  if (!grants.length || !document) return specPolicy;
  const own = new Set(document.Statement.map((statement) => statement.Sid));
  return JSON.stringify({ ...document, Statement: [...document.Statement, ...grants.filter((grant) => !own.has(grant.Sid))] });
}

/** True when `policy` holds `grant` exactly (by JSON value). */
export function hasGrant(policy: string | undefined, grant: PolicyStatement): boolean {
  const wanted = JSON.stringify(sortKeys(grant));
  return (parsePolicy(policy)?.Statement ?? []).some((statement) => JSON.stringify(sortKeys(statement)) === wanted);
}

/** `policy` with `grant` in place of any statement of its Sid; a queue without a policy gets one. */
export function withGrant(policy: string | undefined, grant: PolicyStatement): string {
  const document = parsePolicy(policy) ?? { Version: '2012-10-17', Statement: [] };
  const others = document.Statement.filter((statement) => statement.Sid !== grant.Sid);
  return JSON.stringify({ ...document, Statement: [...others, grant] });
}

/**
 * `policy` without the statement of Sid `sid`, or undefined when it holds
 * none. A policy left with no statement becomes '', which SQS reads as "no
 * policy" (and refuses an empty Statement list).
 */
export function withoutGrant(policy: string | undefined, sid: string): string | undefined {
  const document = parsePolicy(policy);
  if (!document?.Statement.some((statement) => statement.Sid === sid)) return undefined;
  const remaining = document.Statement.filter((statement) => statement.Sid !== sid);
  return remaining.length ? JSON.stringify({ ...document, Statement: remaining }) : '';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, inner]) => [key, sortKeys(inner)]));
}
