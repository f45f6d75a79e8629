/**
 * ElastiCacheCluster: a redis or memcached cluster.
 *
 * Redis is made as a replication group of one node (ReplicationGroupId =
 * clusterID, one member cluster, cluster mode off), not with
 * CreateCacheCluster: only a replication group takes AtRestEncryptionEnabled,
 * has a primary endpoint, rotates an AUTH token (ModifyReplicationGroup
 * AuthTokenUpdateStrategy) and takes a final snapshot on delete, which the
 * guide's redis fields need. The AWS console makes redis clusters the same
 * way, and calls the replication group's ID the cluster ID. Memcached is a
 * plain cache cluster of numCacheNodes nodes, found by its configuration
 * endpoint.
 *
 * Both are named by clusterID, so they are found by name, tagged in the
 * create call itself, and a create that meets an untagged cluster of that
 * name refuses it (AlreadyExists) until the adoption annotation says
 * otherwise. AWS takes minutes to create or modify a cluster: observe
 * reports `creating` / `modifying` as not ready (lifecycle Pending), and the
 * workflow waits on durable timers, never inside an activity. Nothing is
 * compared while the cluster is busy: AWS refuses changes then.
 *
 * The AUTH token is read from its Secret inside the activity and goes only
 * to AWS and into the connection Secret. The cluster carries a tag with the
 * token's version (AUTH_TOKEN_VERSION_TAG: the Secret's uid and
 * resourceVersion, never the value); another version is applied with the
 * ROTATE strategy, so clients holding the old token keep working while the
 * connection Secret gets the new one.
 */
import {
  CreateCacheClusterCommand,
  CreateReplicationGroupCommand,
  DeleteCacheClusterCommand,
  DeleteReplicationGroupCommand,
  DescribeCacheClustersCommand,
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  ModifyCacheClusterCommand,
  ModifyReplicationGroupCommand,
  type CacheCluster,
  type ModifyCacheClusterMessage,
  type ModifyReplicationGroupMessage,
  type ReplicationGroup,
} from '@aws-sdk/client-elasticache';
import type { ElastiCacheClusterSpec } from '../../../crds/kinds/elasticache-cluster.js';
import { errorName, unlessNotFound, type ErrorCodes } from '../errors.js';
import { absent, present, type AwsContext, type Lifecycle, type Observation, type ResourceHandler, type SecretValue } from '../handler.js';
import { ADOPT_BY_NAME_HINT, alreadyExists, assertNotOwnedByAnother, compareTags, ownership } from '../tags.js';
import { IMMUTABLE_FIELD_CHANGED } from '../difference.js';
import { ELASTICACHE_ERROR_CODES, readTags, reconcileTags, tagList } from './common.js';

/** Tag holding the version (never the value) of the AUTH token last applied. */
export const AUTH_TOKEN_VERSION_TAG = 'aws-infra-operator.runner.codes/auth-token-version';
/** Error name update throws for a cluster AWS reports as failed; terminal. */
export const CLUSTER_FAILED = 'CacheClusterFailed';

const ERROR_CODES: ErrorCodes = {
  terminal: [CLUSTER_FAILED, IMMUTABLE_FIELD_CHANGED],
  retryable: ELASTICACHE_ERROR_CODES.retryable ?? [],
  // A subnet group or security group the spec names that does not exist
  // escapes as "not found": the resource waits for it (DependencyNotFound).
  notFound: [...(ELASTICACHE_ERROR_CODES.notFound ?? []), 'CacheSubnetGroupNotFoundFault'],
};

const EXISTS = new Set([
  'ReplicationGroupAlreadyExistsFault',
  'ReplicationGroupAlreadyExists',
  'CacheClusterAlreadyExistsFault',
  'CacheClusterAlreadyExists',
]);

/** What AWS has for one cluster, whichever API it came from. */
export interface ObservedCluster {
  id: string;
  arn: string;
  status: string;
  engineVersion?: string;
  nodeType?: string;
  numCacheNodes: number;
  /** Node IDs (memcached), for choosing which to remove. */
  nodeIDs: string[];
  /** Undefined when AWS did not say (a redis member cluster not listed). */
  securityGroupIDs?: string[];
  snapshotRetentionLimit?: number;
  snapshotWindow?: string;
  maintenanceWindow?: string;
  transitEncryption?: boolean;
  atRestEncryption?: boolean;
  authTokenEnabled?: boolean;
  endpoint?: { address: string; port: number };
  tags: Record<string, string>;
}

