/**
 * DBSubnetGroup: one RDS DB subnet group, found by its name (AWS's
 * identifier for it). Description, subnets and tags can all change in
 * place (ModifyDBSubnetGroup, AddTagsToResource / RemoveTagsFromResource).
 *
 * The group is ready as soon as it exists: AWS makes it in one call. It
 * cannot be deleted while an instance uses it; delete then answers
 * `Deleting` and the workflow looks again, so a database tier deleted in one
 * go finishes once the instance is gone.
 */
import {
  AddTagsToResourceCommand,
  CreateDBSubnetGroupCommand,
  DeleteDBSubnetGroupCommand,
  DescribeDBSubnetGroupsCommand,
  ListTagsForResourceCommand,
  ModifyDBSubnetGroupCommand,
  RDSClient,
  RemoveTagsFromResourceCommand,
  type DBSubnetGroup,
} from '@aws-sdk/client-rds';
import type { DBSubnetGroupSpec } from '../../../crds/kinds/db-subnet-group.js';
import { errorName, type ErrorCodes, unlessNotFound } from '../errors.js';
import { absent, present, type AwsContext, type Observation, type ResourceHandler } from '../handler.js';
import { ADOPT_BY_NAME_HINT, alreadyExists, assertNotOwnedByAnother, compareTags, ownership, tagChanges, type Tags } from '../tags.js';

export const RDS_ERROR_CODES = {
  notFound: ['DBSubnetGroupNotFoundFault', 'DBInstanceNotFoundFault', 'DBParameterGroupNotFoundFault', 'DBSnapshotNotFoundFault'],
  retryable: ['InvalidDBInstanceStateFault', 'InvalidDBSubnetGroupStateFault', 'InvalidDBSubnetStateFault', 'DBInstanceNotReadyFault'],
  terminal: [
    'DBSubnetGroupDoesNotCoverEnoughAZs',
    'InvalidSubnet',
    'InvalidVPCNetworkStateFault',
    'DBSubnetGroupQuotaExceededFault',
    'DBSubnetQuotaExceededFault',
  ],
} as const satisfies ErrorCodes;

const ERROR_CODES: ErrorCodes = RDS_ERROR_CODES;

/** RDS tags as a map. */
export function rdsTagMap(tags: Array<{ Key?: string | undefined; Value?: string | undefined }> | undefined): Tags {
  return Object.fromEntries((tags ?? []).filter((tag) => tag.Key !== undefined).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

/** A tag map as RDS takes it. */
export function rdsTagList(tags: Tags): Array<{ Key: string; Value: string }> {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Makes the tags of the RDS resource `arn` exactly `desired`. */
export async function reconcileRdsTags(rds: RDSClient, arn: string, desired: Tags, observed: Tags): Promise<void> {
  const { set, remove } = tagChanges(desired, observed);
  if (Object.keys(set).length) await rds.send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: rdsTagList(set) }));
  if (remove.length) await rds.send(new RemoveTagsFromResourceCommand({ ResourceName: arn, TagKeys: remove }));
}

/** The tags of an RDS resource by ARN. */
export async function rdsTags(rds: RDSClient, arn: string | undefined): Promise<Tags> {
  if (!arn) return {};
  return rdsTagMap((await rds.send(new ListTagsForResourceCommand({ ResourceName: arn }))).TagList);
}

/** The subnet IDs the spec names, references resolved. */
export async function desiredSubnetIds(context: AwsContext, desired: DBSubnetGroupSpec): Promise<string[]> {
  const resolved = await Promise.all((desired.subnetRefs ?? []).map((ref) => context.resolve({ kind: 'Subnet', ...ref }, 'subnetID')));
  return [...new Set([...(desired.subnetIDs ?? []), ...resolved])].sort();
}

function subnetIdsOf(group: DBSubnetGroup): string[] {
  return (group.Subnets ?? []).flatMap((subnet) => (subnet.SubnetIdentifier ? [subnet.SubnetIdentifier] : [])).sort();
}

