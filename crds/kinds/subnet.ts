import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, LocalRef, ProviderRef, Tags, commonStatusProperties, exactlyOne, immutable } from '../schema.js';
import { Ipv4Cidr, VpcID } from './vpc.js';

export const SubnetSpec = Type.Object({
  providerRef: ProviderRef,
  vpcID: Type.Optional(
    immutable({ ...VpcID, description: 'ID of the VPC to create the subnet in, e.g. vpc-0abc; or use vpcRef. Fixed at creation' }, 'vpcID'),
  ),
  vpcRef: Type.Optional(
    immutable({ ...LocalRef, description: 'the VPC custom resource to create the subnet in; or use vpcID. Fixed at creation' }, 'vpcRef'),
  ),
  cidrBlock: immutable(
    {
      ...Ipv4Cidr,
      description:
        "IPv4 CIDR block of the subnet, inside its VPC's block and overlapping no other subnet: /16 to /28, no host bits set, e.g. 10.0.1.0/24. Fixed at creation",
    },
    'cidrBlock',
  ),
  availabilityZone: Type.Optional(
    immutable(
      Type.String({ minLength: 1, description: 'availability zone of the subnet, e.g. us-east-1a; unset lets AWS choose. Fixed at creation' }),
      'availabilityZone',
    ),
  ),
  mapPublicIpOnLaunch: Type.Optional(
    Type.Boolean({ description: 'instances launched here get a public IPv4 address; unset leaves it as AWS has it' }),
  ),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type SubnetSpec = Static<typeof SubnetSpec>;

export const SubnetStatus = Type.Object({
  ...commonStatusProperties,
  subnetID: Type.Optional(Type.String({ description: 'AWS subnet ID, e.g. subnet-0abc' })),
  vpcID: Type.Optional(Type.String({ description: 'ID of the VPC the subnet is in' })),
  state: Type.Optional(Type.String({ description: 'pending or available' })),
  availableIpAddressCount: Type.Optional(
    Type.Integer({ description: 'IPv4 addresses still free in the subnet (AWS reserves 5 of every block)' }),
  ),
  availabilityZone: Type.Optional(Type.String({ description: 'availability zone the subnet is in, e.g. us-east-1a' })),
  cidrBlock: Type.Optional(Type.String({ description: 'IPv4 CIDR block of the subnet, as AWS reports it' })),
});
export type SubnetStatus = Static<typeof SubnetStatus>;

export const SubnetKind = defineKind({
  kind: 'Subnet',
  plural: 'subnets',
  singular: 'subnet',
  shortNames: ['subnet'],
  description: 'a subnet of a VPC, in one availability zone',
  spec: SubnetSpec,
  status: SubnetStatus,
  specRules: [exactlyOne('vpcID', 'vpcRef')],
  printerColumns: [
    { name: 'Subnet', type: 'string', jsonPath: '.status.subnetID' },
    readyColumn,
    phaseColumn,
    { name: 'VPC', type: 'string', jsonPath: '.status.vpcID', priority: 1 },
    { name: 'CIDR', type: 'string', jsonPath: '.status.cidrBlock', priority: 1 },
    { name: 'AZ', type: 'string', jsonPath: '.status.availabilityZone', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'subnetID',
  references: (spec, namespace) => [providerReference(spec, namespace), ...localReference('VPC', spec.vpcRef, namespace)],
});
