import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, ProviderRef, StringEnum, Tags, commonStatusProperties, immutable } from '../schema.js';

export const ElasticIPSpec = Type.Object({
  providerRef: ProviderRef,
  domain: Type.Optional(
    immutable(
      StringEnum(['vpc', 'standard'] as const, { default: 'vpc', description: 'vpc (the default) or standard (EC2-Classic)' }),
      'domain',
    ),
  ),
  networkBorderGroup: Type.Optional(
    immutable(
      Type.String({ minLength: 1, description: 'group of zones the address is advertised from; unset uses the region' }),
      'networkBorderGroup',
    ),
  ),
  publicIpv4Pool: Type.Optional(
    immutable(Type.String({ minLength: 1, description: "BYOIP pool to allocate from; unset uses Amazon's pool" }), 'publicIpv4Pool'),
  ),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type ElasticIPSpec = Static<typeof ElasticIPSpec>;

export const ElasticIPStatus = Type.Object({
  ...commonStatusProperties,
  allocationID: Type.Optional(Type.String({ description: 'AWS allocation ID, e.g. eipalloc-0abc' })),
  publicIP: Type.Optional(Type.String()),
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
  references: (spec, namespace) => [providerReference(spec, namespace)],
});
