/**
 * SecurityGroup: one VPC security group and its ingress and egress rules.
 *
 * AWS groups rules into permissions (one protocol and port range, many
 * sources) and answers with its own grouping, so both sides are normalised
 * into single permissions, one source each, and compared as sets: a missing
 * one is authorised, an extra one revoked, whether the spec dropped it or
 * someone added it by hand. A rule's description is compared when the spec
 * sets one.
 *
 * A new group gets AWS's default egress rule (all traffic to 0.0.0.0/0).
 * `egressRules` unset leaves egress alone; set, even empty, egress is
 * exactly those rules. `ingressRules` unset leaves ingress alone too.
 *
 * The group is found by the ID the workflow recorded, or before one is
 * recorded by its owner tag (findOwned), or else by its name, which is
 * unique in its VPC. A group of that name that is not ours is reported with
 * its ownership: the workflow leaves it alone unless this resource adopts
 * it. CreateSecurityGroup has no ClientToken; InvalidGroup.Duplicate leads
 * to the existing group, which is used only when it is ours (an earlier
 * attempt the tag lookup did not show yet).
 *
 * The drift sweep observes every group of a provider with one
 * DescribeSecurityGroups (observeMany), judged as observe judges one. A
 * group it cannot find there (the name look-up above is observe's alone)
 * is left to the resource's own pass.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  UpdateSecurityGroupRuleDescriptionsEgressCommand,
  UpdateSecurityGroupRuleDescriptionsIngressCommand,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { isSelfReference, type SecurityGroupRule, type SecurityGroupSpec } from '../../../crds/kinds/security-group.js';
import { Annotations } from '../../../contract/identity.js';
import { errorName, isNotFound, type ErrorCodes, unlessNotFound } from '../errors.js';
import { absent, present, type AwsContext, type Observation, type ResourceHandler } from '../handler.js';
import { alreadyExists, assertNotOwnedByAnother, compareTags, ownership } from '../tags.js';
import {
  EC2_ERROR_CODES,
  duplicatesDifference,
  everyPage,
  findOwned,
  reconcileTags,
  resolveVpcID,
  tagMap,
  tagSpecifications,
  observeListed,
  type Found,
  type OwnedLookup,
} from './common.js';
import { formatDifference } from '../difference.js';

const ERROR_CODES: ErrorCodes = {
  // A rule that appeared or went between our read and our write: the next
  // pass reads again and computes the changes anew.
  retryable: [...EC2_ERROR_CODES.retryable, 'InvalidPermission.Duplicate', 'InvalidPermission.NotFound'],
  notFound: [...EC2_ERROR_CODES.notFound],
};

const DEFAULT_DESCRIPTION = 'Managed by infra-operator';

/** Where a single permission admits traffic from (or, for egress, sends it to). */
export type SourceKind = 'cidr' | 'ipv6' | 'group' | 'prefixList';

/** One protocol, one port range, one source: the unit both sides are compared in. */
export interface Permission {
  protocol: string;
  /** Absent when the protocol has no ports (-1 and protocols other than tcp, udp, icmp, icmpv6). */
  from?: number;
  to?: number;
  source: { kind: SourceKind; value: string };
  description?: string;
}

/** A spec rule whose sourceSecurityGroupRef has been resolved into sourceSecurityGroupID. */
export type ResolvedRule = Omit<SecurityGroupRule, 'sourceSecurityGroupRef'>;

/** What the spec asks for, resolved; a direction left unset is not managed. */
export interface ResolvedRules {
  ingress?: Permission[];
  egress?: Permission[];
}

/** Permission changes of one direction. */
export interface PermissionChanges {
  add: Permission[];
  remove: Permission[];
  /** Present on both sides; the description differs. Carries the desired description. */
  describe: Permission[];
}

// ---------------------------------------------------------------------------
// Pure helpers.

const PROTOCOL_NAMES: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6', all: '-1' };

/** `tcp`, `udp`, `icmp`, `icmpv6`, `-1` or another protocol number, whichever spelling AWS or the spec used. */
export function normaliseProtocol(protocol: string | undefined): string {
  const lower = (protocol ?? '-1').toLowerCase();
  return PROTOCOL_NAMES[lower] ?? lower;
}

/**
 * The port range as compared: tcp and udp default the last port to the
 * first; icmp types and codes default to -1 (all); other protocols have no
 * ports (AWS allows all of them whatever is given).
 */
