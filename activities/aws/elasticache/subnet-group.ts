/**
 * CacheSubnetGroup: one ElastiCache subnet group, its description, subnets
 * and tags. Identified by its name, which the operator chooses, so it is
 * found by name (like an SQS queue) and tagged in the create call itself.
 */
import {
  CreateCacheSubnetGroupCommand,
  DeleteCacheSubnetGroupCommand,
  DescribeCacheSubnetGroupsCommand,
  ElastiCacheClient,
  ModifyCacheSubnetGroupCommand,
  type CacheSubnetGroup,
} from '@aws-sdk/client-elasticache';
import type { CacheSubnetGroupSpec } from '../../../crds/kinds/cache-subnet-group.js';
import { errorName, isNotFound, type ErrorCodes } from '../errors.js';
import { absent, present, type AwsContext, type ResourceHandler } from '../handler.js';
import { ADOPT_BY_NAME_HINT, alreadyExists, assertNotOwnedByAnother, compareTags, ownership } from '../tags.js';
import { ELASTICACHE_ERROR_CODES, readTags, reconcileTags, tagList } from './common.js';

const ERROR_CODES: ErrorCodes = {
  ...ELASTICACHE_ERROR_CODES,
  notFound: ['CacheSubnetGroupNotFoundFault', ...(ELASTICACHE_ERROR_CODES.notFound ?? [])],
};

/** A group some cluster still uses: deletion waits for the cluster to go first. */
const IN_USE = new Set(['CacheSubnetGroupInUse', 'CacheSubnetGroupInUseFault']);
const EXISTS = new Set(['CacheSubnetGroupAlreadyExistsFault', 'CacheSubnetGroupAlreadyExists']);

export const DEFAULT_DESCRIPTION = 'Managed by infra-operator';

/** What AWS has for one group. */
export interface ObservedSubnetGroup {
  name: string;
  arn: string;
  description: string;
  vpcID?: string;
  subnetIDs: string[];
  tags: Record<string, string>;
}

export function observedGroup(group: CacheSubnetGroup, tags: Record<string, string>): ObservedSubnetGroup {
  return {
    name: group.CacheSubnetGroupName ?? '',
    arn: group.ARN ?? '',
    description: group.CacheSubnetGroupDescription ?? '',
    ...(group.VpcId ? { vpcID: group.VpcId } : {}),
    subnetIDs: (group.Subnets ?? []).flatMap((subnet) => (subnet.SubnetIdentifier ? [subnet.SubnetIdentifier] : [])),
    tags,
  };
}

function sameSet(a: string[], b: string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((item) => left.has(item));
}

/** Readable differences between the spec (with its subnets resolved) and AWS. */
export function compareSubnetGroup(
  desired: { description: string; subnetIDs: string[] },
  observed: ObservedSubnetGroup,
  desiredTags: Record<string, string>,
): string[] {
  const differences: string[] = [];
  if (desired.description !== observed.description) differences.push(`description: "${observed.description}" -> "${desired.description}"`);
  if (!sameSet(desired.subnetIDs, observed.subnetIDs)) {
    differences.push(`subnetIDs: ${[...observed.subnetIDs].sort().join(',') || 'none'} -> ${[...desired.subnetIDs].sort().join(',')}`);
  }
  const tags = compareTags(desiredTags, observed.tags);
  if (tags) differences.push(`tags: ${tags}`);
  return differences;
}

/** The subnet IDs the spec names, references resolved (a reference not Ready yet makes the resource wait). */
export async function desiredSubnetIDs(context: AwsContext, desired: CacheSubnetGroupSpec): Promise<string[]> {
  const ids: string[] = [...(desired.subnetIDs ?? [])];
  for (const ref of desired.subnetRefs ?? []) ids.push(await context.resolve({ kind: 'Subnet', ...ref }, 'subnetID'));
  return [...new Set(ids)];
}