/** The spec with what it points at resolved: security group IDs, the subnet group's name, the token's version. */
export interface ResolvedSpec {
  securityGroupIDs?: string[];
  subnetGroupName?: string;
  authTokenVersion?: string;
}

/** One field that differs, with what fixes it. */
export interface Difference {
  field: string;
  detail: string;
  immutable?: boolean;
  /** Parameters of the modify call that fix it (both APIs spell these alike). */
  modify?: Partial<ModifyCacheClusterMessage & ModifyReplicationGroupMessage>;
  /** The AUTH token must be (re)applied. */
  authToken?: boolean;
}

// ---------------------------------------------------------------------------
// Pure helpers.

/** The final snapshot's name under deletionPolicy Snapshot: the same on every attempt, unique per object. */
export function finalSnapshotName(clusterID: string, uid: string): string {
  return `${clusterID}-final-${uid.replace(/-/g, '').slice(0, 8)}`;
}

/** A cluster's status in the workflow's terms. */
export function lifecycleOf(status: string): Lifecycle {
  switch (status) {
    case 'available':
      return 'Available';
    case 'deleting':
    case 'deleted':
      return 'Deleting';
    case 'create-failed':
    case 'incompatible-network':
    case 'restore-failed':
      return 'Failed';
    default:
      // creating, modifying, snapshotting, rebooting cache cluster nodes…
      return 'Pending';
  }
}

/** The engine version matches when equal, or when the spec names only a prefix of it ("7.0" for "7.0.7"). */
export function engineVersionMatches(desired: string, observed: string | undefined): boolean {
  return observed !== undefined && (observed === desired || observed.startsWith(`${desired}.`));
}

function sameSet(a: string[], b: string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((item) => left.has(item));
}

/** Tags as the user's are compared: without the token version, which is compared as authToken. */
function userTags(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([key]) => key !== AUTH_TOKEN_VERSION_TAG));
}

/** The full tag set the cluster should carry. */
export function desiredTags(context: AwsContext, resolved: ResolvedSpec, observed?: Record<string, string>): Record<string, string> {
  const version = resolved.authTokenVersion ?? observed?.[AUTH_TOKEN_VERSION_TAG];
  return { ...context.tags, ...(version !== undefined ? { [AUTH_TOKEN_VERSION_TAG]: version } : {}) };
}

