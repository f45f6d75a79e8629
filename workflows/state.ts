/**
 * Plain-JSON state of one resource's reconcile workflow. It crosses
 * continue-as-new, so it holds only JSON (no Map, no Date, no class).
 */
import type { DeletionPolicy } from '../contract/identity.js';
import type { JsonObject, Management, ResourceStatus } from '../contract/activities.js';
import type { ObjectRef } from '../contract/identity.js';

export const Phase = {
  Pending: 'Pending',
  /** Held by something outside the resource: its AWSProvider, say. */
  Waiting: 'Waiting',
  /** Created or updated in AWS, waiting for AWS to finish. */
  Provisioning: 'Provisioning',
  Ready: 'Ready',
  /** The last pass failed; see the Ready condition for why. */
  Error: 'Error',
  Deleting: 'Deleting',
  /** Observe-only and the AWS resource does not exist. */
  NotFound: 'NotFound',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export interface ReconcileState {
  /** uid of the object this run manages; a different uid is a new object of the same name. */
  uid?: string;
  /** Last spec seen, so the AWS resource can be cleaned up even if the object vanishes. */
  spec?: JsonObject;
  deletionPolicy?: DeletionPolicy;
  /** Last annotations of ours seen, honoured too if the object vanishes. */
  management?: Management;
  /** Last status written, to keep condition transition times and spot changes. */
  status?: ResourceStatus;
  /**
   * A terminal error was reported for this generation and these annotations
   * (`management`, as JSON): no AWS call for them until `until` (epoch ms).
   */
  blocked?: { generation: number; until: number; management?: string };
  /**
   * The AWS identifier of the resource this one created or adopted, looked
   * up first by every verb; null once observe found it gone (so the one in
   * status is not trusted again). Undefined: not known yet.
   */
  awsID?: string | null;
  /** The generation last brought fully in line with AWS (InSync): an update of it is drift. */
  appliedGeneration?: number;
  /** A create was issued and its resource not yet observed as ours. */
  creating?: boolean;
  /** Set once an existing AWS resource was adopted: its identifier. */
  adoptedID?: string;
  /** Differences last reported as drift in observe-only, to record one Event per change. */
  reportedDrift?: string;
  /** Consecutive passes that ended in a failure or a wait, for backoff. */
  retries: number;
  /** A newer object with the same name was seen while this one was being cleaned up. */
  successorUid?: string;
}

export interface ReconcileInput {
  ref: ObjectRef;
  /** Seconds between drift checks of a Ready resource. */
  resyncSeconds: number;
  /** Seconds before a terminal error is tried again without a spec change. */
  terminalRetrySeconds?: number;
  /** History length that triggers continue-as-new, besides the server's own suggestion. */
  maxHistoryEvents?: number;
  state?: ReconcileState;
}
