import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, LocalRef, ProviderRef, Tags, commonStatusProperties, immutable } from '../schema.js';

export const DBSubnetGroupSpec = Type.Object({
  providerRef: ProviderRef,
  name: immutable(
    Type.String({
      minLength: 1,
      maxLength: 255,
      // AWS lowercases the name it is given; only the lowercase form is accepted so spec and AWS agree.
      pattern: '^[a-z0-9][a-z0-9._ -]*$',
      description:
        'name of the DB subnet group in AWS, unique per account and region: lowercase letters, digits, spaces, periods, underscores and hyphens, not "default". Fixed at creation',
    }),
    'name',
  ),
  description: Type.String({ minLength: 1, maxLength: 255, description: 'description of the group (AWS requires one)' }),
  subnetIDs: Type.Optional(
    Type.Array(Type.String({ pattern: '^subnet-[0-9a-z]+$' }), {
      maxItems: 20,
      description: 'IDs of the subnets, in at least two availability zones of one VPC, e.g. subnet-0abc; combined with subnetRefs',
    }),
  ),
  subnetRefs: Type.Optional(
    Type.Array(LocalRef, { maxItems: 20, description: 'Subnet custom resources of the group; combined with subnetIDs' }),
  ),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type DBSubnetGroupSpec = Static<typeof DBSubnetGroupSpec>;

export const DBSubnetGroupStatus = Type.Object({
  ...commonStatusProperties,
  dbSubnetGroupName: Type.Optional(Type.String({ description: 'name of the DB subnet group, as RDSInstance dbSubnetGroupName takes it' })),
  arn: Type.Optional(Type.String({ description: 'ARN of the DB subnet group' })),
  vpcID: Type.Optional(Type.String({ description: 'ID of the VPC its subnets are in' })),
  subnetIDs: Type.Optional(Type.Array(Type.String(), { description: 'IDs of its subnets, as AWS reports them' })),
  subnetGroupStatus: Type.Optional(Type.String({ description: 'AWS status of the group, e.g. Complete' })),
});
export type DBSubnetGroupStatus = Static<typeof DBSubnetGroupStatus>;

export const DBSubnetGroupKind = defineKind({
  kind: 'DBSubnetGroup',
  plural: 'dbsubnetgroups',
  singular: 'dbsubnetgroup',
  shortNames: ['dbsg'],
  description: 'an RDS DB subnet group: the subnets (and so the VPC) an RDS instance is placed in',
  spec: DBSubnetGroupSpec,
  status: DBSubnetGroupStatus,
  specRules: [
    { rule: "self.name != 'default'", message: 'name "default" is reserved by AWS for the default VPC group' },
    {
      rule: '(has(self.subnetIDs) ? size(self.subnetIDs) : 0) + (has(self.subnetRefs) ? size(self.subnetRefs) : 0) >= 2',
      message: 'a DB subnet group needs at least two subnets (subnetIDs and subnetRefs together), in two availability zones',
    },
  ],
  printerColumns: [
    { name: 'Name', type: 'string', jsonPath: '.status.dbSubnetGroupName' },
    readyColumn,
    phaseColumn,
    { name: 'VPC', type: 'string', jsonPath: '.status.vpcID', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'dbSubnetGroupName',
  references: (spec, namespace) => [
    providerReference(spec, namespace),
    ...(spec.subnetRefs ?? []).flatMap((ref) => localReference('Subnet', ref, namespace)),
  ],
});
