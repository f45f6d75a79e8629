/**
 * What every EC2 kind shares. EC2 IDs are assigned by AWS. Once the workflow
 * has recorded a resource's ID (`context.awsID`), the resource is found by
 * that ID alone. Until then it is found by its owner and cluster tags,
 * which are attached in the create call itself (TagSpecifications): a
 * create that succeeded is always findable, even if the worker died before
 * the activity could report the new ID.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateTagsCommand, DeleteTagsCommand, EC2Client, type Filter, type ResourceType, type Tag, type TagSpecification } from '@aws-sdk/client-ec2';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { INVALID_SPEC, unlessNotFound, type ErrorCodes } from '../errors.js';
import type { AwsContext, BulkItem, BulkObservation, Observation } from '../handler.js';
import { isOurs, tagChanges, type Tags } from '../tags.js';
import type { Difference } from '../difference.js';

/**
 * Filter that finds the AWS resources carrying this custom resource's owner
 * tag and this cluster's tag: another cluster's same-named resource is
 * never found, so never taken for a duplicate.
 */
export function ownerFilter(context: AwsContext): Filter[] {
  return [
    { Name: `tag:${OWNER_TAG}`, Values: [context.tags[OWNER_TAG] ?? ''] },
    { Name: `tag:${CLUSTER_TAG}`, Values: [context.tags[CLUSTER_TAG] ?? ''] },
  ];
}

/** How to look up the AWS resources of one EC2 kind; see findOwned. */
export interface OwnedLookup<T> {
  /** Describes the resources of these IDs; an error among `errorCodes.notFound` means there is none. */
  byIDs: (ids: string[]) => Promise<T[]>;
  /** Describes the resources matching these filters, every page. */
  byFilter: (filters: Filter[]) => Promise<T[]>;
  idOf: (resource: T) => string | undefined;
  tagsOf: (resource: T) => Tags;
  /** False for a resource AWS still lists after deleting it (a NAT gateway in state `deleted`). Default: always live. */
  live?: (resource: T) => boolean;
  /**
   * Which of several carrying our tags is managed: the first in this order.
   * Default: the lowest ID, as most EC2 kinds report no creation time.
   */
  order?: (a: T, b: T) => number;
  /** The kind's error codes: which errors of byIDs mean "no such ID". */
  errorCodes: ErrorCodes;
}

/** What a lookup found. */
export interface Found<T> {
  /** The resource managed. */
  resource?: T;
  /** Others carrying our tags (a create whose answer was lost, then retried); update and delete remove them. */
  duplicates: T[];
  /** Ours but no longer live (a deleted NAT gateway, which AWS lists for about an hour). */
  gone: T[];
}

/**
 * This resource's AWS resource: the one of `context.awsID` when the
 * workflow has recorded one, else the one carrying our owner and cluster
 * tags (findByOwnerTag). An ID that AWS no longer knows, or knows as
 * deleted, means the resource is gone. There is no fallback to the tags
 * then: the recorded resource is what the custom resource manages, and a
 * same-tagged stranger is not it. A resource found by ID may have lost its
 * tags (removed by hand, or never ours: adopted): callers report its
 * `ownership`, and update writes the tags.
 */
export async function findOwned<T>(context: AwsContext, lookup: OwnedLookup<T>): Promise<Found<T>> {
  const { awsID } = context;
  if (awsID === undefined) return findByOwnerTag(context, lookup);
  const listed = (await unlessNotFound(lookup.byIDs([awsID]), lookup.errorCodes)) ?? [];
  const matching = listed.filter((resource) => lookup.idOf(resource) === awsID);
  const live = matching.filter((resource) => lookup.live?.(resource) ?? true);
  const gone = matching.filter((resource) => !live.includes(resource));
  const [resource] = live;
  return resource ? { resource, duplicates: [], gone } : { duplicates: [], gone };
}

/**
 * The resources carrying our owner and cluster tags, ordered so that every
 * pass manages the same one and calls the others duplicates. For the
 * window between a create call and the workflow recording its ID, and for
 * the wait after a create (the new resource has no recorded ID yet).
 */