/** Every field where AWS differs from the spec. */
export function compareCluster(
  desired: ElastiCacheClusterSpec,
  resolved: ResolvedSpec,
  observed: ObservedCluster,
  tags: Record<string, string>,
): Difference[] {
  const differences: Difference[] = [];
  const redis = desired.engine === 'redis';
  if (observed.nodeType !== undefined && observed.nodeType !== desired.nodeType) {
    differences.push({ field: 'nodeType', detail: `${observed.nodeType} -> ${desired.nodeType}`, modify: { CacheNodeType: desired.nodeType } });
  }
  if (desired.engineVersion !== undefined && observed.engineVersion !== undefined && !engineVersionMatches(desired.engineVersion, observed.engineVersion)) {
    differences.push({
      field: 'engineVersion',
      detail: `${observed.engineVersion} -> ${desired.engineVersion}`,
      modify: { EngineVersion: desired.engineVersion },
    });
  }
  const nodes = desired.numCacheNodes ?? 1;
  if (!redis && observed.numCacheNodes !== nodes) {
    const removing = observed.numCacheNodes - nodes;
    differences.push({
      field: 'numCacheNodes',
      detail: `${observed.numCacheNodes} -> ${nodes}`,
      modify: {
        NumCacheNodes: nodes,
        // The newest nodes go first.
        ...(removing > 0 ? { CacheNodeIdsToRemove: [...observed.nodeIDs].sort().reverse().slice(0, removing) } : {}),
        ...(removing < 0 && desired.azMode ? { AZMode: desired.azMode } : {}),
      },
    });
  }
  if (resolved.securityGroupIDs !== undefined && observed.securityGroupIDs !== undefined && !sameSet(resolved.securityGroupIDs, observed.securityGroupIDs)) {
    differences.push({
      field: 'securityGroupIDs',
      detail: `${[...observed.securityGroupIDs].sort().join(',') || 'none'} -> ${[...resolved.securityGroupIDs].sort().join(',')}`,
      modify: { SecurityGroupIds: resolved.securityGroupIDs },
    });
  }
  if (redis && desired.snapshotRetentionLimit !== undefined && observed.snapshotRetentionLimit !== desired.snapshotRetentionLimit) {
    differences.push({
      field: 'snapshotRetentionLimit',
      detail: `${observed.snapshotRetentionLimit ?? 'unset'} -> ${desired.snapshotRetentionLimit}`,
      modify: { SnapshotRetentionLimit: desired.snapshotRetentionLimit },
    });
  }
  if (redis && desired.snapshotWindow !== undefined && observed.snapshotWindow?.toLowerCase() !== desired.snapshotWindow.toLowerCase()) {
    differences.push({
      field: 'snapshotWindow',
      detail: `${observed.snapshotWindow ?? 'unset'} -> ${desired.snapshotWindow}`,
      modify: { SnapshotWindow: desired.snapshotWindow },
    });
  }
  const window = desired.preferredMaintenanceWindow;
  if (window !== undefined && observed.maintenanceWindow !== undefined && observed.maintenanceWindow.toLowerCase() !== window.toLowerCase()) {
    differences.push({
      field: 'preferredMaintenanceWindow',
      detail: `${observed.maintenanceWindow} -> ${window}`,
      modify: { PreferredMaintenanceWindow: window },
    });
  }
  const transit = desired.transitEncryptionEnabled === true;
  if (observed.transitEncryption !== undefined && observed.transitEncryption !== transit) {
    differences.push({ field: 'transitEncryptionEnabled', detail: `${observed.transitEncryption} -> ${transit}`, immutable: true });
  }
  const atRest = desired.atRestEncryptionEnabled === true;
  if (redis && observed.atRestEncryption !== undefined && observed.atRestEncryption !== atRest) {
    differences.push({ field: 'atRestEncryptionEnabled', detail: `${observed.atRestEncryption} -> ${atRest}`, immutable: true });
  }
  if (redis && resolved.authTokenVersion !== undefined) {
    if (observed.authTokenEnabled === false) {
      differences.push({ field: 'authToken', detail: 'not set -> set from its Secret', authToken: true });
    } else if (observed.tags[AUTH_TOKEN_VERSION_TAG] !== resolved.authTokenVersion) {
      differences.push({ field: 'authToken', detail: 'its Secret changed since the token was applied: rotating', authToken: true });
    }
  }
  const tagDifference = compareTags(userTags(tags), userTags(observed.tags));
  if (tagDifference) differences.push({ field: 'tags', detail: tagDifference });
  return differences;
}

export function formatDifference(difference: Difference): string {
  return `${difference.field}: ${difference.detail}`;
}

/** The status fields of a cluster. */
export function clusterStatus(observed: ObservedCluster): Observation['status'] {
  return {
    clusterID: observed.id,
    clusterStatus: observed.status,
    ...(observed.arn ? { arn: observed.arn } : {}),
    ...(observed.endpoint?.address ? { endpoint: observed.endpoint.address, port: observed.endpoint.port } : {}),
    ...(observed.engineVersion ? { engineVersion: observed.engineVersion } : {}),
  };
}

function securityGroupsOf(cluster: CacheCluster): string[] {
  return (cluster.SecurityGroups ?? []).flatMap((group) => (group.SecurityGroupId ? [group.SecurityGroupId] : []));
}

/** A redis replication group, and what only its member cluster reports, as one observation. */
export function observedReplicationGroup(group: ReplicationGroup, member: CacheCluster | undefined, tags: Record<string, string>): ObservedCluster {
  const primary = group.NodeGroups?.[0]?.PrimaryEndpoint;
  const endpoint = group.ConfigurationEndpoint ?? primary;
  return {
    id: group.ReplicationGroupId ?? '',
    arn: group.ARN ?? '',
    status: group.Status ?? 'unknown',
    ...(member?.EngineVersion ? { engineVersion: member.EngineVersion } : {}),
    ...(group.CacheNodeType ? { nodeType: group.CacheNodeType } : {}),
    numCacheNodes: (group.MemberClusters ?? []).length,
    nodeIDs: [],
    ...(member ? { securityGroupIDs: securityGroupsOf(member) } : {}),
    ...(group.SnapshotRetentionLimit !== undefined ? { snapshotRetentionLimit: group.SnapshotRetentionLimit } : {}),
    ...(group.SnapshotWindow ? { snapshotWindow: group.SnapshotWindow } : {}),
    ...(member?.PreferredMaintenanceWindow ? { maintenanceWindow: member.PreferredMaintenanceWindow } : {}),
    ...(group.TransitEncryptionEnabled !== undefined ? { transitEncryption: group.TransitEncryptionEnabled } : {}),
    ...(group.AtRestEncryptionEnabled !== undefined ? { atRestEncryption: group.AtRestEncryptionEnabled } : {}),
    ...(group.AuthTokenEnabled !== undefined ? { authTokenEnabled: group.AuthTokenEnabled } : {}),
    ...(endpoint?.Address ? { endpoint: { address: endpoint.Address, port: endpoint.Port ?? 6379 } } : {}),
    tags,
  };
}

