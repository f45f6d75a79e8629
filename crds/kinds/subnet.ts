import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, LocalRef, ProviderRef, Tags, commonStatusProperties, exactlyOne, immutable } from '../schema.js';
import { Ipv4Cidr, VpcID } from './vpc.js';

export const SubnetSpec = Type.Object({
  providerRef: ProviderRef,
  vpcID: Type.Optional(immutable(VpcID, 'vpcID')),
  vpcRef: Type.Optional(immutable(LocalRef, 'vpcRef')),
  cidrBlock: immutable(Ipv4Cidr, 'cidrBlock'),
  availabilityZone: Type.Optional(
    immutable(Type.String({ minLength: 1, description: 'e.g. us-east-1a; unset lets AWS choose' }), 'availabilityZone'),
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
  vpcID: Type.Optional(Type.String()),
  state: Type.Optional(Type.String({ description: 'pending or available' })),
  availableIpAddressCount: Type.Optional(Type.Integer()),
  availabilityZone: Type.Optional(Type.String()),
  cidrBlock: Type.Optional(Type.String()),
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
  references: (spec, namespace) => [providerReference(spec, namespace), ...localReference('VPC', spec.vpcRef, namespace)],
});
