import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, LocalRef, ProviderRef, Tags, commonStatusProperties, exactlyOne, immutable, withRules } from '../schema.js';

/** The target fields of a route; exactly one is set. */
export const ROUTE_TARGET_FIELDS = [
  'gatewayID',
  'gatewayRef',
  'natGatewayID',
  'natGatewayRef',
  'instanceID',
  'networkInterfaceID',
  'vpcPeeringConnectionID',
] as const;

export const Route = withRules(
  Type.Object({
    destinationCidrBlock: Type.String({
      pattern: '^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$',
      description: 'IPv4 destination, e.g. 0.0.0.0/0',
    }),
    gatewayID: Type.Optional(Type.String({ pattern: '^(igw|vgw)-[0-9a-z]+$', description: 'internet or virtual private gateway' })),
    gatewayRef: Type.Optional(LocalRef),
    natGatewayID: Type.Optional(Type.String({ pattern: '^nat-[0-9a-z]+$' })),
    natGatewayRef: Type.Optional(LocalRef),
    instanceID: Type.Optional(Type.String({ pattern: '^i-[0-9a-z]+$' })),
    networkInterfaceID: Type.Optional(Type.String({ pattern: '^eni-[0-9a-z]+$' })),
    vpcPeeringConnectionID: Type.Optional(Type.String({ pattern: '^pcx-[0-9a-z]+$' })),
  }),
  [
    {
      rule: ROUTE_TARGET_FIELDS.map((field) => `(has(self.${field}) ? 1 : 0)`).join(' + ') + ' == 1',
      message: `a route needs exactly one target: ${ROUTE_TARGET_FIELDS.join(', ')}`,
    },
  ],
);
export type Route = Static<typeof Route>;

export const RouteTableSpec = Type.Object({
  providerRef: ProviderRef,
  vpcID: Type.Optional(immutable(Type.String({ pattern: '^vpc-[0-9a-z]+$' }), 'vpcID')),
  vpcRef: Type.Optional(immutable(LocalRef, 'vpcRef')),
  routes: Type.Optional(
    Type.Array(Route, {
      maxItems: 1000,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['destinationCidrBlock'],
      description: "routes besides the VPC's local route; unset leaves routes unmanaged, empty removes them all",
    }),
  ),
  subnetAssociations: Type.Optional(
    Type.Array(Type.String({ pattern: '^subnet-[0-9a-z-]+$' }), {
      maxItems: 200,
      'x-kubernetes-list-type': 'set',
      description: 'subnets that use this table (moved here from any other table)',
    }),
  ),
  subnetAssociationRefs: Type.Optional(Type.Array(LocalRef, { maxItems: 200, description: 'Subnets that use this table' })),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type RouteTableSpec = Static<typeof RouteTableSpec>;

export const RouteTableStatus = Type.Object({
  ...commonStatusProperties,
  routeTableID: Type.Optional(Type.String()),
  vpcID: Type.Optional(Type.String()),
  associatedSubnets: Type.Optional(Type.Array(Type.String())),
});
export type RouteTableStatus = Static<typeof RouteTableStatus>;

export const RouteTableKind = defineKind({
  kind: 'RouteTable',
  plural: 'routetables',
  singular: 'routetable',
  shortNames: ['rtb'],
  description: 'a VPC route table with its routes and subnet associations',
  spec: RouteTableSpec,
  status: RouteTableStatus,
  specRules: [
    exactlyOne('vpcID', 'vpcRef'),
    {
      rule: 'has(self.vpcID) == has(oldSelf.vpcID) && has(self.vpcRef) == has(oldSelf.vpcRef)',
      message: 'vpcID and vpcRef are immutable: create a new resource to change them',
    },
  ],
  printerColumns: [
    { name: 'Route Table', type: 'string', jsonPath: '.status.routeTableID' },
    readyColumn,
    phaseColumn,
    { name: 'VPC', type: 'string', jsonPath: '.status.vpcID', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  references: (spec, namespace) => [
    providerReference(spec, namespace),
    ...localReference('VPC', spec.vpcRef, namespace),
    ...(spec.routes ?? []).flatMap((route) => [
      ...localReference('InternetGateway', route.gatewayRef, namespace),
      ...localReference('NATGateway', route.natGatewayRef, namespace),
    ]),
    ...(spec.subnetAssociationRefs ?? []).flatMap((ref) => localReference('Subnet', ref, namespace)),
  ],
});