export async function findByOwnerTag<T>(context: AwsContext, lookup: OwnedLookup<T>): Promise<Found<T>> {
  const ours = (await lookup.byFilter(ownerFilter(context))).filter(
    (resource) => lookup.idOf(resource) && isOurs(context, lookup.tagsOf(resource)),
  );
  const byID = (a: T, b: T) => (lookup.idOf(a) ?? '').localeCompare(lookup.idOf(b) ?? '');
  const live = ours.filter((resource) => lookup.live?.(resource) ?? true).sort(lookup.order ?? byID);
  const gone = ours.filter((resource) => !live.includes(resource));
  const [resource, ...duplicates] = live;
  return resource ? { resource, duplicates, gone } : { duplicates, gone };
}

/** Filter that finds every AWS resource this cluster's operator made, whatever resource it was made for. */
export function clusterFilter(context: AwsContext): Filter[] {
  return [{ Name: `tag:${CLUSTER_TAG}`, Values: [context.tags[CLUSTER_TAG] ?? ''] }];
}

/**
 * What findOwned would find for `context`, from `listed`: every resource of
 * the kind carrying this cluster's tag (clusterFilter). By the recorded ID
 * when there is one, else by the owner tag (findByOwnerTag's order).
 * Undefined when the listing does not show the resource: it is gone, or its
 * cluster tag was removed by hand (a resource found by ID need not carry
 * our tags), which only a look by ID tells apart.
 */
export function foundInListing<T>(context: AwsContext, lookup: OwnedLookup<T>, listed: T[]): (Found<T> & { resource: T }) | undefined {
  const { awsID } = context;
  const live = (resource: T) => lookup.live?.(resource) ?? true;
  if (awsID !== undefined) {
    const resource = listed.find((candidate) => lookup.idOf(candidate) === awsID && live(candidate));
    return resource ? { resource, duplicates: [], gone: [] } : undefined;
  }
  const ownerTag = context.tags[OWNER_TAG];
  const ours = listed.filter(
    (candidate) => lookup.idOf(candidate) && lookup.tagsOf(candidate)[OWNER_TAG] === ownerTag && isOurs(context, lookup.tagsOf(candidate)),
  );
  const byID = (a: T, b: T) => (lookup.idOf(a) ?? '').localeCompare(lookup.idOf(b) ?? '');
  const [resource, ...duplicates] = ours.filter(live).sort(lookup.order ?? byID);
  return resource ? { resource, duplicates, gone: ours.filter((candidate) => !live(candidate)) } : undefined;
}

/**
 * The bulk observe of an EC2 kind (ResourceHandler.observeMany): one
 * listing of every resource of the kind carrying this cluster's tag (one
 * Describe, every page), then each item judged by `judge`, the same
 * function the kind's observe ends with. The items share one provider, so
 * the first one's client serves all.
 */
export async function observeListed<T, Spec>(
  items: Array<BulkItem<Spec>>,
  lookupFor: (ec2: EC2Client) => OwnedLookup<T>,
  judge: (context: AwsContext, desired: Spec, found: Found<T> & { resource: T }) => Promise<Observation>,
): Promise<BulkObservation[]> {
  const [first] = items;
  if (!first) return [];
  const lookup = lookupFor(first.context.client(EC2Client));
  const listed = await lookup.byFilter(clusterFilter(first.context));
  return Promise.all(
    items.map(async ({ context, desired }): Promise<BulkObservation> => {
      const found = foundInListing(context, lookup, listed);
      if (!found) return { unlisted: true };
      try {
        return { observed: await judge(context, desired, found) };
      } catch (error) {
        return { error };
      }
    }),
  );
}

/** Every item of a paged Describe call; `page` sends the request for one NextToken and answers its items and the next token. */
export async function everyPage<T>(
  page: (NextToken: string | undefined) => Promise<{ items: T[] | undefined; next: string | undefined }>,
): Promise<T[]> {
  const all: T[] = [];
  let NextToken: string | undefined;
  do {
    const { items, next } = await page(NextToken);
    all.push(...(items ?? []));
    NextToken = next;
  } while (NextToken);
  return all;
}

/**
 * ClientToken of a create that AWS makes idempotent by token (NAT gateway,
 * route table): the resource uid, so a create retried after a crash gets
 * the same resource back. A token keeps answering with what it made even
 * after that was deleted, so the create that replaces a deleted resource
 * also names it. At most 64 characters, as AWS requires.
 */
export function clientToken(uid: string, replacing?: string): string {
  return (replacing ? `${uid}-${replacing}` : uid).slice(0, 64);
}

