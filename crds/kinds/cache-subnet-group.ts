import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, LocalRef, ProviderRef, Tags, commonStatusProperties, immutable } from '../schema.js';

export const CacheSubnetGroupSpec = Type.Object({
  providerRef: ProviderRef,
  name: immutable(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$',
      description:
        'name of the cache subnet group, unique in the account and region: lowercase letters, digits and hyphens, up to 255 characters (ElastiCache keeps names in lowercase). Fixed at creation',
    }),
    'name',
  ),
  description: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      default: 'Managed by infra-operator',
      description: 'what the group is for, shown in AWS; default "Managed by infra-operator"',
    }),
  ),
  subnetIDs: Type.Optional(
    Type.Array(Type.String({ pattern: '^subnet-[0-9a-z]+$', description: 'a subnet ID, e.g. subnet-0abc' }), {
      maxItems: 20,
      description: 'IDs of the subnets (of one VPC) the cache nodes may be placed in, e.g. subnet-0abc; combined with subnetRefs',
    }),
  ),
  subnetRefs: Type.Optional(
    Type.Array(LocalRef, {
      maxItems: 20,
      description: 'the Subnet custom resources (of one VPC) the cache nodes may be placed in; combined with subnetIDs',
    }),
  ),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type CacheSubnetGroupSpec = Static<typeof CacheSubnetGroupSpec>;

export const CacheSubnetGroupStatus = Type.Object({
  ...commonStatusProperties,
  cacheSubnetGroupName: Type.Optional(Type.String({ description: 'name of the cache subnet group, as ElastiCacheCluster subnetGroupName takes it' })),
  arn: Type.Optional(Type.String({ description: 'ARN of the cache subnet group' })),
  vpcID: Type.Optional(Type.String({ description: 'ID of the VPC its subnets belong to' })),
  subnetIDs: Type.Optional(Type.Array(Type.String(), { description: 'IDs of the subnets in the group, as AWS reports them' })),
});
export type CacheSubnetGroupStatus = Static<typeof CacheSubnetGroupStatus>;

export const CacheSubnetGroupKind = defineKind({
  kind: 'CacheSubnetGroup',
  plural: 'cachesubnetgroups',
  singular: 'cachesubnetgroup',
  shortNames: ['csg'],
  description: 'an ElastiCache subnet group: the subnets of one VPC an ElastiCacheCluster places its nodes in',
  spec: CacheSubnetGroupSpec,
  status: CacheSubnetGroupStatus,
  specRules: [
    {
      rule: '(has(self.subnetIDs) ? size(self.subnetIDs) : 0) + (has(self.subnetRefs) ? size(self.subnetRefs) : 0) >= 1',
      message: 'a cache subnet group needs at least one subnet (subnetIDs and subnetRefs together)',
    },
    {
      rule: '(has(self.subnetIDs) ? size(self.subnetIDs) : 0) + (has(self.subnetRefs) ? size(self.subnetRefs) : 0) <= 20',
      message: 'a cache subnet group holds at most 20 subnets (subnetIDs and subnetRefs together)',
    },
  ],
  printerColumns: [
    { name: 'Name', type: 'string', jsonPath: '.status.cacheSubnetGroupName' },
    readyColumn,
    phaseColumn,
    { name: 'VPC', type: 'string', jsonPath: '.status.vpcID', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'cacheSubnetGroupName',
  references: (spec, namespace) => [
    providerReference(spec, namespace),
    ...(spec.subnetRefs ?? []).flatMap((ref) => localReference('Subnet', ref, namespace)),
  ],
});