export function portRange(protocol: string, from: number | undefined, to: number | undefined): { from?: number; to?: number } {
  if (protocol === 'tcp' || protocol === 'udp') {
    const first = from ?? 0;
    return { from: first, to: to ?? (from === undefined ? 65535 : first) };
  }
  if (protocol === 'icmp' || protocol === 'icmpv6') return { from: from ?? -1, to: to ?? -1 };
  return {};
}

function permission(protocol: string, from: number | undefined, to: number | undefined, kind: SourceKind, value: string, description?: string): Permission {
  return {
    protocol,
    ...portRange(protocol, from, to),
    source: { kind, value },
    ...(description !== undefined && description !== '' ? { description } : {}),
  };
}

/** The single permissions of spec rules, duplicates merged. */
export function permissionsFromSpec(rules: ResolvedRule[]): Permission[] {
  const result = new Map<string, Permission>();
  for (const rule of rules) {
    const protocol = normaliseProtocol(rule.ipProtocol);
    const add = (kind: SourceKind, value: string) => {
      const single = permission(protocol, rule.fromPort, rule.toPort, kind, value, rule.description);
      result.set(permissionKey(single), single);
    };
    for (const cidr of rule.cidrBlocks ?? []) add('cidr', cidr);
    for (const cidr of rule.ipv6CidrBlocks ?? []) add('ipv6', cidr);
    if (rule.sourceSecurityGroupID) add('group', rule.sourceSecurityGroupID);
  }
  return [...result.values()];
}

/** The single permissions of AWS's grouped permissions. */
export function permissionsFromAws(permissions: IpPermission[] | undefined): Permission[] {
  const result: Permission[] = [];
  for (const grouped of permissions ?? []) {
    const protocol = normaliseProtocol(grouped.IpProtocol);
    const add = (kind: SourceKind, value: string | undefined, description: string | undefined) => {
      if (value) result.push(permission(protocol, grouped.FromPort, grouped.ToPort, kind, value, description));
    };
    for (const range of grouped.IpRanges ?? []) add('cidr', range.CidrIp, range.Description);
    for (const range of grouped.Ipv6Ranges ?? []) add('ipv6', range.CidrIpv6, range.Description);
    for (const pair of grouped.UserIdGroupPairs ?? []) add('group', pair.GroupId, pair.Description);
    for (const list of grouped.PrefixListIds ?? []) add('prefixList', list.PrefixListId, list.Description);
  }
  return result;
}

/** Identity of a permission: everything but its description. */
export function permissionKey(p: Permission): string {
  return `${p.protocol}|${p.from ?? ''}|${p.to ?? ''}|${p.source.kind}|${p.source.value}`;
}

/** What to authorise, revoke and re-describe so that `observed` becomes `desired`. */
export function comparePermissions(desired: Permission[], observed: Permission[]): PermissionChanges {
  const current = new Map(observed.map((p) => [permissionKey(p), p]));
  const wanted = new Map(desired.map((p) => [permissionKey(p), p]));
  const sorted = (list: Permission[]) => list.sort((a, b) => formatPermission(a).localeCompare(formatPermission(b)));
  return {
    add: sorted([...wanted].filter(([key]) => !current.has(key)).map(([, p]) => p)),
    remove: sorted([...current].filter(([key]) => !wanted.has(key)).map(([, p]) => p)),
    // The description is managed only when the spec sets one.
    describe: sorted(
      [...wanted]
        .filter(([key, p]) => p.description !== undefined && current.has(key) && current.get(key)?.description !== p.description)
        .map(([, p]) => p),
    ),
  };
}

/** `tcp/443 from sg-1`, `all from 0.0.0.0/0`, `icmp/8:-1 from ::/0`. */
export function formatPermission(p: Permission): string {
  const protocol = p.protocol === '-1' ? 'all' : p.protocol;
  let ports = '';
  if (p.from !== undefined) {
    if (p.protocol === 'icmp' || p.protocol === 'icmpv6') ports = `/${p.from}:${p.to}`;
    else ports = p.from === p.to ? `/${p.from}` : `/${p.from}-${p.to}`;
  }
  return `${protocol}${ports} from ${p.source.value}`;
}

/** `+tcp/443 from sg-1, -tcp/22 from 0.0.0.0/0, ~tcp/80 from 0.0.0.0/0 (description)`, or undefined when equal. */
export function formatPermissionChanges(changes: PermissionChanges): string | undefined {
  const parts = [
    ...changes.add.map((p) => `+${formatPermission(p)}`),
    ...changes.remove.map((p) => `-${formatPermission(p)}`),
    ...changes.describe.map((p) => `~${formatPermission(p)} (description)`),
  ];
  return parts.length ? parts.join(', ') : undefined;
}

