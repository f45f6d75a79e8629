import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import {
  ConnectionSecretRef,
  DELETION_POLICIES,
  LocalRef,
  Name,
  ProviderRef,
  StringEnum,
  Tags,
  commonStatusProperties,
  immutable,
} from '../schema.js';

/** Deletion policies of this kind: the common three, and Snapshot (Delete after a final snapshot; redis only). */
export const CACHE_DELETION_POLICIES = [...DELETION_POLICIES, 'Snapshot'] as const;

const WINDOW_DAY = '(sun|mon|tue|wed|thu|fri|sat)';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]';

export const ElastiCacheClusterSpec = Type.Object({
  providerRef: ProviderRef,
  clusterID: immutable(
    Type.String({
      minLength: 1,
      maxLength: 50,
      pattern: '^[a-z](-?[a-z0-9])*$',
      description:
        'cluster identifier, unique in the account and region: lowercase letters, digits and single hyphens, starting with a letter, not ending with a hyphen; up to 40 characters for redis (it names the replication group), 50 for memcached. Fixed at creation',
    }),
    'clusterID',
  ),
  engine: immutable(
    StringEnum(['redis', 'memcached'] as const, {
      description:
        'redis (created as a replication group with one node, as AWS requires for encryption at rest and AUTH) or memcached (a cache cluster of numCacheNodes nodes). Fixed at creation',
    }),
    'engine',
  ),
  engineVersion: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 20,
      pattern: '^[0-9]+(\\.[0-9a-z]+)*$',
      description: 'engine version, e.g. "7.0" or "1.6.17"; a version AWS reports as 7.0.7 matches "7.0". Unset: AWS picks its default. Changing it upgrades the cluster',
    }),
  ),
  nodeType: Type.String({
    pattern: '^cache\\.[a-z0-9]+\\.[a-z0-9]+$',
    maxLength: 40,
    description: 'node type, e.g. cache.t3.medium; changing it scales the nodes (AWS refuses what the engine cannot do)',
  }),
  numCacheNodes: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 40,
      description: 'number of nodes, 1-40 for memcached (changing it adds or removes nodes); redis has exactly 1. Default 1',
    }),
  ),
  azMode: Type.Optional(
    immutable(
      StringEnum(['single-az', 'cross-az'] as const, {
        description: 'memcached only: single-az (the default) puts every node in one Availability Zone, cross-az spreads them. Fixed at creation',
      }),
      'azMode',
    ),
  ),
  subnetGroupName: Type.Optional(
    immutable(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: 'name of the cache subnet group (the VPC subnets) to place the nodes in; or use subnetGroupRef. Unset (and no subnetGroupRef): the default subnet group. Fixed at creation',
      }),
      'subnetGroupName',
    ),
  ),
  subnetGroupRef: Type.Optional(
    immutable({ ...LocalRef, description: 'the CacheSubnetGroup custom resource to place the nodes in; or use subnetGroupName. Fixed at creation' }, 'subnetGroupRef'),
  ),
  securityGroupIDs: Type.Optional(
    Type.Array(Type.String({ pattern: '^sg-[0-9a-z]+$', description: 'a VPC security group ID, e.g. sg-0abc' }), {
      maxItems: 5,
      description: 'VPC security groups of the nodes, up to 5; or use securityGroupRefs. Unset: the VPC default group, and unmanaged afterwards',
    }),
  ),
  securityGroupRefs: Type.Optional(
    Type.Array(LocalRef, { maxItems: 5, description: 'the SecurityGroup custom resources of the nodes, up to 5; or use securityGroupIDs' }),
  ),
  snapshotRetentionLimit: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 35,
      description: 'redis only: days automatic snapshots are kept, 0-35 (0 turns them off); unset leaves it as AWS has it',
    }),
  ),
  snapshotWindow: Type.Optional(
    Type.String({
      pattern: `^${TIME}-${TIME}$`,
      description: 'redis only: daily UTC time range for automatic snapshots, hh:mm-hh:mm, at least an hour, e.g. "03:00-05:00"; unset leaves it as AWS has it',
    }),
  ),
  preferredMaintenanceWindow: Type.Optional(
    Type.String({
      pattern: `^${WINDOW_DAY}:${TIME}-${WINDOW_DAY}:${TIME}$`,
      description: 'weekly UTC range for maintenance, ddd:hh:mm-ddd:hh:mm, at least an hour, e.g. "sun:05:00-sun:07:00"; unset leaves it as AWS has it',
    }),
  ),
  transitEncryptionEnabled: Type.Optional(
    immutable(
      Type.Boolean({ description: 'encrypt traffic to the nodes with TLS (redis; memcached from 1.6.12, in a VPC); default false. Fixed at creation' }),
      'transitEncryptionEnabled',
    ),
  ),
  atRestEncryptionEnabled: Type.Optional(
    immutable(Type.Boolean({ description: 'redis only: encrypt data on disk and in snapshots; default false. Fixed at creation' }), 'atRestEncryptionEnabled'),
  ),
  authTokenSecretRef: Type.Optional(
    Type.Object(
      {
        name: Name({ description: 'name of the Secret, in this resource namespace' }),
        key: Name({ description: 'key inside the Secret holding the token: 16-128 printable characters, no spaces, ", / or @' }),
      },
      {
        description:
          'redis with transitEncryptionEnabled only: the Redis AUTH token, read from this Secret by the operator and never copied into any status, Event, log or workflow history. A changed value is applied with the ROTATE strategy (the old token keeps working until the next rotation); unset leaves AUTH as AWS has it',
      },
    ),
  ),
  writeConnectionSecretToRef: Type.Optional(ConnectionSecretRef),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(
    StringEnum(CACHE_DELETION_POLICIES, {
      default: 'Delete',
      description:
        'what happens to the AWS cluster when this object is deleted: Delete (the default) removes it; Snapshot (redis only) removes it after a final snapshot named <clusterID>-final-<first 8 characters of this object uid>; Retain and Orphan keep it in AWS. The custom resource goes either way',
    }),
  ),
});
export type ElastiCacheClusterSpec = Static<typeof ElastiCacheClusterSpec>;

