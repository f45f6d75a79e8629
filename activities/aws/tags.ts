/**
 * The tag rules every kind shares: the operator owns a resource's full tag
 * set (provider defaultTags, spec tags, owner tag), and a resource carrying
 * another custom resource's owner tag is never taken over.
 */
import { OWNER_TAG } from '../../shared/identity.js';
import type { AwsContext } from './handler.js';

export type Tags = Record<string, string>;

/** Tags to add or change and keys to remove, to turn `observed` into `desired`. */
export function tagChanges(desired: Tags, observed: Tags): { set: Tags; remove: string[] } {
  return {
    set: Object.fromEntries(Object.entries(desired).filter(([key, value]) => observed[key] !== value)),
    remove: Object.keys(observed)
      .filter((key) => !(key in desired))
      .sort(),
  };
}

/** The exact tag-set difference as `+added, -removed, ~changed`, or undefined when equal. */
export function compareTags(desired: Tags, observed: Tags): string | undefined {
  const { set, remove } = tagChanges(desired, observed);
  const changes = [
    ...Object.keys(set)
      .filter((key) => !(key in observed))
      .sort()
      .map((key) => `+${key}`),
    ...remove.map((key) => `-${key}`),
    ...Object.keys(set)
      .filter((key) => key in observed)
      .sort()
      .map((key) => `~${key}`),
  ];
  return changes.length ? changes.join(', ') : undefined;
}

/** The owner tag of another custom resource, when `tags` carry one. */
export function otherOwner(context: AwsContext, tags: Tags): string | undefined {
  const owner = tags[OWNER_TAG];
  return owner !== undefined && owner !== context.tags[OWNER_TAG] ? owner : undefined;
}

/** Error name handlers use when a resource already belongs to another custom resource; terminal. */
export const OWNED_BY_ANOTHER = 'OwnedByAnotherResource';

/** Throws the terminal OwnedByAnotherResource error when `tags` belong to someone else. */
export function assertNotOwnedByAnother(context: AwsContext, what: string, tags: Tags): void {
  const owner = otherOwner(context, tags);
  if (owner === undefined) return;
  throw Object.assign(new Error(`${what} is already managed by ${owner}; choose another name`), { name: OWNED_BY_ANOTHER });
}
