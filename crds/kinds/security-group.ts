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

/** Characters AWS accepts in a group name or description (in a VPC). */
const GROUP_TEXT = "^[a-zA-Z0-9 ._\\-:/()#,@\\[\\]+=&;{}!$*]*$";

/** ipProtocol spellings with ports (tcp, udp) and with ICMP type and code (icmp, icmpv6), by name and by number. */
const PORT_PROTOCOLS = "['tcp', 'udp', '6', '17']";
const ICMP_PROTOCOLS = "['icmp', 'icmpv6', '1', '58']";

export const SecurityGroupRule = withRules(
  Type.Object({
    ipProtocol: Type.String({
      pattern: '^(tcp|udp|icmp|icmpv6|-1|[0-9]{1,3})$',
      maxLength: 6,
      description: 'tcp, udp, icmp, icmpv6, -1 (all traffic, every port) or an IP protocol number 0-255 (6 is tcp, 17 udp, 1 icmp, 58 icmpv6)',
    }),
    fromPort: Type.Optional(
      Type.Integer({
        minimum: -1,
        maximum: 65535,
        description:
          'tcp, udp: first port, 0-65535 (required). icmp, icmpv6: ICMP type, 0-255, or -1 for every type (the default). Ignored for other protocols',
      }),
    ),
    toPort: Type.Optional(
      Type.Integer({
        minimum: -1,
        maximum: 65535,
        description:
          'tcp, udp: last port, 0-65535, not below fromPort; defaults to fromPort. icmp, icmpv6: ICMP code, 0-255, or -1 for every code (the default; required when fromPort is -1). Ignored for other protocols',
      }),
    ),
    cidrBlocks: Type.Optional(
      Type.Array(
        withRules(
          Type.String({
            pattern: '^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$',
            maxLength: 18,
            description: 'an IPv4 CIDR block, no host bits set, e.g. 10.0.0.0/16 or 0.0.0.0/0',
          }),
          cidrRules('cidrBlocks', 4),
        ),
        { maxItems: 60, description: 'IPv4 sources (for egress: destinations), e.g. 0.0.0.0/0 for anywhere' },
      ),
    ),
    ipv6CidrBlocks: Type.Optional(
      Type.Array(
        withRules(
          Type.String({
            pattern: '^[0-9a-fA-F:]+/[0-9]{1,3}$',
            maxLength: 43,
            description: 'an IPv6 CIDR block, no host bits set, e.g. 2001:db8::/32 or ::/0',
          }),
          cidrRules('ipv6CidrBlocks', 6),
        ),
        { maxItems: 60, description: 'IPv6 sources (for egress: destinations), e.g. ::/0 for anywhere' },
      ),
    ),
    sourceSecurityGroupID: Type.Optional(
      Type.String({
        pattern: '^sg-[0-9a-z]+$',
        description: 'ID of the other security group whose members are the source (for egress: the destination), e.g. sg-0abc; or use sourceSecurityGroupRef',
      }),
    ),
    sourceSecurityGroupRef: Type.Optional({
      ...LocalRef,
      description: 'the SecurityGroup custom resource whose members are the source (for egress: the destination); may name this group itself',
    }),
    description: Type.Optional(
      Type.String({ maxLength: 255, pattern: GROUP_TEXT, description: 'what the rule is for, shown in AWS; up to 255 characters' }),
    ),
  }),
  [
    {
      rule: '!(has(self.sourceSecurityGroupID) && has(self.sourceSecurityGroupRef))',
      message: 'set at most one of sourceSecurityGroupID or sourceSecurityGroupRef',
    },
    {
      rule:
        '(has(self.cidrBlocks) && size(self.cidrBlocks) > 0) || (has(self.ipv6CidrBlocks) && size(self.ipv6CidrBlocks) > 0) || ' +
        'has(self.sourceSecurityGroupID) || has(self.sourceSecurityGroupRef)',
      message: 'a rule needs a source: cidrBlocks, ipv6CidrBlocks, sourceSecurityGroupID or sourceSecurityGroupRef',
    },
    {
      rule: `!(self.ipProtocol in ${PORT_PROTOCOLS}) || has(self.fromPort)`,
      message: 'tcp and udp rules need fromPort',
    },
    {
      rule: `!(self.ipProtocol in ${PORT_PROTOCOLS}) || ((!has(self.fromPort) || self.fromPort >= 0) && (!has(self.toPort) || self.toPort >= 0))`,
      message: 'tcp and udp ports (fromPort, toPort) are 0 to 65535; -1 means all only for icmp, icmpv6 and ipProtocol -1',
    },
    {
      rule: `!(self.ipProtocol in ${PORT_PROTOCOLS}) || !has(self.fromPort) || !has(self.toPort) || self.fromPort <= self.toPort`,
      message: 'fromPort is greater than toPort: a port range goes from its first port to its last',
      fieldPath: '.fromPort',
    },
    {
      rule: `!(self.ipProtocol in ${ICMP_PROTOCOLS}) || ((!has(self.fromPort) || self.fromPort <= 255) && (!has(self.toPort) || self.toPort <= 255))`,
      message: 'for icmp and icmpv6, fromPort is the ICMP type and toPort the ICMP code: each 0 to 255, or -1 for all',
    },
    {
      rule: `!(self.ipProtocol in ${ICMP_PROTOCOLS}) || !has(self.fromPort) || self.fromPort != -1 || !has(self.toPort) || self.toPort == -1`,
      message: 'fromPort -1 (every ICMP type) needs toPort -1 (every code): set toPort to -1 or leave it unset',
      fieldPath: '.toPort',
    },
    {
      rule: "!self.ipProtocol.matches('^[0-9]+$') || int(self.ipProtocol) <= 255",
      message: 'ipProtocol numbers are 0 to 255',
      messageExpression: "'ipProtocol ' + self.ipProtocol + ' is not a protocol number: they are 0 to 255'",
      fieldPath: '.ipProtocol',
    },
  ],
);
export type SecurityGroupRule = Static<typeof SecurityGroupRule>;

