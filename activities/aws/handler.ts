/**
 * The contract every AWS kind implements. The generic reconcile workflow only
 * ever sees these four verbs; everything AWS-specific about a kind lives in
 * one module under `activities/aws/<service>/<resource>.ts`.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { ObjectRef } from '../../contract/identity.js';
import type { ErrorCodes } from './errors.js';
import type { DeleteOutcome, JsonValue, Lifecycle, Observation } from '../../contract/activities.js';

export type { DeleteOutcome, JsonValue, Lifecycle, Observation };


/** Configuration every AWS SDK v3 client accepts, built from an AWSProvider. */
export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials: AwsCredentialIdentityProvider;
  /** Path-style S3 addressing, needed by local endpoints that have no per-bucket DNS. */
  forcePathStyle?: boolean;
  /**
   * Each call retries throttling, 5xx and connection errors itself, with
   * jittered backoff (the SDK's standard mode), before the activity gives
   * up; the activity's retries and the workflow's backoff are for longer
   * outages.
   */
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  /** Connection and per-attempt request timeouts, so an endpoint that never answers fails fast. */
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
}

/** A reference as specs write it: the namespace defaults to the resource's own. */
export interface LocalObjectRef {
  kind: string;
  name: string;
  namespace?: string;
}

/**
 * A secret value an activity has read. It goes to AWS, or into a connection
 * Secret, and nowhere else: never into an activity's result, a log line, an
 * Event or a status.
 */
export interface SecretValue {
  value: string;
  /**
   * Changes whenever the value may have (a Secret's uid and resourceVersion;
   * for an inline spec field, the object's generation). Safe to record
   * anywhere, e.g. in a tag, to notice that the value must be applied again.
   */
  version: string;
}

/** A key of a Secret in the resource's own namespace. */
export interface SecretKeyReference {
  name: string;
  key: string;
}

/** Everything a handler may use: who it works for, where, and how to reach AWS. */
export interface AwsContext {
  /** The custom resource being reconciled. */
  resource: ObjectRef & { uid: string };
  region: string;
  /** The AWS endpoint the provider sets (moto, LocalStack); unset for AWS's own. */
  endpoint?: string;
  /** Account of the provider, when STS has told us. */
  accountID?: string;
  /** Tags every created resource must carry: provider defaultTags, then spec tags, then the owner and cluster tags. */
  tags: Record<string, string>;
  /**
   * The AWS identifier to look the resource up by (VPC ID, queue URL…): the
   * one recorded when the operator created or adopted it, or the one an
   * adoption annotation names. Handlers of kinds AWS identifies by ID look
   * it up by this first; the owner-tag lookup is only for when it is unset,
   * the window between a create call and its answer being recorded.
   */
  awsID?: string;
  /** Builds an SDK client for the provider; tests pass a stub here. */
  client<C>(clientClass: new (config: AwsClientConfig) => C): C;
  /** Reports liveness from a long call so a dead worker is noticed quickly. */
  heartbeat(): void;
  /**
   * True while the custom resource is being deleted. References may no
   * longer resolve then (their targets may be gone first), so handlers find
   * their own AWS resource by its owner tag and compare nothing.
   */
  deleting: boolean;
  /**
   * The AWS ID a referenced custom resource reports in `status[statusField]`
   * (a `vpcRef` resolves to the VPC's `status.vpcID`). Throws a
   * DependencyNotReady failure, which makes the resource wait, while that
   * resource is missing or not Ready.
   */
  resolve(ref: LocalObjectRef, statusField: string): Promise<string>;
  /**
   * Reads one key of a Secret in the resource's namespace. A missing Secret
   * or key is a DependencyNotReady failure naming it: the resource waits.
   */
  secret(ref: SecretKeyReference): Promise<SecretValue>;
  /**
   * The value of a secret spec field written inline (one the kind lists in
   * `secretFields`), read from the live object: the spec that reaches the
   * workflow, and so its history, has those fields removed. Undefined when
   * the object does not set it.
   */
  inlineSecret(field: string): Promise<SecretValue | undefined>;
}