/** TagSpecifications for a create call, so the tags land atomically with the resource. */
export function tagSpecifications(resourceType: ResourceType, tags: Tags): TagSpecification[] {
  return [{ ResourceType: resourceType, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }];
}

/** EC2's tag list as a map. */
export function tagMap(tags: Tag[] | undefined): Tags {
  return Object.fromEntries((tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

/** Brings an EC2 resource's tags to exactly `desired` (CreateTags for changes, DeleteTags for extras). */
export async function reconcileTags(ec2: EC2Client, resourceId: string, desired: Tags, observed: Tags): Promise<void> {
  const { set, remove } = tagChanges(desired, observed);
  if (Object.keys(set).length) {
    await ec2.send(
      new CreateTagsCommand({ Resources: [resourceId], Tags: Object.entries(set).map(([Key, Value]) => ({ Key, Value })) }),
    );
  }
  if (remove.length) {
    await ec2.send(new DeleteTagsCommand({ Resources: [resourceId], Tags: remove.map((Key) => ({ Key })) }));
  }
}

/**
 * Error codes every EC2 kind shares. DependencyViolation while deleting means
 * "something still uses it": the handler answers Deleting and the workflow
 * tries again after a backoff, so a whole network deletes in any order.
 */
export const EC2_ERROR_CODES = {
  retryable: ['DependencyViolation', 'IncorrectState', 'InvalidState', 'Resource.AlreadyAssociated'],
  notFound: [
    'InvalidVpcID.NotFound',
    'InvalidSubnetID.NotFound',
    'InvalidInternetGatewayID.NotFound',
    'InvalidNatGatewayID.NotFound',
    'NatGatewayNotFound',
    'InvalidRouteTableID.NotFound',
    'InvalidGroup.NotFound',
    'InvalidAllocationID.NotFound',
    'InvalidAssociationID.NotFound',
    'InvalidRoute.NotFound',
  ],
} as const;

/** Other resources carrying this resource's owner tag, as a difference; update deletes them. */
export function duplicatesDifference(ids: string[]): Difference[] {
  return ids.length ? [{ field: 'duplicates', detail: `${ids.join(', ')} also carry this resource's owner tag` }] : [];
}

/**
 * The AWS ID a spec gives for another resource, in `field` or in the
 * reference beside it (`refField`): the ID as given, or the same-named
 * status field of the custom resource the reference names, which throws
 * DependencyNotReady (the resource waits) until that resource is Ready.
 */
export async function idOrReference(
  context: AwsContext,
  target: { kind: string; field: string; refField: string },
  id: string | undefined,
  ref: { name: string; namespace?: string } | undefined,
): Promise<string> {
  if (ref) return context.resolve({ kind: target.kind, ...ref }, target.field);
  if (id) return id;
  throw Object.assign(new Error(`the spec names no ${target.kind}: set ${target.field} or ${target.refField}`), { name: INVALID_SPEC });
}

/** The VPC a spec names through vpcID or vpcRef. */
export function resolveVpcID(
  context: AwsContext,
  spec: { vpcID?: string; vpcRef?: { name: string; namespace?: string } },
): Promise<string> {
  return idOrReference(context, { kind: 'VPC', field: 'vpcID', refField: 'vpcRef' }, spec.vpcID, spec.vpcRef);
}

/** Pauses before each look after the first, about 8 s in all: well inside the create activity's 30 s. */
const VISIBILITY_DELAYS_MS = [0, 250, 500, 1000, 2000, 2000, 2000];

/**
 * Waits until a resource just created is visible to the owner-tag lookup,
 * which is how it is found until the workflow records its ID. EC2 is
 * eventually consistent: if create returned before the lookup could see
 * the new resource, the next observe would report it missing and create a
 * second one. Gives up quietly (nothing found); the workflow observes again
 * after a backoff.
 */
export async function untilVisible<T>(context: AwsContext, lookup: OwnedLookup<T>): Promise<Found<T>> {
  let found: Found<T> = { duplicates: [], gone: [] };
  for (const delay of VISIBILITY_DELAYS_MS) {
    if (delay) {
      context.heartbeat();
      await sleep(delay);
    }
    found = await findByOwnerTag(context, lookup);
    if (found.resource) return found;
  }
  return found;
}
