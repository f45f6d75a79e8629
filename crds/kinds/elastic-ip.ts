import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, ProviderRef, StringEnum, Tags, commonStatusProperties, immutable } from '../schema.js';

export const ElasticIPSpec = Type.Object({
  providerRef: ProviderRef,
  domain: Type.Optional(
    immutable(
      StringEnum(['vpc', 'standard'] as const, {
        default: 'vpc',
        description: 'vpc (the default: an address for use in a VPC) or standard (EC2-Classic, retired by AWS). Fixed at creation',
      }),
      'domain',
    ),
  ),
  networkBorderGroup: Type.Optional(
    immutable(
      Type.String({
        minLength: 1,
        description:
          'network border group the address is advertised from, e.g. us-east-1 or a Local Zone group such as us-east-1-bos-1; unset: the region. Fixed at creation',
      }),
      'networkBorderGroup',
    ),
  ),
  publicIpv4Pool: Type.Optional(
    immutable(
      Type.String({
        minLength: 1,
        description: "ID of a bring-your-own-IP pool to allocate the address from, e.g. ipv4pool-ec2-0abc; unset: Amazon's pool. Fixed at creation",
      }),
      'publicIpv4Pool',
    ),
  ),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type ElasticIPSpec = Static<typeof ElasticIPSpec>;

export const ElasticIPStatus = Type.Object({
  ...commonStatusProperties,
  allocationID: Type.Optional(Type.String({ description: 'AWS allocation ID, e.g. eipalloc-0abc' })),
  publicIP: Type.Optional(Type.String({ description: 'the public IPv4 address allocated' })),
  associationID: Type.Optional(Type.String({ description: 'association with an instance, interface or NAT gateway; empty when none' })),
});
export type ElasticIPStatus = Static<typeof ElasticIPStatus>;

export const ElasticIPKind = defineKind({
  kind: 'ElasticIP',
  plural: 'elasticips',
  singular: 'elasticip',
  shortNames: ['eip'],
  description: 'an Elastic IP address; whatever associates it (a NAT gateway) releases the association on its own deletion',
  spec: ElasticIPSpec,
  status: ElasticIPStatus,
  printerColumns: [
    { name: 'Allocation', type: 'string', jsonPath: '.status.allocationID' },
    { name: 'IP', type: 'string', jsonPath: '.status.publicIP' },
    readyColumn,
    phaseColumn,
    { name: 'Association', type: 'string', jsonPath: '.status.associationID', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'allocationID',
  references: (spec, namespace) => [providerReference(spec, namespace)],
});
