import type { KindDefinition } from './kind.js';
import { AWSProviderKind } from './kinds/aws-provider.js';
import { S3BucketKind } from './kinds/s3-bucket.js';
import { SQSQueueKind } from './kinds/sqs-queue.js';

export { API_GROUP, API_VERSION, API_GROUP_VERSION } from './schema.js';
export type { KindDefinition, ObjectRef } from './kind.js';

/** Every kind the operator serves. Adding a kind here is all the watcher and CRD generator need. */
export const kinds: readonly KindDefinition[] = [AWSProviderKind, S3BucketKind, SQSQueueKind];

const byName = new Map(kinds.map((definition) => [definition.kind, definition]));

/** The definition of `kind`, or an error naming the kinds that exist. */
export function kindDefinition(kind: string): KindDefinition {
  const definition = byName.get(kind);
  if (!definition) throw new Error(`unknown kind ${kind}; known kinds: ${[...byName.keys()].join(', ')}`);
  return definition;
}