/** A memcached cache cluster as one observation. */
export function observedCacheCluster(cluster: CacheCluster, tags: Record<string, string>): ObservedCluster {
  const endpoint = cluster.ConfigurationEndpoint;
  return {
    id: cluster.CacheClusterId ?? '',
    arn: cluster.ARN ?? '',
    status: cluster.CacheClusterStatus ?? 'unknown',
    ...(cluster.EngineVersion ? { engineVersion: cluster.EngineVersion } : {}),
    ...(cluster.CacheNodeType ? { nodeType: cluster.CacheNodeType } : {}),
    numCacheNodes: cluster.NumCacheNodes ?? 0,
    nodeIDs: (cluster.CacheNodes ?? []).flatMap((node) => (node.CacheNodeId ? [node.CacheNodeId] : [])),
    securityGroupIDs: securityGroupsOf(cluster),
    ...(cluster.PreferredMaintenanceWindow ? { maintenanceWindow: cluster.PreferredMaintenanceWindow } : {}),
    ...(cluster.TransitEncryptionEnabled !== undefined ? { transitEncryption: cluster.TransitEncryptionEnabled } : {}),
    ...(endpoint?.Address ? { endpoint: { address: endpoint.Address, port: endpoint.Port ?? 11211 } } : {}),
    tags,
  };
}

// ---------------------------------------------------------------------------
// AWS calls.

/**
 * Reads the cluster, or undefined when there is none. `detailed` also reads
 * what only a redis member cluster reports (engine version, security
 * groups, maintenance window), which is compared only once the cluster is
 * available. Tags are always read: they say whose it is.
 */
async function readCluster(client: ElastiCacheClient, desired: ElastiCacheClusterSpec, detailed: boolean): Promise<ObservedCluster | undefined> {
  if (desired.engine === 'redis') {
    const answer = await unlessNotFound(client.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: desired.clusterID })), ERROR_CODES);
    const group = answer?.ReplicationGroups?.[0];
    if (!group) return undefined;
    const memberID = group.MemberClusters?.[0];
    const member =
      detailed && group.Status === 'available' && memberID
        ? (await unlessNotFound(client.send(new DescribeCacheClustersCommand({ CacheClusterId: memberID })), ERROR_CODES))?.CacheClusters?.[0]
        : undefined;
    return observedReplicationGroup(group, member, await readTags(client, group.ARN ?? ''));
  }
  const answer = await unlessNotFound(
    client.send(new DescribeCacheClustersCommand({ CacheClusterId: desired.clusterID, ShowCacheNodeInfo: true })),
    ERROR_CODES,
  );
  const cluster = answer?.CacheClusters?.[0];
  if (!cluster || cluster.CacheClusterStatus === 'deleted') return undefined;
  return observedCacheCluster(cluster, await readTags(client, cluster.ARN ?? ''));
}

async function authToken(context: AwsContext, desired: ElastiCacheClusterSpec): Promise<SecretValue | undefined> {
  return desired.authTokenSecretRef ? context.secret(desired.authTokenSecretRef) : undefined;
}

