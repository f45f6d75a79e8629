/**
 * The activity contract between the reconcile workflow and the worker.
 * Types only, and nothing of ours imported but the contract itself: the
 * workflow bundle must not pull in Node or SDK code.
 */
import type { AdoptionPolicy, DeletionPolicy, ManagementPolicy, ObjectRef } from './identity.js';

/** JSON value, the only thing that may cross into workflow history. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What observe found. `exists: false` is an answer, not an error. Everything
 * here is written to workflow history, so it holds no secret and stays small.
 */
export interface Observation {
  exists: boolean;
  /** The AWS resource matches `desired` in every field the operator manages. */
  upToDate: boolean;
  /** The resource can be used (created and in its available state). */
  ready: boolean;
  /** AWS's own lifecycle state when it has one (pending, available, deleting…), for messages. */
  state?: string;
  /**
   * That state in the workflow's terms, so no AWS state string of any kind
   * is known to the workflow: `Deleting` means AWS is removing it and
   * deletion only has to wait.
   */
  lifecycle?: Lifecycle;
  /** Readable field-level differences, e.g. `versioning: Suspended -> Enabled`. */
  differences: string[];
  /** The AWS identifier found (VPC ID, bucket name, queue URL…); the workflow records it. */
  id?: string;
  /** The AWS resource carries another custom resource's owner tag, or another cluster's. */
  ownedBy?: string;
  /**
   * The AWS resource carries no owner tags of this operator: it was made
   * outside it. It is managed only when recorded as ours or adopted.
   */
  unmanaged?: boolean;
  /** Kind-specific status fields (bucketName, arn, queueURL…). */
  status: { [key: string]: JsonValue };
  /** Where the resource lives; set by the observe activity from its provider, never by a handler. */
  location?: AwsLocation;
  /**
   * The observe activity created the resource it found absent (asked with
   * AwsRequest.createIfAbsent, for a kind whose create tags what it makes);
   * when `exists` is false as well, AWS had yet to show it.
   */
  created?: boolean;
}

/** The AWS account and region of a resource, for the AwsAccount and AwsRegion search attributes. */
export interface AwsLocation {
  region: string;
  /** The provider's status.accountID; unset until the provider has observed it. */
  accountID?: string;
}

/** A lifecycle state, the same for every kind. */
export type Lifecycle = 'Pending' | 'Available' | 'Deleting' | 'Failed';

/** Result of a delete call: gone already, or AWS is still removing it. */
export type DeleteOutcome = 'Deleted' | 'Deleting';

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
  /**
   * Set by a worker whose drift sweep covers this kind: once Ready and in
   * sync, the resource waits this long (a safety net) instead of the resync
   * interval, and the sweep wakes it (driftDetected) when AWS differs.
   */
  safetyResyncSeconds?: number;
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
  /**
   * Unique per Event the workflow means to record, and the same when a
   * retried workflow task records it again: it names the Event, so the
   * second create is refused as a duplicate instead of posting it twice.
   */
  key?: string;
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
  /**
   * Names the workflow's reconcile pass: the activities of one pass read the
   * provider, its Secret and references once between them (PassContexts).
   */
  pass?: string;
  /**
   * Observe may create the resource when it finds none, in the same
   * activity, if the kind's create call tags what it makes
   * (ResourceHandler.createsTagged): a pass that creates then takes one
   * activity, not two. Set only when the workflow would create on absence.
   */
  createIfAbsent?: boolean;
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
  /**
   * Creates the AWS resource. Answers what the create calls answered, as an
   * observation, when that is the whole truth about the new resource (so no
   * second look is needed); null when the workflow must observe it.
   */
  createResource(request: AwsRequest): Promise<Observation | null>;
  updateResource(request: AwsRequest, observed: Observation): Promise<void>;
  deleteResource(request: AwsRequest): Promise<DeleteOutcome>;
}

export type ReconcileActivities = KubeActivities & AwsActivities;

/** What one sweep of one kind did, for the sweep workflow's history and logs. */
export interface SweepReport {
  kind: string;
  /** Custom resources of the kind. */
  resources: number;
  /** Of those, the ones judged (Ready, in sync as last reported, fully managed, not paused or deleting). */
  checked: number;
  /** Workflows woken because AWS differs from the spec, or the resource is not where it was. */
  woken: number;
  /** Resources (or whole providers) that could not be judged this pass; their next pass or their own workflow tries again. */
  failed: number;
  /** Bulk reads made (one per provider for kinds AWS lists in bulk), or per-resource observes. */
  reads: number;
}

/** The drift sweep: one activity for every kind due in a pass. */
export interface SweepActivities {
  sweepDrift(kinds: string[]): Promise<SweepReport[]>;
}
