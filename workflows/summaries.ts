/**
 * What each activity and timer of a run says it does, as Temporal user
 * metadata (the "summary" the UI shows on the event): which verb, on which
 * resource, and why a timer waits. A person reading a provisioning run in
 * the UI then understands it without the code. Pure functions of the call's
 * own arguments, so they are the same on replay; Temporal does not compare
 * user metadata on replay either, so changing a text never breaks a run.
 */
import type { ActivityOptions } from '@temporalio/common';
import type {
  AwsActivities,
  AwsLocation,
  AwsRequest,
  KubeActivities,
  Observation,
  ResourceStatus,
} from '../contract/activities.js';
import type { ObjectRef } from '../contract/identity.js';
import { searchAttributes } from './messages.js';
import { Phase } from './state.js';

/** The UI shows one line; longer texts (many differences) are cut here. */
const MAX_SUMMARY_CHARS = 200;

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_SUMMARY_CHARS ? `${flat.slice(0, MAX_SUMMARY_CHARS - 1)}…` : flat;
}

/** `S3Bucket team-a/logs`, the way Events and messages name a resource. */
export function resourceName(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

function withID(request: AwsRequest): string {
  return `${resourceName(request.ref)}${request.awsID ? ` (${request.awsID})` : ''}`;
}

/** One summary per activity, from that call's arguments. */
type Summaries<A> = { [K in keyof A]: A[K] extends (...args: infer P) => unknown ? (...args: P) => string : never };

export const awsSummaries: Summaries<AwsActivities> = {
  observeResource: (request) =>
    oneLine(`observe ${withID(request)} in AWS${request.deleting ? ' before deleting it' : ''}${request.observeOnly ? ' (observe-only)' : ''}`),
  createResource: (request) => oneLine(`create ${resourceName(request.ref)} in AWS`),
  updateResource: (request, observed: Observation) =>
    oneLine(
      `${observed.unmanaged ? 'adopt' : 'update'} ${withID(request)} in AWS${
        observed.differences.length ? `: ${observed.differences.join('; ')}` : ''
      }`,
    ),
  deleteResource: (request) => oneLine(`delete ${withID(request)} from AWS`),
};

export const kubeSummaries: Summaries<KubeActivities> = {
  loadResource: (ref) => `read ${resourceName(ref)} from Kubernetes`,
  addFinalizer: (ref) => `add the finalizer to ${resourceName(ref)}`,
  removeFinalizer: (ref) => `remove the finalizer from ${resourceName(ref)}, letting Kubernetes delete it`,
  patchStatus: (ref, _uid, status) => oneLine(`write the status of ${resourceName(ref)}: ${status.phase} (${readyReason(status) ?? 'no reason'})`),
  recordEvent: (ref, _uid, event) => oneLine(`record ${event.type} Event ${event.reason} on ${resourceName(ref)}: ${event.message}`),
};

/** What a proxy from proxyActivities or proxyLocalActivities offers per activity. */
type WithOptions<A> = {
  [K in keyof A]: A[K] extends (...args: infer P) => infer R
    ? { executeWithOptions(options: Pick<ActivityOptions, 'summary'>, args: P): R }
    : never;
};

/**
 * The activities of `proxy`, each call carrying its summary. The proxy's
 * own options (timeouts, retries) stay; the SDK merges the summary in.
 */
export function withSummaries<A extends object>(proxy: WithOptions<A>, summaries: Summaries<A>): A {
  const described: Record<string, (...args: unknown[]) => unknown> = {};
  for (const name of Object.keys(summaries) as Array<keyof A & string>) {
    const summarize = summaries[name] as (...args: unknown[]) => string;
    const activity = proxy[name] as { executeWithOptions(options: Pick<ActivityOptions, 'summary'>, args: unknown[]): unknown };
    described[name] = (...args: unknown[]) => activity.executeWithOptions({ summary: summarize(...args) }, args);
  }
  return described as A;
}

function readyReason(status: ResourceStatus): string | undefined {
  return status.conditions.find((c) => c.type === 'Ready')?.reason;
}

/** `15 s`, `5 min`, `1 h`: a wait the way a person says it. */
export function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

/**
 * What a durable timer waits for, from the status the pass just reported:
 * the wait follows from it (see "wait" in docs/architecture.md).
 */
export function timerSummary(ref: ObjectRef, seconds: number, status: ResourceStatus | undefined): string {
  const who = resourceName(ref);
  const wait = duration(seconds);
  if (!status) return `wait ${wait} before reconciling ${who} again (a change wakes it sooner)`;
  const ready = status.conditions.find((c) => c.type === 'Ready');
  const why = ready ? `${ready.reason}: ${ready.message}` : status.phase;
  if (status.conditions.some((c) => c.type === 'Paused' && c.status === 'True')) {
    return oneLine(`wait ${wait}: ${who} is paused, no AWS call is made (removing the annotation wakes it)`);
  }
  switch (status.phase) {
    case Phase.Ready:
      return oneLine(`wait ${wait}, then check ${who} for drift in AWS (a change wakes it sooner)`);
    case Phase.Provisioning:
      return oneLine(`wait ${wait} for ${who} to become available in AWS (${why})`);
    case Phase.Waiting:
      return oneLine(`wait up to ${wait} for what ${who} needs (${why}); its change wakes it sooner`);
    case Phase.Deleting:
      return oneLine(`wait ${wait} for ${who} to be deleted (${why})`);
    case Phase.NotFound:
      return oneLine(`wait ${wait}, then look again for the AWS resource of ${who} (observe-only, ${why})`);
    case Phase.Error: {
      const terminal = status.conditions.some((c) => c.type === 'Terminal' && c.status === 'True');
      return oneLine(
        terminal
          ? `wait ${wait} before trying ${who} again after a terminal error (${why}); a spec change wakes it sooner`
          : `wait ${wait} before retrying ${who} (${why})`,
      );
    }
    default:
      return oneLine(`wait ${wait} before reconciling ${who} again (${why})`);
  }
}

/** The AwsAccount and AwsRegion values of a location (no account until the provider knows it). */
export function locationAttributes(location: AwsLocation) {
  return [
    { key: searchAttributes.region, value: location.region },
    ...(location.accountID ? [{ key: searchAttributes.account, value: location.accountID }] : []),
  ];
}