/** One single permission as the EC2 API takes it. */
export function toIpPermission(p: Permission): IpPermission {
  const description = p.description !== undefined ? { Description: p.description } : {};
  const source: IpPermission =
    p.source.kind === 'cidr'
      ? { IpRanges: [{ CidrIp: p.source.value, ...description }] }
      : p.source.kind === 'ipv6'
        ? { Ipv6Ranges: [{ CidrIpv6: p.source.value, ...description }] }
        : p.source.kind === 'group'
          ? { UserIdGroupPairs: [{ GroupId: p.source.value, ...description }] }
          : { PrefixListIds: [{ PrefixListId: p.source.value, ...description }] };
  return {
    IpProtocol: p.protocol,
    ...(p.from !== undefined ? { FromPort: p.from, ToPort: p.to } : {}),
    ...source,
  };
}

/** Every difference between the group and the spec, readable. */
export function compareSecurityGroup(group: SecurityGroup, resolved: ResolvedRules, desiredTags: Record<string, string>): string[] {
  const differences: string[] = [];
  const tags = compareTags(desiredTags, tagMap(group.Tags));
  if (tags) differences.push(`tags: ${tags}`);
  if (resolved.ingress) {
    const ingress = formatPermissionChanges(comparePermissions(resolved.ingress, permissionsFromAws(group.IpPermissions)));
    if (ingress) differences.push(`ingress: ${ingress}`);
  }
  if (resolved.egress) {
    const egress = formatPermissionChanges(comparePermissions(resolved.egress, permissionsFromAws(group.IpPermissionsEgress)));
    if (egress) differences.push(`egress: ${egress}`);
  }
  return differences;
}

/** The status fields of a group. */
export function securityGroupStatus(group: SecurityGroup): Observation['status'] {
  return {
    ...(group.GroupId ? { groupID: group.GroupId } : {}),
    ...(group.GroupName ? { groupName: group.GroupName } : {}),
    ...(group.VpcId ? { vpcID: group.VpcId } : {}),
  };
}

// ---------------------------------------------------------------------------
// AWS calls.

/**
 * Resolves every sourceSecurityGroupRef. A reference to this very group
 * resolves to `selfId` (its own ID, known once it exists) instead of waiting
 * for itself to become Ready.
 */
export async function resolveRules(context: AwsContext, desired: SecurityGroupSpec, selfId: string): Promise<ResolvedRules> {
  const resolve = async (rules: SecurityGroupRule[]): Promise<Permission[]> => {
    const resolved: ResolvedRule[] = [];
    for (const { sourceSecurityGroupRef: ref, ...rule } of rules) {
      if (!ref) {
        resolved.push(rule);
        continue;
      }
      const id = isSelfReference(ref, context.resource)
        ? selfId
        : await context.resolve({ kind: 'SecurityGroup', ...ref }, 'groupID');
      resolved.push({ ...rule, sourceSecurityGroupID: id });
    }
    return permissionsFromSpec(resolved);
  };
  return {
    ...(desired.ingressRules ? { ingress: await resolve(desired.ingressRules) } : {}),
    ...(desired.egressRules ? { egress: await resolve(desired.egressRules) } : {}),
  };
}

/** How security groups are looked up (findOwned). */
function groups(ec2: EC2Client): OwnedLookup<SecurityGroup> {
  return {
    byIDs: async (GroupIds) => (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds }))).SecurityGroups ?? [],
    byFilter: (Filters) =>
      everyPage(async (NextToken) => {
        const page = await ec2.send(new DescribeSecurityGroupsCommand({ Filters, NextToken }));
        return { items: page.SecurityGroups, next: page.NextToken };
      }),
    idOf: (group) => group.GroupId,
    tagsOf: (group) => tagMap(group.Tags),
    errorCodes: ERROR_CODES,
  };
}

/** The group of this name in this VPC, whoever made it. */
async function groupNamed(ec2: EC2Client, groupName: string, VpcId: string): Promise<SecurityGroup | undefined> {
  const found = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'group-name', Values: [groupName] },
        { Name: 'vpc-id', Values: [VpcId] },
      ],
    }),
  );
  return found.SecurityGroups?.find((candidate) => candidate.GroupName === groupName && candidate.GroupId);
}