export const ElastiCacheClusterStatus = Type.Object({
  ...commonStatusProperties,
  clusterID: Type.Optional(Type.String({ description: 'cluster identifier in AWS (the replication group ID for redis)' })),
  clusterStatus: Type.Optional(Type.String({ description: 'as AWS reports it: creating, available, modifying, snapshotting, deleting, create-failed…' })),
  endpoint: Type.Optional(Type.String({ description: 'address to connect to: the primary endpoint for redis, the configuration endpoint for memcached' })),
  port: Type.Optional(Type.Integer({ description: 'port of the endpoint' })),
  arn: Type.Optional(Type.String({ description: 'ARN of the cluster (the replication group for redis)' })),
  engineVersion: Type.Optional(Type.String({ description: 'engine version AWS runs' })),
});
export type ElastiCacheClusterStatus = Static<typeof ElastiCacheClusterStatus>;

export const ElastiCacheClusterKind = defineKind({
  kind: 'ElastiCacheCluster',
  plural: 'elasticacheclusters',
  singular: 'elasticachecluster',
  shortNames: ['ecc'],
  description: 'an ElastiCache cluster: redis (one node, as a replication group) or memcached (1-40 nodes)',
  spec: ElastiCacheClusterSpec,
  status: ElastiCacheClusterStatus,
  specRules: [
    { rule: "self.engine != 'redis' || size(self.clusterID) <= 40", message: 'clusterID of a redis cluster is at most 40 characters', fieldPath: '.clusterID' },
    { rule: "self.engine != 'redis' || !has(self.numCacheNodes) || self.numCacheNodes == 1", message: 'numCacheNodes of a redis cluster is 1', fieldPath: '.numCacheNodes' },
    { rule: "self.engine == 'memcached' || !has(self.azMode)", message: 'azMode applies to memcached only', fieldPath: '.azMode' },
    {
      rule: "self.engine == 'redis' || !(has(self.snapshotRetentionLimit) || has(self.snapshotWindow))",
      message: 'snapshotRetentionLimit and snapshotWindow apply to redis only: memcached has no snapshots',
    },
    {
      rule: "self.engine == 'redis' || !has(self.atRestEncryptionEnabled) || !self.atRestEncryptionEnabled",
      message: 'atRestEncryptionEnabled applies to redis only',
      fieldPath: '.atRestEncryptionEnabled',
    },
    {
      rule: "!has(self.authTokenSecretRef) || (self.engine == 'redis' && has(self.transitEncryptionEnabled) && self.transitEncryptionEnabled)",
      message: 'authTokenSecretRef needs engine redis and transitEncryptionEnabled: true (AWS accepts an AUTH token only over TLS)',
      fieldPath: '.authTokenSecretRef',
    },
    {
      rule: "!has(self.deletionPolicy) || self.deletionPolicy != 'Snapshot' || self.engine == 'redis'",
      message: 'deletionPolicy Snapshot applies to redis only: memcached has no snapshots; use Delete',
      fieldPath: '.deletionPolicy',
    },
    { rule: '!(has(self.subnetGroupName) && has(self.subnetGroupRef))', message: 'set at most one of subnetGroupName or subnetGroupRef' },
    { rule: '!(has(self.securityGroupIDs) && has(self.securityGroupRefs))', message: 'set at most one of securityGroupIDs or securityGroupRefs' },
  ],
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.status.clusterID' },
    readyColumn,
    phaseColumn,
    { name: 'Engine', type: 'string', jsonPath: '.spec.engine', priority: 1 },
    { name: 'Status', type: 'string', jsonPath: '.status.clusterStatus', priority: 1 },
    { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'clusterID',
  references: (spec, namespace) => [
    providerReference(spec, namespace),
    ...localReference('CacheSubnetGroup', spec.subnetGroupRef, namespace),
    ...(spec.securityGroupRefs ?? []).flatMap((ref) => localReference('SecurityGroup', ref, namespace)),
  ],
  secretNames: (spec) => (spec.authTokenSecretRef ? [spec.authTokenSecretRef.name] : []),
});