/** Observe / create / update / delete of one AWS kind. */
export interface ResourceHandler<Spec> {
  kind: string;
  /** Error codes with a meaning specific to this kind. */
  errorCodes?: ErrorCodes;
  /** Reads the AWS resource. Never throws for "not found"; returns `exists: false`. */
  observe(context: AwsContext, desired: Spec): Promise<Observation>;
  /**
   * Creates the AWS resource with `context.tags`. Must be safe to call again
   * after a crash: it finds what an earlier attempt created instead of making
   * a second one. Returns the resource as its create calls left it, when
   * they answered everything observe would read (differences empty, the
   * same status fields): the workflow then skips the look that would only
   * read it back. Returns nothing when AWS has yet to settle it.
   */
  create(context: AwsContext, desired: Spec): Promise<Observation | void>;
  /**
   * The create call itself carries the owner tags: no moment exists in which
   * the resource is there untagged, so a retry after a crash always finds
   * it as ours by its tags. Such a kind's observe activity may create what
   * it found absent at once (AwsRequest.createIfAbsent).
   */
  createsTagged?: boolean;
  /** Brings an existing resource in line with `desired`, fixing only what differs. */
  update(context: AwsContext, desired: Spec, observed: Observation): Promise<void>;
  /** Deletes the AWS resource and whatever it needs gone first. Idempotent. */
  delete(context: AwsContext, desired: Spec): Promise<DeleteOutcome>;
  /**
   * What an application needs to connect (endpoint, port, ARN, URL, region,
   * and for databases the username and password read with `context.secret`),
   * written to the Secret `spec.writeConnectionSecretToRef` names once the
   * resource is Ready. Called inside the observe activity, so secret values
   * never pass through the workflow.
   */
  connectionDetails?(context: AwsContext, desired: Spec, observed: Observation): Promise<Record<string, string>>;
  /**
   * Observes many resources of one provider with one bulk read (for EC2, one
   * paginated Describe filtered by this cluster's tag), for the drift sweep.
   * Each answer is what `observe` would say of that resource, judged by the
   * same code, except for what the bulk read cannot show (see the kind's
   * module). Only for kinds AWS lists in bulk; the sweep calls `observe` per
   * resource for the others.
   */
  observeMany?(items: Array<BulkItem<Spec>>): Promise<BulkObservation[]>;
}

/** One resource of a bulk observe: its context (all of one provider) and spec. */
export interface BulkItem<Spec> {
  context: AwsContext;
  desired: Spec;
}

/**
 * What a bulk observe found for one resource, in the order asked:
 * - `observed`: what observe would have returned;
 * - `unlisted`: the bulk read does not show it (gone, or its cluster tag
 *   removed by hand), which only observe by ID can tell apart;
 * - `error`: judging it failed (a reference that is not Ready, say).
 */
export type BulkObservation = { observed: Observation } | { unlisted: true } | { error: unknown };

/** Merges tags the way every kind does: later sources win. */
export function mergeTags(...sources: Array<Record<string, string> | undefined>): Record<string, string> {
  return Object.assign({}, ...sources.filter(Boolean)) as Record<string, string>;
}

/** What observe returns for a resource that does not exist. */
export function absent(): Observation {
  return { exists: false, upToDate: false, ready: false, differences: [], status: {} };
}

/** Whose an AWS resource is, judged by its tags (see `ownership` in tags.ts). */
export interface Ownership {
  ownedBy?: string;
  unmanaged?: boolean;
}

/** What observe returns for a resource that exists: up to date exactly when nothing differs. */
export function present(
  found: {
    id: string;
    differences: string[];
    ready: boolean;
    status: Observation['status'];
    state?: string;
    lifecycle?: Lifecycle;
  } & Ownership,
): Observation {
  return {
    exists: true,
    id: found.id,
    upToDate: found.differences.length === 0,
    ready: found.ready,
    differences: found.differences,
    status: found.status,
    ...(found.state !== undefined ? { state: found.state } : {}),
    ...(found.lifecycle !== undefined ? { lifecycle: found.lifecycle } : {}),
    ...(found.ownedBy !== undefined ? { ownedBy: found.ownedBy } : {}),
    ...(found.unmanaged ? { unmanaged: true } : {}),
  };
}
