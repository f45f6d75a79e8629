import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import {
  DeletionPolicySchema,
  LocalRef,
  ProviderRef,
  Tags,
  cidrRules,
  commonStatusProperties,
  exactlyOne,
  immutable,
  withRules,
} from '../schema.js';

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
    destinationCidrBlock: withRules(
      Type.String({
        pattern: '^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$',
        maxLength: 18,
        description: 'IPv4 destination of the route, no host bits set, e.g. 0.0.0.0/0 (everything) or 10.9.0.0/16; one route per destination',
      }),
      cidrRules('destinationCidrBlock', 4),
    ),
    gatewayID: Type.Optional(
      Type.String({
        pattern: '^(igw|vgw)-[0-9a-z]+$',
        description: 'target: ID of an internet gateway (igw-…) or virtual private gateway (vgw-…); or use gatewayRef',
      }),
    ),
    gatewayRef: Type.Optional({ ...LocalRef, description: 'target: an InternetGateway custom resource; or use gatewayID' }),
    natGatewayID: Type.Optional(
      Type.String({ pattern: '^nat-[0-9a-z]+$', description: 'target: ID of a NAT gateway, e.g. nat-0abc; or use natGatewayRef' }),
    ),
    natGatewayRef: Type.Optional({ ...LocalRef, description: 'target: a NATGateway custom resource; or use natGatewayID' }),
    instanceID: Type.Optional(Type.String({ pattern: '^i-[0-9a-z]+$', description: 'target: ID of an EC2 instance, e.g. i-0abc' })),
    networkInterfaceID: Type.Optional(
      Type.String({ pattern: '^eni-[0-9a-z]+$', description: 'target: ID of a network interface, e.g. eni-0abc' }),
    ),
    vpcPeeringConnectionID: Type.Optional(
      Type.String({ pattern: '^pcx-[0-9a-z]+$', description: 'target: ID of a VPC peering connection, e.g. pcx-0abc' }),
    ),
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
  vpcID: Type.Optional(
    immutable(
      Type.String({ pattern: '^vpc-[0-9a-z]+$', description: 'ID of the VPC the table belongs to, e.g. vpc-0abc; or use vpcRef. Fixed at creation' }),
      'vpcID',
    ),
  ),
  vpcRef: Type.Optional(
    immutable({ ...LocalRef, description: 'the VPC custom resource the table belongs to; or use vpcID. Fixed at creation' }, 'vpcRef'),
  ),
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
      description: 'IDs of subnets that use this table (moved here from any other table), e.g. subnet-0abc; with subnetAssociationRefs also unset, associations are left unmanaged',
    }),
  ),
  subnetAssociationRefs: Type.Optional(
    Type.Array(LocalRef, {
      maxItems: 200,
      description: 'Subnet custom resources that use this table (moved here from any other table), beside subnetAssociations; with both unset, associations are left unmanaged',
    }),
  ),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type RouteTableSpec = Static<typeof RouteTableSpec>;

export const RouteTableStatus = Type.Object({
  ...commonStatusProperties,
  routeTableID: Type.Optional(Type.String({ description: 'AWS route table ID, e.g. rtb-0abc' })),
  vpcID: Type.Optional(Type.String({ description: 'ID of the VPC the table belongs to' })),
  associatedSubnets: Type.Optional(Type.Array(Type.String(), { description: 'IDs of the subnets associated with the table' })),
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
  ],
  printerColumns: [
    { name: 'Route Table', type: 'string', jsonPath: '.status.routeTableID' },
    readyColumn,
    phaseColumn,
    { name: 'VPC', type: 'string', jsonPath: '.status.vpcID', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'routeTableID',
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