/**
 * The group as observe and update see it: by recorded ID or owner tag
 * (findOwned), or, when neither finds one and no ID is recorded, the group
 * of the spec's name in its VPC. That one is a create's obstacle (the name
 * is unique in a VPC), so observe reports it with its ownership rather than
 * as missing; update reaches it only when this resource adopts it. A
 * recorded ID that is gone is final, as for every kind; and while deleting
 * nothing is resolved, so only our own group is found.
 */
async function findGroup(context: AwsContext, ec2: EC2Client, desired: SecurityGroupSpec): Promise<Found<SecurityGroup>> {
  const found = await findOwned(context, groups(ec2));
  if (found.resource || context.awsID !== undefined || context.deleting) return found;
  const named = await groupNamed(ec2, desired.groupName, await resolveVpcID(context, desired));
  return named ? { ...found, resource: named } : found;
}

/** The adoption hint of a group met by name: adopt it by its ID. */
export function adoptByIdHint(groupId: string): string {
  return `To manage it, annotate this resource ${Annotations.adoptionPolicy}=adopt and ${Annotations.adoptionID}=${groupId}.`;
}

/**
 * Writes rule changes: authorise first, then revoke, so no traffic is cut in
 * between. Descriptions change in place (UpdateSecurityGroupRuleDescriptions*);
 * moto 5.2.5 silently ignores that call for rules naming a group (it matches
 * them on the old description), so such a change never converges there,
 * while AWS applies it. Revoking and re-adding instead would cut traffic on
 * AWS, so the call stays as AWS wants it.
 */
async function reconcileRules(ec2: EC2Client, group: SecurityGroup, resolved: ResolvedRules): Promise<void> {
  const GroupId = group.GroupId;
  if (!GroupId) throw new Error('security group without an ID');
  if (resolved.ingress) {
    const changes = comparePermissions(resolved.ingress, permissionsFromAws(group.IpPermissions));
    if (changes.add.length) {
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: changes.add.map(toIpPermission) }));
    }
    if (changes.describe.length) {
      await ec2.send(
        new UpdateSecurityGroupRuleDescriptionsIngressCommand({ GroupId, IpPermissions: changes.describe.map(toIpPermission) }),
      );
    }
    if (changes.remove.length) {
      await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId, IpPermissions: changes.remove.map(asObserved) }));
    }
  }
  if (resolved.egress) {
    const changes = comparePermissions(resolved.egress, permissionsFromAws(group.IpPermissionsEgress));
    if (changes.add.length) {
      await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId, IpPermissions: changes.add.map(toIpPermission) }));
    }
    if (changes.describe.length) {
      await ec2.send(
        new UpdateSecurityGroupRuleDescriptionsEgressCommand({ GroupId, IpPermissions: changes.describe.map(toIpPermission) }),
      );
    }
    if (changes.remove.length) {
      await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId, IpPermissions: changes.remove.map(asObserved) }));
    }
  }
}

/**
 * A permission to revoke, exactly as AWS reported it. AWS matches a revoke
 * on everything but the description; moto also matches the description of
 * a group rule (InvalidPermission.NotFound otherwise), and sending AWS's own
 * description back satisfies both.
 */
function asObserved(p: Permission): IpPermission {
  return toIpPermission(p);
}

async function readGroup(ec2: EC2Client, GroupId: string): Promise<SecurityGroup | undefined> {
  const found = await unlessNotFound(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId] })), ERROR_CODES);
  return found?.SecurityGroups?.[0];
}

/**
 * The group of this name in this VPC, after CreateSecurityGroup said it
 * exists: ours (an earlier attempt the tag lookup did not show yet) is
 * used; another resource's or cluster's fails with OwnedByAnotherResource;
 * one made outside the operator fails with AlreadyExists, naming its ID for
 * adoption. Both are terminal: nothing is changed on a group not ours.
 */
async function existingGroup(context: AwsContext, ec2: EC2Client, groupName: string, VpcId: string): Promise<SecurityGroup> {
  const group = await groupNamed(ec2, groupName, VpcId);
  if (!group?.GroupId) throw new Error(`security group ${groupName} in ${VpcId} exists but cannot be found`);
  const tags = tagMap(group.Tags);
  assertNotOwnedByAnother(context, `security group ${groupName} in ${VpcId}`, tags);
  if (ownership(context, tags).unmanaged) {
    throw alreadyExists(`security group ${groupName} in ${VpcId} (${group.GroupId})`, adoptByIdHint(group.GroupId));
  }
  return group;
}