/** Everything that differs between the spec and the group. */
export function compareSubnetGroup(desired: DBSubnetGroupSpec, subnetIds: string[], group: DBSubnetGroup, desiredTags: Tags, tags: Tags): string[] {
  const differences: string[] = [];
  if ((group.DBSubnetGroupDescription ?? '') !== desired.description) differences.push(`description: ${group.DBSubnetGroupDescription ?? 'unset'} -> ${desired.description}`);
  const current = subnetIdsOf(group);
  if (current.join(',') !== subnetIds.join(',')) differences.push(`subnetIDs: ${current.join(',') || 'none'} -> ${subnetIds.join(',')}`);
  const tagDifference = compareTags(desiredTags, tags);
  if (tagDifference) differences.push(`tags: ${tagDifference}`);
  return differences;
}

/** The status fields of a group. */
export function subnetGroupStatus(group: DBSubnetGroup): Observation['status'] {
  return {
    dbSubnetGroupName: group.DBSubnetGroupName ?? '',
    arn: group.DBSubnetGroupArn ?? '',
    vpcID: group.VpcId ?? '',
    subnetIDs: subnetIdsOf(group),
    subnetGroupStatus: group.SubnetGroupStatus ?? '',
  };
}

async function describeGroup(rds: RDSClient, name: string): Promise<DBSubnetGroup | undefined> {
  const answer = await unlessNotFound(rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: name })), { notFound: ['DBSubnetGroupNotFoundFault'] });
  return answer?.DBSubnetGroups?.[0];
}

/** The DBSubnetGroup handler. */
export const subnetGroupHandler: ResourceHandler<DBSubnetGroupSpec> = {
  kind: 'DBSubnetGroup',
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const rds = context.client(RDSClient);
    const group = await describeGroup(rds, desired.name);
    if (!group?.DBSubnetGroupName) return absent();
    const tags = await rdsTags(rds, group.DBSubnetGroupArn);
    const found = { id: group.DBSubnetGroupName, ...ownership(context, tags), status: subnetGroupStatus(group) };
    if (context.deleting) return present({ ...found, differences: [], ready: true });
    return present({
      ...found,
      differences: compareSubnetGroup(desired, await desiredSubnetIds(context, desired), group, context.tags, tags),
      ready: true,
    });
  },

  async create(context, desired) {
    const rds = context.client(RDSClient);
    const SubnetIds = await desiredSubnetIds(context, desired);
    try {
      // Tags go with the create call, so a crash right after it leaves a group the next observe knows as ours.
      await rds.send(
        new CreateDBSubnetGroupCommand({
          DBSubnetGroupName: desired.name,
          DBSubnetGroupDescription: desired.description,
          SubnetIds,
          Tags: rdsTagList(context.tags),
        }),
      );
      return;
    } catch (error) {
      if (errorName(error) !== 'DBSubnetGroupAlreadyExistsFault') throw error;
    }
    // Made by an earlier attempt of ours (observe had not seen it), or by someone else since.
    const group = await describeGroup(rds, desired.name);
    const tags = await rdsTags(rds, group?.DBSubnetGroupArn);
    assertNotOwnedByAnother(context, `DB subnet group ${desired.name}`, tags);
    if (ownership(context, tags).unmanaged) throw alreadyExists(`DB subnet group ${desired.name}`, ADOPT_BY_NAME_HINT);
  },

  async update(context, desired) {
    const rds = context.client(RDSClient);
    const group = await describeGroup(rds, desired.name);
    if (!group?.DBSubnetGroupArn) return; // Gone: the next observe says so and create follows.
    const SubnetIds = await desiredSubnetIds(context, desired);
    if (group.DBSubnetGroupDescription !== desired.description || subnetIdsOf(group).join(',') !== SubnetIds.join(',')) {
      await rds.send(new ModifyDBSubnetGroupCommand({ DBSubnetGroupName: desired.name, DBSubnetGroupDescription: desired.description, SubnetIds }));
    }
    await reconcileRdsTags(rds, group.DBSubnetGroupArn, context.tags, await rdsTags(rds, group.DBSubnetGroupArn));
  },

  async delete(context, desired) {
    const rds = context.client(RDSClient);
    try {
      await rds.send(new DeleteDBSubnetGroupCommand({ DBSubnetGroupName: desired.name }));
    } catch (error) {
      const name = errorName(error);
      if (name === 'DBSubnetGroupNotFoundFault') return 'Deleted';
      // Still used by an instance (one being deleted, usually): look again once it is gone.
      if (name === 'InvalidDBSubnetGroupStateFault') return 'Deleting';
      throw error;
    }
    return 'Deleted';
  },
};
