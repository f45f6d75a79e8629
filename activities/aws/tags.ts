/**
 * The tag rules every kind shares: the operator owns a resource's full tag
 * set (provider defaultTags, spec tags, owner tag), and a resource carrying
 * another custom resource's owner tag is never taken over.
 */
import { Annotations, CLUSTER_TAG, OWNER_TAG } from '../../contract/identity.js';
import { ALREADY_EXISTS, OWNED_BY_ANOTHER } from './errors.js';
import type { AwsContext, Ownership } from './handler.js';

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

/**
 * Whose a resource with these tags is. Ours: this resource's owner tag and
 * this cluster's tag. Another's: a different owner tag, or another cluster's
 * tag (`VPC default/app-vpc in cluster 1f0e…`). Unmanaged: neither tag of
 * ours, or our owner tag without a cluster tag (made by another cluster's
 * operator before cluster tags existed): never assumed to be ours.
 */
export function ownership(context: AwsContext, tags: Tags): Ownership {
  const owner = tags[OWNER_TAG];
  const cluster = tags[CLUSTER_TAG];
  const ourCluster = context.tags[CLUSTER_TAG];
  if (cluster !== undefined && cluster !== ourCluster) return { ownedBy: `${owner ?? 'a resource'} in cluster ${cluster}` };
  if (owner !== undefined && owner !== context.tags[OWNER_TAG]) return { ownedBy: owner };
  if (owner === undefined || cluster === undefined) return { unmanaged: true };
  return {};
}

/**
 * True when `tags` are this resource's owner tag and this cluster's tag.
 * Checked again on what a tag filter returned: moto ignores tag filters on
 * some Describe calls (DescribeNatGateways) and lists everything.
 */
export function isOurs(context: AwsContext, tags: Tags): boolean {
  const { ownedBy, unmanaged } = ownership(context, tags);
  return ownedBy === undefined && !unmanaged;
}

/** The owner of another custom resource (or cluster), when `tags` carry one. */
export function otherOwner(context: AwsContext, tags: Tags): string | undefined {
  return ownership(context, tags).ownedBy;
}


/** Throws the terminal OwnedByAnotherResource error when `tags` belong to someone else. */
export function assertNotOwnedByAnother(context: AwsContext, what: string, tags: Tags): void {
  const owner = otherOwner(context, tags);
  if (owner === undefined) return;
  throw Object.assign(new Error(`${what} is already managed by ${owner}; choose another name`), { name: OWNED_BY_ANOTHER });
}

/**
 * The terminal error of a create that meets `what`, made outside the
 * operator: it is left alone until the custom resource adopts it.
 */
export function alreadyExists(what: string, adoptionHint: string): Error {
  return Object.assign(
    new Error(`${what} already exists and was not created by this operator; nothing was changed. ${adoptionHint}`),
    { name: ALREADY_EXISTS },
  );
}

/** The adoption hint for a kind found by name: the annotation alone. */
export const ADOPT_BY_NAME_HINT = `To manage it, annotate this resource ${Annotations.adoptionPolicy}=adopt.`;
