/**
 * What every EC2 kind shares. EC2 IDs are assigned by AWS, so a resource is
 * found by its owner tag, which is attached in the create call itself
 * (TagSpecifications): a create that succeeded is always findable, even if
 * the worker died before the activity could report the new ID.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateTagsCommand, DeleteTagsCommand, type EC2Client, type Filter, type ResourceType, type Tag, type TagSpecification } from '@aws-sdk/client-ec2';
import { OWNER_TAG } from '../../../shared/identity.js';
import { INVALID_SPEC } from '../errors.js';
import type { AwsContext } from '../handler.js';
import { tagChanges, type Tags } from '../tags.js';

/** Filter that finds the AWS resources carrying this custom resource's owner tag. */
export function ownerFilter(context: AwsContext): Filter[] {
  return [{ Name: `tag:${OWNER_TAG}`, Values: [context.tags[OWNER_TAG] ?? ''] }];
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

/** Error name of an immutable field that differs in AWS; only a new resource can fix it. */
export const IMMUTABLE_FIELD_CHANGED = 'ImmutableFieldChanged';

/** One field that differs; reads as `enableDnsHostnames: false -> true`. */
export interface Difference {
  field: string;
  detail: string;
  /** Fixed at creation: update cannot change it. */
  immutable?: boolean;
}

/** Readable form of a difference, as it appears in conditions and events. */
export function formatDifference(difference: Difference): string {
  return `${difference.field}: ${difference.detail}${difference.immutable ? ' (immutable: create a new resource to change it)' : ''}`;
}

/** Other resources carrying this resource's owner tag, as a difference; update deletes them. */
export function duplicatesDifference(ids: string[]): Difference[] {
  return ids.length ? [{ field: 'duplicates', detail: `${ids.join(', ')} also carry this resource's owner tag` }] : [];
}

/** The error update throws when an immutable field differs; terminal, so it waits for a spec change. */
export function immutableFieldError(resourceId: string, differences: Difference[]): Error | undefined {
  const fixed = differences.filter((difference) => difference.immutable);
  if (!fixed.length) return undefined;
  const list = fixed.map((difference) => `${difference.field} ${difference.detail}`).join(', ');
  return Object.assign(new Error(`${resourceId} differs in immutable fields (${list}): create a new resource to change them`), {
    name: IMMUTABLE_FIELD_CHANGED,
  });
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
 * Waits until a resource just created is visible to the owner-tag lookup.
 * EC2 is eventually consistent: if create returned before the lookup could
 * see the new resource, the next observe would report it missing and
 * create a second one. Gives up quietly (undefined); the workflow observes again
 * after a backoff.
 */
export async function untilVisible<T>(context: AwsContext, look: () => Promise<T | undefined>): Promise<T | undefined> {
  for (const delay of VISIBILITY_DELAYS_MS) {
    if (delay) {
      context.heartbeat();
      await sleep(delay);
    }
    const found = await look();
    if (found) return found;
  }
  return undefined;
}
