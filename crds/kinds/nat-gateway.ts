import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, LocalRef, ProviderRef, StringEnum, Tags, commonStatusProperties, exactlyOne, immutable } from '../schema.js';

export const NATGatewaySpec = Type.Object({
  providerRef: ProviderRef,
  subnetID: Type.Optional(
    immutable(
      Type.String({ pattern: '^subnet-[0-9a-z-]+$', description: 'subnet to place the NAT gateway in; a public subnet for a public NAT' }),
      'subnetID',
    ),
  ),
  subnetRef: Type.Optional(immutable(LocalRef, 'subnetRef')),
  connectivityType: Type.Optional(
    immutable(
      StringEnum(['public', 'private'] as const, {
        default: 'public',
        description: 'public NATs reach the internet through an Elastic IP; private NATs only other networks',
      }),
      'connectivityType',
    ),
  ),
  allocationID: Type.Optional(
    immutable(
      Type.String({
        pattern: '^eipalloc-[0-9a-z]+$',
        description: 'Elastic IP to use (public only); unset allocates one that is released with the NAT gateway',
      }),
      'allocationID',
    ),
  ),
  allocationRef: Type.Optional(immutable(LocalRef, 'allocationRef')),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type NATGatewaySpec = Static<typeof NATGatewaySpec>;

export const NATGatewayStatus = Type.Object({
  ...commonStatusProperties,
  natGatewayID: Type.Optional(Type.String()),
  subnetID: Type.Optional(Type.String()),
  publicIP: Type.Optional(Type.String()),
  privateIP: Type.Optional(Type.String()),
  allocationID: Type.Optional(Type.String()),
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
    // The field rules (self == oldSelf) only run when a field is present both
    // before and after; this one stops swapping subnetID for subnetRef, or
    // adding an Elastic IP later.
    {
      rule:
        'has(self.subnetID) == has(oldSelf.subnetID) && has(self.subnetRef) == has(oldSelf.subnetRef) && ' +
        'has(self.allocationID) == has(oldSelf.allocationID) && has(self.allocationRef) == has(oldSelf.allocationRef)',
      message: 'subnetID, subnetRef, allocationID and allocationRef are immutable: create a new resource to change them',
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
  references: (spec, namespace) => [
    providerReference(spec, namespace),
    ...localReference('Subnet', spec.subnetRef, namespace),
    ...localReference('ElasticIP', spec.allocationRef, namespace),
  ],
});