export const SecurityGroupSpec = Type.Object({
  providerRef: ProviderRef,
  groupName: immutable(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: GROUP_TEXT,
      description: 'group name, unique in the VPC, up to 255 characters; may not start with sg-. Fixed at creation',
    }),
    'groupName',
  ),
  description: Type.Optional(
    immutable(
      Type.String({
        minLength: 1,
        maxLength: 255,
        pattern: GROUP_TEXT,
        default: 'Managed by infra-operator',
        description: 'group description, up to 255 characters; default "Managed by infra-operator". Fixed at creation (AWS cannot change it)',
      }),
      'description',
    ),
  ),
  vpcID: Type.Optional(
    immutable(
      Type.String({ pattern: '^vpc-[0-9a-z]+$', description: 'ID of the VPC the group belongs to, e.g. vpc-0abc; or use vpcRef. Fixed at creation' }),
      'vpcID',
    ),
  ),
  vpcRef: Type.Optional(
    immutable({ ...LocalRef, description: 'the VPC custom resource the group belongs to; or use vpcID. Fixed at creation' }, 'vpcRef'),
  ),
  ingressRules: Type.Optional(
    Type.Array(SecurityGroupRule, {
      maxItems: 200,
      description: 'inbound rules, exactly these; unset leaves ingress unmanaged, empty removes every rule',
    }),
  ),
  egressRules: Type.Optional(
    Type.Array(SecurityGroupRule, {
      maxItems: 200,
      description: "outbound rules; unset leaves egress unmanaged (AWS's default allows all); set, even empty, makes egress exactly these rules",
    }),
  ),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type SecurityGroupSpec = Static<typeof SecurityGroupSpec>;

export const SecurityGroupStatus = Type.Object({
  ...commonStatusProperties,
  groupID: Type.Optional(Type.String({ description: 'AWS security group ID, e.g. sg-0abc' })),
  groupName: Type.Optional(Type.String({ description: 'name of the group in AWS' })),
  vpcID: Type.Optional(Type.String({ description: 'ID of the VPC the group belongs to' })),
});
export type SecurityGroupStatus = Static<typeof SecurityGroupStatus>;

/**
 * True when a sourceSecurityGroupRef names the group itself ("allow traffic
 * from members of this group"); the handler uses its own ID for it.
 */
export function isSelfReference(ref: { name: string; namespace?: string }, self: { namespace: string; name: string }): boolean {
  return ref.name === self.name && (ref.namespace ?? self.namespace) === self.namespace;
}

export const SecurityGroupKind = defineKind({
  kind: 'SecurityGroup',
  plural: 'securitygroups',
  singular: 'securitygroup',
  shortNames: ['sg'],
  description: 'a VPC security group with its ingress and egress rules',
  spec: SecurityGroupSpec,
  status: SecurityGroupStatus,
  specRules: [
    exactlyOne('vpcID', 'vpcRef'),
    { rule: "!self.groupName.startsWith('sg-')", message: 'groupName may not start with sg-', fieldPath: '.groupName' },
  ],
  printerColumns: [
    { name: 'Group', type: 'string', jsonPath: '.status.groupID' },
    readyColumn,
    phaseColumn,
    { name: 'Name', type: 'string', jsonPath: '.status.groupName', priority: 1 },
    { name: 'VPC', type: 'string', jsonPath: '.status.vpcID', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  // A rule may name this very group (members may talk to each other); that
  // reference is listed too, so a status change of the group wakes it once
  // more, which is harmless: references() is not told the resource's name.
  identityField: 'groupID',
  references: (spec, namespace) => [
    providerReference(spec, namespace),
    ...localReference('VPC', spec.vpcRef, namespace),
    ...[...(spec.ingressRules ?? []), ...(spec.egressRules ?? [])].flatMap((rule) =>
      localReference('SecurityGroup', rule.sourceSecurityGroupRef, namespace),
    ),
  ],
});