/** Resolves references (never while deleting: their targets may be gone) and reads the token's version. */
async function resolveSpec(context: AwsContext, desired: ElastiCacheClusterSpec, token?: SecretValue): Promise<ResolvedSpec> {
  if (context.deleting) return {};
  let securityGroupIDs = desired.securityGroupIDs;
  if (desired.securityGroupRefs) {
    securityGroupIDs = [];
    for (const ref of desired.securityGroupRefs) securityGroupIDs.push(await context.resolve({ kind: 'SecurityGroup', ...ref }, 'groupID'));
  }
  const subnetGroupName = desired.subnetGroupRef
    ? await context.resolve({ kind: 'CacheSubnetGroup', ...desired.subnetGroupRef }, 'cacheSubnetGroupName')
    : desired.subnetGroupName;
  const version = token?.version ?? (desired.authTokenSecretRef ? (await context.secret(desired.authTokenSecretRef)).version : undefined);
  return {
    ...(securityGroupIDs ? { securityGroupIDs } : {}),
    ...(subnetGroupName ? { subnetGroupName } : {}),
    ...(version !== undefined ? { authTokenVersion: version } : {}),
  };
}

function description(context: AwsContext): string {
  return `ElastiCacheCluster ${context.resource.namespace}/${context.resource.name}, managed by infra-operator`;
}

async function createCluster(context: AwsContext, client: ElastiCacheClient, desired: ElastiCacheClusterSpec): Promise<void> {
  const token = await authToken(context, desired);
  const resolved = await resolveSpec(context, desired, token);
  const common = {
    EngineVersion: desired.engineVersion,
    CacheNodeType: desired.nodeType,
    CacheSubnetGroupName: resolved.subnetGroupName,
    SecurityGroupIds: resolved.securityGroupIDs,
    PreferredMaintenanceWindow: desired.preferredMaintenanceWindow,
    TransitEncryptionEnabled: desired.transitEncryptionEnabled,
    // Tags go with the create, so a crash right after it leaves a cluster
    // the next observe recognises as ours.
    Tags: tagList(desiredTags(context, resolved)),
  };
  if (desired.engine === 'redis') {
    await client.send(
      new CreateReplicationGroupCommand({
        ...common,
        ReplicationGroupId: desired.clusterID,
        ReplicationGroupDescription: description(context),
        Engine: 'redis',
        NumCacheClusters: 1,
        SnapshotRetentionLimit: desired.snapshotRetentionLimit,
        SnapshotWindow: desired.snapshotWindow,
        AtRestEncryptionEnabled: desired.atRestEncryptionEnabled,
        AuthToken: token?.value,
      }),
    );
    return;
  }
  await client.send(
    new CreateCacheClusterCommand({
      ...common,
      CacheClusterId: desired.clusterID,
      Engine: 'memcached',
      NumCacheNodes: desired.numCacheNodes ?? 1,
      AZMode: desired.azMode,
    }),
  );
}

/** Applies what differs: one modify call (AWS applies it as one change), the token rotation alone, then tags. */
async function reconcileCluster(
  context: AwsContext,
  client: ElastiCacheClient,
  desired: ElastiCacheClusterSpec,
  observed: ObservedCluster,
): Promise<void> {
  const token = await authToken(context, desired);
  const resolved = await resolveSpec(context, desired, token);
  const differences = compareCluster(desired, resolved, observed, desiredTags(context, resolved, observed.tags));
  const fixed = differences.filter((difference) => difference.immutable);
  if (fixed.length) {
    throw Object.assign(
      new Error(
        `cluster ${observed.id} differs in fields fixed at creation (${fixed.map(formatDifference).join('; ')}); ` +
          'create a new ElastiCacheCluster with another clusterID to change them',
      ),
      { name: IMMUTABLE_FIELD_CHANGED },
    );
  }
  const modify = Object.assign({}, ...differences.map((difference) => difference.modify ?? {})) as Difference['modify'];
  const modified = Object.keys(modify ?? {}).length > 0;
  if (modified) {
    if (desired.engine === 'redis') {
      await client.send(new ModifyReplicationGroupCommand({ ...modify, ReplicationGroupId: observed.id, ApplyImmediately: true }));
    } else {
      await client.send(new ModifyCacheClusterCommand({ ...modify, CacheClusterId: observed.id, ApplyImmediately: true }));
    }
  }
  const rotate = differences.some((difference) => difference.authToken);
  // AWS takes a token change alone; with a modification under way it
  // waits for the next pass, once the cluster is available again.
  if (rotate && token && !modified) {
    await client.send(
      new ModifyReplicationGroupCommand({
        ReplicationGroupId: observed.id,
        AuthToken: token.value,
        AuthTokenUpdateStrategy: 'ROTATE',
        ApplyImmediately: true,
      }),
    );
  }
  // Last, so the version tag names a token AWS has accepted.
  const tags = rotate && modified ? desiredTags(context, {}, observed.tags) : desiredTags(context, resolved, observed.tags);
  await reconcileTags(client, observed.arn, tags, observed.tags);
}

