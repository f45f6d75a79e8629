/**
 * Names shared by the watcher, the workflow and the activities. Kept free of
 * Node and SDK imports because the workflow bundle includes it.
 */
/** Identity of one custom resource. */
export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

export const DELETION_POLICIES = ['Delete', 'Retain', 'Orphan'] as const;
/**
 * What deleting a custom resource does to its AWS resource: one of
 * DELETION_POLICIES, or a policy of the kind's own schema (ElastiCacheCluster's
 * `Snapshot`), which deletes in AWS the kind's way (see deletesInAws).
 */
export type DeletionPolicy = (typeof DELETION_POLICIES)[number] | (string & Record<never, never>);

/** The policies that keep the AWS resource: the finalizer goes without any AWS call. */
const KEEPING_POLICIES: readonly string[] = ['Retain', 'Orphan'];

/**
 * True when deleting under `policy` removes the AWS resource: Delete, and
 * every policy a kind adds of its own (its handler reads the spec's
 * deletionPolicy to do it its way, e.g. a final snapshot first).
 */
export function deletesInAws(policy: DeletionPolicy): boolean {
  return !KEEPING_POLICIES.includes(policy);
}

/** Finalizer the operator puts on every resource before its first AWS call. */
export const FINALIZER = 'aws-infra-operator.runner.codes/finalizer';

/** Tag that marks an AWS resource as created for one custom resource. */
export const OWNER_TAG = 'aws-infra-operator.runner.codes/owner';

/**
 * Tag that marks an AWS resource as created by the operator of one cluster.
 * Owner tags alone collide when two clusters share an account (staging and
 * prod both have `VPC default/app-vpc`); together with this tag they never do.
 */
export const CLUSTER_TAG = 'aws-infra-operator.runner.codes/cluster';

/** Finalizer on a Secret an AWSProvider reads, so it outlives the resources that need its keys. */
export const SECRET_IN_USE_FINALIZER = 'aws-infra-operator.runner.codes/in-use';

/**
 * Annotations a user sets on any custom resource to steer the operator. The
 * watcher forwards changes of these, and only these, among metadata changes.
 */
export const Annotations = {
  /** `adopt`: manage an AWS resource that already exists; `adopt-or-create`: adopt it, or create it when missing. */
  adoptionPolicy: 'aws-infra-operator.runner.codes/adoption-policy',
  /** The AWS ID to adopt, for kinds AWS identifies by ID (VPC, Subnet, security group…). */
  adoptionID: 'aws-infra-operator.runner.codes/adoption-id',
  /** `Observe`: read the AWS resource and report drift, never write; `Full` (default): manage it. */
  managementPolicy: 'aws-infra-operator.runner.codes/management-policy',
  /** `"true"`: make no AWS call at all until removed. */
  paused: 'aws-infra-operator.runner.codes/paused',
} as const;

export const ADOPTION_POLICIES = ['adopt', 'adopt-or-create'] as const;
export type AdoptionPolicy = (typeof ADOPTION_POLICIES)[number];
export const MANAGEMENT_POLICIES = ['Full', 'Observe'] as const;
export type ManagementPolicy = (typeof MANAGEMENT_POLICIES)[number];

/** The Temporal task queue when none is configured. */
export const DEFAULT_TASK_QUEUE = 'infra-operator';

/** Readable, unique workflow ID of one custom resource: `S3Bucket/default/my-bucket`. */
export function workflowIdFor(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** Value of the owner tag of one custom resource; same shape as its workflow ID. */
export function ownerTagValue(ref: ObjectRef): string {
  return workflowIdFor(ref);
}