async function readGroup(client: ElastiCacheClient, name: string): Promise<ObservedSubnetGroup | undefined> {
  let group: CacheSubnetGroup | undefined;
  try {
    group = (await client.send(new DescribeCacheSubnetGroupsCommand({ CacheSubnetGroupName: name }))).CacheSubnetGroups?.[0];
  } catch (error) {
    if (isNotFound(error, ERROR_CODES)) return undefined;
    throw error;
  }
  if (!group) return undefined;
  return observedGroup(group, await readTags(client, group.ARN ?? ''));
}

/** Writes what differs, and only that. */
async function reconcileGroup(context: AwsContext, client: ElastiCacheClient, desired: CacheSubnetGroupSpec, observed: ObservedSubnetGroup): Promise<void> {
  const description = desired.description ?? DEFAULT_DESCRIPTION;
  const subnetIDs = await desiredSubnetIDs(context, desired);
  if (description !== observed.description || !sameSet(subnetIDs, observed.subnetIDs)) {
    await client.send(
      new ModifyCacheSubnetGroupCommand({ CacheSubnetGroupName: observed.name, CacheSubnetGroupDescription: description, SubnetIds: subnetIDs }),
    );
  }
  await reconcileTags(client, observed.arn, context.tags, observed.tags);
}

/** The CacheSubnetGroup handler. */
export const cacheSubnetGroupHandler: ResourceHandler<CacheSubnetGroupSpec> = {
  kind: 'CacheSubnetGroup',
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const observed = await readGroup(context.client(ElastiCacheClient), desired.name);
    if (!observed) return absent();
    const status = {
      cacheSubnetGroupName: observed.name,
      arn: observed.arn,
      ...(observed.vpcID ? { vpcID: observed.vpcID } : {}),
      subnetIDs: observed.subnetIDs,
    };
    // While deleting, references may be gone already: nothing is compared.
    const differences = context.deleting
      ? []
      : compareSubnetGroup(
          { description: desired.description ?? DEFAULT_DESCRIPTION, subnetIDs: await desiredSubnetIDs(context, desired) },
          observed,
          context.tags,
        );
    return present({ id: observed.name, differences, ready: true, status, ...ownership(context, observed.tags) });
  },

  async create(context, desired) {
    const client = context.client(ElastiCacheClient);
    const subnetIDs = await desiredSubnetIDs(context, desired);
    try {
      // Tags go with the create, so a crash right after it leaves a group
      // the next observe recognises as ours.
      await client.send(
        new CreateCacheSubnetGroupCommand({
          CacheSubnetGroupName: desired.name,
          CacheSubnetGroupDescription: desired.description ?? DEFAULT_DESCRIPTION,
          SubnetIds: subnetIDs,
          Tags: tagList(context.tags),
        }),
      );
      return;
    } catch (error) {
      if (!EXISTS.has(errorName(error))) throw error;
    }
    // A group of that name exists: an earlier attempt of ours (tagged with
    // it), another resource's, or one made outside the operator.
    const observed = await readGroup(client, desired.name);
    if (!observed) return; // Deleted meanwhile: the next observe says so and create follows.
    assertNotOwnedByAnother(context, `cache subnet group ${desired.name}`, observed.tags);
    if (ownership(context, observed.tags).unmanaged) throw alreadyExists(`cache subnet group ${desired.name}`, ADOPT_BY_NAME_HINT);
    await reconcileGroup(context, client, desired, observed);
  },

  async update(context, desired) {
    const client = context.client(ElastiCacheClient);
    const observed = await readGroup(client, desired.name);
    if (observed) await reconcileGroup(context, client, desired, observed);
  },

  async delete(context, desired) {
    const client = context.client(ElastiCacheClient);
    try {
      await client.send(new DeleteCacheSubnetGroupCommand({ CacheSubnetGroupName: desired.name }));
    } catch (error) {
      // A cluster still in it (being deleted, say): wait on a durable timer and try again.
      if (IN_USE.has(errorName(error))) return 'Deleting';
      if (!isNotFound(error, ERROR_CODES)) throw error;
    }
    return 'Deleted';
  },
};
