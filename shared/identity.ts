/**
 * Names shared by the watcher, the workflow and the activities. Kept free of
 * Node and SDK imports because the workflow bundle includes it.
 */
import type { ObjectRef } from '../crds/kind.js';

export type { ObjectRef };

/** Finalizer the operator puts on every resource before its first AWS call. */
export const FINALIZER = 'aws-infra-operator.runner.codes/finalizer';

/** Tag that marks an AWS resource as created for one custom resource. */
export const OWNER_TAG = 'aws-infra-operator.runner.codes/owner';

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