/** The ElastiCacheCluster handler. */
export const elastiCacheClusterHandler: ResourceHandler<ElastiCacheClusterSpec> = {
  kind: 'ElastiCacheCluster',
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const client = context.client(ElastiCacheClient);
    const observed = await readCluster(client, desired, !context.deleting);
    if (!observed) return absent();
    const lifecycle = lifecycleOf(observed.status);
    const found = {
      id: observed.id,
      ready: lifecycle === 'Available',
      state: observed.status,
      lifecycle,
      status: clusterStatus(observed),
      ...ownership(context, observed.tags),
    };
    if (context.deleting || lifecycle === 'Pending' || lifecycle === 'Deleting') return present({ ...found, differences: [] });
    if (lifecycle === 'Failed') return present({ ...found, differences: [`clusterStatus: ${observed.status}`] });
    const resolved = await resolveSpec(context, desired);
    const differences = compareCluster(desired, resolved, observed, desiredTags(context, resolved, observed.tags));
    return present({ ...found, differences: differences.map(formatDifference) });
  },

  async create(context, desired) {
    const client = context.client(ElastiCacheClient);
    try {
      await createCluster(context, client, desired);
      return;
    } catch (error) {
      if (!EXISTS.has(errorName(error))) throw error;
    }
    // A cluster of that name exists: an earlier attempt of ours (tagged in
    // its create call), another resource's, or one made outside the operator.
    const observed = await readCluster(client, desired, false);
    if (!observed) return; // Deleted meanwhile: the next observe says so and create follows.
    assertNotOwnedByAnother(context, `cache cluster ${desired.clusterID}`, observed.tags);
    if (ownership(context, observed.tags).unmanaged) throw alreadyExists(`cache cluster ${desired.clusterID}`, ADOPT_BY_NAME_HINT);
  },

  async update(context, desired) {
    const client = context.client(ElastiCacheClient);
    const observed = await readCluster(client, desired, true);
    if (!observed) return; // Gone: the next observe says so and create follows.
    const lifecycle = lifecycleOf(observed.status);
    if (lifecycle === 'Failed') {
      throw Object.assign(
        new Error(`cache cluster ${observed.id} is ${observed.status} in AWS; delete this resource (or the cluster) and create it again`),
        { name: CLUSTER_FAILED },
      );
    }
    // Busy: AWS refuses changes now; the next pass after it is available applies them.
    if (lifecycle !== 'Available') return;
    await reconcileCluster(context, client, desired, observed);
  },

  async delete(context, desired) {
    const client = context.client(ElastiCacheClient);
    const observed = await readCluster(client, desired, false);
    if (!observed) return 'Deleted';
    const lifecycle = lifecycleOf(observed.status);
    // Being deleted already, or busy (AWS refuses a delete while creating or
    // modifying): look again after a durable backoff.
    if (lifecycle === 'Deleting' || lifecycle === 'Pending') return 'Deleting';
    try {
      if (desired.engine === 'redis') {
        const snapshot = desired.deletionPolicy === 'Snapshot' ? finalSnapshotName(desired.clusterID, context.resource.uid) : undefined;
        await client.send(
          new DeleteReplicationGroupCommand({
            ReplicationGroupId: observed.id,
            RetainPrimaryCluster: false,
            ...(snapshot ? { FinalSnapshotIdentifier: snapshot } : {}),
          }),
        );
      } else {
        await client.send(new DeleteCacheClusterCommand({ CacheClusterId: observed.id }));
      }
    } catch (error) {
      if (errorName(error) === 'ReplicationGroupNotFoundFault' || errorName(error) === 'CacheClusterNotFoundFault') return 'Deleted';
      throw error;
    }
    // AWS takes minutes; observe reports `deleting` until it is gone.
    return 'Deleting';
  },

  async connectionDetails(context, desired, observed) {
    const details: Record<string, string> = {
      endpoint: typeof observed.status.endpoint === 'string' ? observed.status.endpoint : '',
      port: typeof observed.status.port === 'number' ? String(observed.status.port) : '',
      engine: desired.engine,
      clusterID: desired.clusterID,
      region: context.region,
    };
    const token = await authToken(context, desired);
    if (token) details.authToken = token.value;
    return details;
  },
};