/** What observe says of the group `found`, against the spec with its references resolved. */
async function judgeGroup(context: AwsContext, desired: SecurityGroupSpec, found: Found<SecurityGroup> & { resource: SecurityGroup }): Promise<Observation> {
  const group = found.resource;
  const GroupId = group.GroupId ?? '';
  const differences = compareSecurityGroup(group, await resolveRules(context, desired, GroupId), context.tags);
  differences.push(...duplicatesDifference(found.duplicates.map((d) => d.GroupId ?? '')).map(formatDifference));
  return present({ id: GroupId, ...ownership(context, tagMap(group.Tags)), differences, ready: true, status: securityGroupStatus(group) });
}

/** The SecurityGroup handler. */
export const securityGroupHandler: ResourceHandler<SecurityGroupSpec> = {
  kind: 'SecurityGroup',
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const ec2 = context.client(EC2Client);
    const lookedUp = await findGroup(context, ec2, desired);
    const group = lookedUp.resource;
    if (!group?.GroupId) return absent();
    if (context.deleting) {
      const found = { id: group.GroupId, ...ownership(context, tagMap(group.Tags)) };
      return present({ ...found, differences: [], ready: true, status: securityGroupStatus(group) });
    }
    return judgeGroup(context, desired, { ...lookedUp, resource: group });
  },

  observeMany: (items) => observeListed(items, groups, judgeGroup),

  async create(context, desired) {
    const ec2 = context.client(EC2Client);
    const VpcId = await resolveVpcID(context, desired);
    // References to other groups first, so a dependency that is not Ready
    // yet leaves nothing half made (a self-reference needs no waiting).
    await resolveRules(context, desired, 'self');
    let group = (await findOwned(context, groups(ec2))).resource;
    if (!group) {
      try {
        const created = await ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: desired.groupName,
            Description: desired.description ?? DEFAULT_DESCRIPTION,
            VpcId,
            TagSpecifications: tagSpecifications('security-group', context.tags),
          }),
        );
        if (!created.GroupId) throw new Error('CreateSecurityGroup returned no GroupId');
        group = { GroupId: created.GroupId };
      } catch (error) {
        if (errorName(error) !== 'InvalidGroup.Duplicate') throw error;
        group = await existingGroup(context, ec2, desired.groupName, VpcId);
      }
    }
    const GroupId = group.GroupId ?? '';
    // Read back: the new group's rules (AWS's default egress) are not in the create answer.
    const current = await readGroup(ec2, GroupId);
    if (current) await reconcileRules(ec2, current, await resolveRules(context, desired, GroupId));
  },

  async update(context, desired) {
    const ec2 = context.client(EC2Client);
    const { resource: group } = await findGroup(context, ec2, desired);
    if (!group?.GroupId) return;
    const resolved = await resolveRules(context, desired, group.GroupId);
    await reconcileTags(ec2, group.GroupId, context.tags, tagMap(group.Tags));
    await reconcileRules(ec2, group, resolved);
  },

  async delete(context) {
    const ec2 = context.client(EC2Client);
    const { resource, duplicates } = await findOwned(context, groups(ec2));
    for (const group of resource ? [resource, ...duplicates] : []) {
      const GroupId = group.GroupId;
      if (!GroupId) continue;
      // Rules of this group that name other groups go first: two groups
      // that name each other could otherwise never be deleted, each
      // waiting for the other (DependencyViolation both ways).
      const ingress = permissionsFromAws(group.IpPermissions).filter((p) => p.source.kind === 'group');
      const egress = permissionsFromAws(group.IpPermissionsEgress).filter((p) => p.source.kind === 'group');
      if (ingress.length) {
        await unlessNotFound(ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId, IpPermissions: ingress.map(asObserved) })), ERROR_CODES);
      }
      if (egress.length) {
        await unlessNotFound(ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId, IpPermissions: egress.map(asObserved) })), ERROR_CODES);
      }
      try {
        await ec2.send(new DeleteSecurityGroupCommand({ GroupId }));
      } catch (error) {
        // Another group's rule or a network interface still uses it.
        if (errorName(error) === 'DependencyViolation') return 'Deleting';
        if (!isNotFound(error, ERROR_CODES)) throw error;
      }
    }
    return 'Deleted';
  },
};
