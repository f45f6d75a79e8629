import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, LocalRef, ProviderRef, StringEnum, Tags, commonStatusProperties, exactlyOne, immutable } from '../schema.js';

export const NATGatewaySpec = Type.Object({
  providerRef: ProviderRef,
  subnetID: Type.Optional(
    immutable(
      Type.String({
        pattern: '^subnet-[0-9a-z-]+$',
        description: 'ID of the subnet to place the NAT gateway in (a public subnet for a public NAT), e.g. subnet-0abc; or use subnetRef. Fixed at creation',
      }),
      'subnetID',
    ),
  ),
  subnetRef: Type.Optional(
    immutable({ ...LocalRef, description: 'the Subnet custom resource to place the NAT gateway in; or use subnetID. Fixed at creation' }, 'subnetRef'),
  ),
  connectivityType: Type.Optional(
    immutable(
      StringEnum(['public', 'private'] as const, {
        default: 'public',
        description:
          'public (the default) reaches the internet through an Elastic IP; private reaches only other VPCs and on-premises networks. Fixed at creation',
      }),
      'connectivityType',
    ),
  ),
  allocationID: Type.Optional(
    immutable(
      Type.String({
        pattern: '^eipalloc-[0-9a-z]+$',
        description:
          'allocation ID of an Elastic IP to use (public only), e.g. eipalloc-0abc; or use allocationRef. Unset (and no allocationRef): the operator allocates one and releases it with the NAT gateway. Fixed at creation',
      }),
      'allocationID',
    ),
  ),
  allocationRef: Type.Optional(
    immutable(
      { ...LocalRef, description: 'the ElasticIP custom resource to use (public only); or use allocationID. Fixed at creation' },
      'allocationRef',
    ),
  ),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type NATGatewaySpec = Static<typeof NATGatewaySpec>;

export const NATGatewayStatus = Type.Object({
  ...commonStatusProperties,
  natGatewayID: Type.Optional(Type.String({ description: 'AWS NAT gateway ID, e.g. nat-0abc' })),
  subnetID: Type.Optional(Type.String({ description: 'ID of the subnet the NAT gateway is in' })),
  publicIP: Type.Optional(Type.String({ description: 'public IPv4 address of its Elastic IP; empty for a private NAT' })),
  privateIP: Type.Optional(Type.String({ description: 'private IPv4 address in its subnet' })),
  allocationID: Type.Optional(Type.String({ description: 'allocation ID of its Elastic IP; empty for a private NAT' })),
  state: Type.Optional(Type.String({ description: 'pending, available, failed, deleting, deleted' })),
});
export type NATGatewayStatus = Static<typeof NATGatewayStatus>;

export const NATGatewayKind = defineKind({
  kind: 'NATGateway',
  plural: 'natgateways',
  singular: 'natgateway',
  shortNames: ['nat'],
  description: 'a NAT gateway, public (with an Elastic IP) or private',
  spec: NATGatewaySpec,
  status: NATGatewayStatus,
  specRules: [
    exactlyOne('subnetID', 'subnetRef'),
    {
      rule: '!(has(self.allocationID) && has(self.allocationRef))',
      message: 'set at most one of allocationID or allocationRef',
    },
    {
      rule: "!has(self.connectivityType) || self.connectivityType == 'public' || !(has(self.allocationID) || has(self.allocationRef))",
      message: 'allocationID and allocationRef apply to public NAT gateways only',
    },
  ],
  printerColumns: [
    { name: 'NAT Gateway', type: 'string', jsonPath: '.status.natGatewayID' },
    readyColumn,
    phaseColumn,
    { name: 'State', type: 'string', jsonPath: '.status.state', priority: 1 },
    { name: 'Public IP', type: 'string', jsonPath: '.status.publicIP', priority: 1 },
    { name: 'Subnet', type: 'string', jsonPath: '.status.subnetID', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'natGatewayID',
  references: (spec, namespace) => [
    providerReference(spec, namespace),
    ...localReference('Subnet', spec.subnetRef, namespace),
    ...localReference('ElasticIP', spec.allocationRef, namespace),
  ],
});
