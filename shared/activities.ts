/**
 * The activity contract between the reconcile workflow and the worker.
 * Types only: the workflow bundle must not pull in Node or SDK code.
 */
import type { DeletionPolicy } from '../crds/schema.js';
import type { DeleteOutcome, JsonValue, Lifecycle, Observation } from '../activities/aws/handler.js';
import type { AdoptionPolicy, ManagementPolicy, ObjectRef } from './identity.js';

export type { DeleteOutcome, JsonValue, Lifecycle, Observation };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** The custom resource as the workflow needs it; no status, no secrets. */
export interface LoadedResource {
  uid: string;
  generation: number;
  deleting: boolean;
  hasFinalizer: boolean;
  deletionPolicy: DeletionPolicy;
  spec: JsonObject;
  /** Set when the stored spec fails the kind's schema (e.g. written under an older CRD), or an annotation of ours has a bad value. */
  invalid?: string;
  /** What the annotations of ours say (see Annotations in identity.ts). */
  management: Management;
  /** `status.externalID`: the AWS identifier recorded as ours by an earlier run. */
  externalID?: string;
  /** While deleting a kind that others use (AWSProvider): the resources still using it, `Kind namespace/name`. */
  usedBy?: string[];
}

/** How the user asked this resource to be managed, from its annotations. */
export interface Management {
  policy: ManagementPolicy;
  paused: boolean;
  adoption?: AdoptionPolicy;
  /** The AWS ID to adopt, for kinds AWS identifies by ID. */
  adoptionID?: string;
}

/** A Kubernetes condition as the workflow writes it. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** The status the workflow writes; kind-specific fields come from observe. */
export interface ResourceStatus {
  ready: boolean;
  phase: string;
  observedGeneration?: number;
  lastSyncTime: string;
  conditions: Condition[];
  [field: string]: JsonValue | Condition[] | undefined;
}

export interface KubeEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Which resource an AWS activity works on, and the spec to apply. */
export interface AwsRequest {
  ref: ObjectRef;
  uid: string;
  spec: JsonObject;
  /** Set while the resource is being deleted: references need not resolve, only our own AWS resource matters. */
  deleting?: boolean;
  /** The AWS identifier to look up first (recorded as ours, or named by an adoption annotation); see AwsContext.awsID. */
  awsID?: string;
  /** Observe-only: the handler only reads, and the desired tags carry no owner tags (they are never written). */
  observeOnly?: boolean;
}

/** Activities that talk to the Kubernetes API. */
export interface KubeActivities {
  /** The resource, or null when it no longer exists. */
  loadResource(ref: ObjectRef): Promise<LoadedResource | null>;
  /** Adds the finalizer; false when the object with this uid is gone. */
  addFinalizer(ref: ObjectRef, uid: string): Promise<boolean>;
  /** Removes the finalizer, letting Kubernetes delete the object. */
  removeFinalizer(ref: ObjectRef, uid: string): Promise<void>;
  /** Merge-patches the status subresource. */
  patchStatus(ref: ObjectRef, uid: string, status: ResourceStatus): Promise<void>;
  /** Records a Kubernetes Event on the resource. */
  recordEvent(ref: ObjectRef, uid: string, event: KubeEvent): Promise<void>;
}

/** Activities that talk to AWS through the kind's handler. */
export interface AwsActivities {
  observeResource(request: AwsRequest): Promise<Observation>;
  createResource(request: AwsRequest): Promise<void>;
  updateResource(request: AwsRequest, observed: Observation): Promise<void>;
  deleteResource(request: AwsRequest): Promise<DeleteOutcome>;
}

export type ReconcileActivities = KubeActivities & AwsActivities;
