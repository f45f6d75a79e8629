import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, LocalRef, ProviderRef, Tags, commonStatusProperties, exactlyOne, immutable, withRules } from '../schema.js';

/** Characters AWS accepts in a group name or description (in a VPC). */
const GROUP_TEXT = "^[a-zA-Z0-9 ._\\-:/()#,@\\[\\]+=&;{}!$*]*$";

export const SecurityGroupRule = withRules(
  Type.Object({
    ipProtocol: Type.String({
      pattern: '^(tcp|udp|icmp|icmpv6|-1|[0-9]{1,3})$',
      description: 'tcp, udp, icmp, icmpv6, -1 (all traffic) or a protocol number',
    }),
    fromPort: Type.Optional(
      Type.Integer({ minimum: -1, maximum: 65535, description: 'first port (tcp, udp) or ICMP type (-1: all); ignored for other protocols' }),
    ),
    toPort: Type.Optional(
      Type.Integer({ minimum: -1, maximum: 65535, description: 'last port (defaults to fromPort) or ICMP code (-1: all)' }),
    ),
    cidrBlocks: Type.Optional(Type.Array(Type.String({ pattern: '^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$' }), { maxItems: 60 })),
    ipv6CidrBlocks: Type.Optional(Type.Array(Type.String({ pattern: '^[0-9a-fA-F:]+/[0-9]{1,3}$' }), { maxItems: 60 })),
    sourceSecurityGroupID: Type.Optional(
      Type.String({ pattern: '^sg-[0-9a-z]+$', description: 'the other group (for egress: the destination group)' }),
    ),
    sourceSecurityGroupRef: Type.Optional(LocalRef),
    description: Type.Optional(Type.String({ maxLength: 255, pattern: GROUP_TEXT })),
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
      rule: "!(self.ipProtocol in ['tcp', 'udp', '6', '17']) || has(self.fromPort)",
      message: 'tcp and udp rules need fromPort',
    },
  ],
);
export type SecurityGroupRule = Static<typeof SecurityGroupRule>;

export const SecurityGroupSpec = Type.Object({
  providerRef: ProviderRef,
  groupName: immutable(
    Type.String({ minLength: 1, maxLength: 255, pattern: GROUP_TEXT, description: 'group name, unique in the VPC; may not start with sg-' }),
    'groupName',
  ),
  description: Type.Optional(
    immutable(Type.String({ minLength: 1, maxLength: 255, pattern: GROUP_TEXT, default: 'Managed by infra-operator' }), 'description'),
  ),
  vpcID: Type.Optional(immutable(Type.String({ pattern: '^vpc-[0-9a-z]+$' }), 'vpcID')),
  vpcRef: Type.Optional(immutable(LocalRef, 'vpcRef')),
  ingressRules: Type.Optional(Type.Array(SecurityGroupRule, { maxItems: 200, description: 'unset leaves ingress unmanaged; empty removes every rule' })),
  egressRules: Type.Optional(
    Type.Array(SecurityGroupRule, {
      maxItems: 200,
      description: "unset leaves egress unmanaged (AWS's default allows all); set, even empty, makes egress exactly these rules",
    }),
  ),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type SecurityGroupSpec = Static<typeof SecurityGroupSpec>;

export const SecurityGroupStatus = Type.Object({
  ...commonStatusProperties,
  groupID: Type.Optional(Type.String()),
  groupName: Type.Optional(Type.String()),
  vpcID: Type.Optional(Type.String()),
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
    {
      rule: 'has(self.vpcID) == has(oldSelf.vpcID) && has(self.vpcRef) == has(oldSelf.vpcRef)',
      message: 'vpcID and vpcRef are immutable: create a new resource to change them',
    },
    { rule: "!self.groupName.startsWith('sg-')", message: 'groupName may not start with sg-' },
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
  references: (spec, namespace) => [
    providerReference(spec, namespace),
    ...localReference('VPC', spec.vpcRef, namespace),
    ...[...(spec.ingressRules ?? []), ...(spec.egressRules ?? [])].flatMap((rule) =>
      localReference('SecurityGroup', rule.sourceSecurityGroupRef, namespace),
    ),
  ],
});
