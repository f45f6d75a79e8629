/**
 * What every EC2 kind shares. EC2 IDs are assigned by AWS, so a resource is
 * found by its owner tag, which is attached in the create call itself
 * (TagSpecifications): a create that succeeded is always findable, even if
 * the worker died before the activity could report the new ID.
 */
import { CreateTagsCommand, DeleteTagsCommand, type EC2Client, type Filter, type ResourceType, type Tag, type TagSpecification } from '@aws-sdk/client-ec2';
import { OWNER_TAG } from '../../../shared/identity.js';
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
