import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, ProviderRef, StringEnum, Tags, cidrRules, commonStatusProperties, immutable, withRules } from '../schema.js';

/**
 * An IPv4 CIDR block with a /16 to /28 netmask, the sizes EC2 accepts for
 * VPCs and subnets, and no host bits set. Subnet reuses it; both call the
 * field cidrBlock.
 */
export const Ipv4Cidr = withRules(
  Type.String({
    pattern:
      '^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])/(1[6-9]|2[0-8])$',
    maxLength: 18,
    description: 'IPv4 CIDR block with a /16 to /28 netmask and no host bits set, e.g. 10.0.0.0/16',
  }),
  cidrRules('cidrBlock', 4),
);

/**
 * The ID of an existing VPC, for fields that take a raw ID beside a
 * `vpcRef`. Lowercase letters are allowed beyond hex so that the guide's
 * placeholder `vpc-xxx` still applies.
 */
export const VpcID = Type.String({ pattern: '^vpc-[0-9a-z]+$', description: 'ID of an existing VPC, e.g. vpc-0abc; or use vpcRef' });

export const VpcSpec = Type.Object({
  providerRef: ProviderRef,
  cidrBlock: immutable(
    { ...Ipv4Cidr, description: 'primary IPv4 CIDR block of the VPC: /16 to /28, no host bits set, e.g. 10.0.0.0/16. Fixed at creation' },
    'cidrBlock',
  ),
  enableDnsSupport: Type.Optional(
    Type.Boolean({ description: 'Amazon DNS server resolves names in the VPC; unset leaves it as AWS has it' }),
  ),
  enableDnsHostnames: Type.Optional(
    Type.Boolean({ description: 'instances get public DNS hostnames; needs enableDnsSupport; unset leaves it as AWS has it' }),
  ),
  instanceTenancy: Type.Optional(
    immutable(
      StringEnum(['default', 'dedicated'] as const, {
        description:
          'tenancy of instances launched in the VPC: default (shared hardware, unless an instance asks otherwise) or dedicated (single-tenant hardware for every instance); unset: AWS uses default. Fixed at creation',
      }),
      'instanceTenancy',
    ),
  ),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type VpcSpec = Static<typeof VpcSpec>;

export const VpcStatus = Type.Object({
  ...commonStatusProperties,
  vpcID: Type.Optional(Type.String({ description: 'AWS VPC ID, e.g. vpc-0abc' })),
  cidrBlock: Type.Optional(Type.String({ description: 'primary IPv4 CIDR block of the VPC, as AWS reports it' })),
  state: Type.Optional(Type.String({ description: 'pending or available' })),
});
export type VpcStatus = Static<typeof VpcStatus>;

export const VPCKind = defineKind({
  kind: 'VPC',
  plural: 'vpcs',
  singular: 'vpc',
  shortNames: ['vpc'],
  description: 'a VPC with its DNS attributes',
  spec: VpcSpec,
  status: VpcStatus,
  specRules: [
    {
      rule: '!(has(self.enableDnsHostnames) && self.enableDnsHostnames && has(self.enableDnsSupport) && !self.enableDnsSupport)',
      message: 'enableDnsHostnames needs enableDnsSupport: set enableDnsSupport to true or enableDnsHostnames to false',
    },
  ],
  printerColumns: [
    { name: 'VPC', type: 'string', jsonPath: '.status.vpcID' },
    readyColumn,
    phaseColumn,
    { name: 'CIDR', type: 'string', jsonPath: '.status.cidrBlock', priority: 1 },
    { name: 'State', type: 'string', jsonPath: '.status.state', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'vpcID',
  references: (spec, namespace) => [providerReference(spec, namespace)],
});
