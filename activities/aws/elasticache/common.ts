/**
 * What the ElastiCache kinds share: error codes, and tags, which ElastiCache
 * keeps per ARN and reads and writes with calls of their own.
 */
import {
  AddTagsToResourceCommand,
  type ElastiCacheClient,
  ListTagsForResourceCommand,
  RemoveTagsFromResourceCommand,
  type Tag,
} from '@aws-sdk/client-elasticache';
import type { ErrorCodes } from '../errors.js';
import { tagChanges } from '../tags.js';

export const ELASTICACHE_ERROR_CODES: ErrorCodes = {
  // A cluster that is busy (creating, modifying, snapshotting) refuses
  // changes for a while; AWS's capacity comes back.
  retryable: [
    'InvalidReplicationGroupStateFault',
    'InvalidCacheClusterStateFault',
    'InvalidSnapshotStateFault',
    'InsufficientCacheClusterCapacityFault',
    'APICallRateForCustomerExceededFault',
  ],
  notFound: ['ReplicationGroupNotFoundFault', 'CacheClusterNotFoundFault', 'SnapshotNotFoundFault'],
};

/** ElastiCache's tag list as a map. */
export function tagMap(tags: Tag[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).flatMap((tag) => (tag.Key ? [[tag.Key, tag.Value ?? '']] : [])));
}

/** ElastiCache's tag list from a map. */
export function tagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export async function readTags(client: ElastiCacheClient, arn: string): Promise<Record<string, string>> {
  return tagMap((await client.send(new ListTagsForResourceCommand({ ResourceName: arn }))).TagList);
}

/** Makes the tags of `arn` exactly `desired`: one call to add or change, one to remove, each only when needed. */
export async function reconcileTags(
  client: ElastiCacheClient,
  arn: string,
  desired: Record<string, string>,
  observed: Record<string, string>,
): Promise<void> {
  const { set, remove } = tagChanges(desired, observed);
  if (Object.keys(set).length) await client.send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: tagList(set) }));
  if (remove.length) await client.send(new RemoveTagsFromResourceCommand({ ResourceName: arn, TagKeys: remove }));
}
