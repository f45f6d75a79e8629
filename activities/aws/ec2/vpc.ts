/**
 * VPC: one VPC with its DNS attributes (enableDnsSupport, enableDnsHostnames)
 * and tags. cidrBlock and instanceTenancy are fixed when the VPC is made.
 *
 * EC2 assigns the ID and CreateVpc takes no client token. Every verb looks
 * the VPC up by the ID the workflow recorded (findOwned), or, before one is
 * recorded, by its owner tag, which CreateVpc attaches in the same call
 * (TagSpecifications): that lookup is what keeps a create retried after a
 * crash from making a second VPC.
 *
 * Should the tag lookup ever find more than one (a create EC2 had not shown
 * to the lookup yet), the lowest ID is managed, the others are reported as
 * a difference, update deletes them, and delete deletes them all.
 *
 * The drift sweep observes every VPC of a provider with one DescribeVpcs
 * (observeMany). That answer carries no DNS attributes, and EC2 has no bulk
 * read of them, so the sweep compares everything else; the DNS attributes
 * are compared by the VPC's own passes (its safety-net resync, and any pass
 * something else wakes).
 */
import {
  CreateVpcCommand,
  DeleteVpcCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
  type Vpc,
} from '@aws-sdk/client-ec2';
import type { VpcSpec } from '../../../crds/kinds/vpc.js';
import { errorName, isNotFound, type ErrorCodes } from '../errors.js';
import { absent, present, type AwsContext, type DeleteOutcome, type Observation, type ResourceHandler } from '../handler.js';
import { compareTags, ownership, type Tags } from '../tags.js';
import {
  EC2_ERROR_CODES,
  duplicatesDifference,
  everyPage,
  findOwned,
  reconcileTags,
  tagMap,
  tagSpecifications,
  untilVisible,
  observeListed,
  type Found,
  type OwnedLookup,
} from './common.js';
import { type Difference, formatDifference, IMMUTABLE_FIELD_CHANGED, immutableFieldError } from '../difference.js';

const ERROR_CODES: ErrorCodes = {
  terminal: [IMMUTABLE_FIELD_CHANGED],
  retryable: [...EC2_ERROR_CODES.retryable],
  notFound: [...EC2_ERROR_CODES.notFound],
};

/** DNS attributes, each read and written by its own call. */
export type DnsAttribute = 'enableDnsSupport' | 'enableDnsHostnames';

/** What AWS has for the VPC, in the spec's terms. DNS attributes are read only when the spec sets them. */
export interface ObservedVpc {
  vpcID: string;
  cidrBlock: string;
  instanceTenancy: string;
  state: string;
  tags: Tags;
  enableDnsSupport?: boolean;
  enableDnsHostnames?: boolean;
}

// ---------------------------------------------------------------------------
// Mapping and comparison. Pure.

/** A VPC from DescribeVpcs in the spec's terms, without the DNS attributes. */
export function observedVpc(vpc: Vpc): ObservedVpc {
  return {
    vpcID: vpc.VpcId ?? '',
    cidrBlock: vpc.CidrBlock ?? '',
    instanceTenancy: vpc.InstanceTenancy ?? 'default',
    state: vpc.State ?? '',
    tags: tagMap(vpc.Tags),
  };
}

/** The status fields of a VPC. */
export function vpcStatus(observed: ObservedVpc): Observation['status'] {
  return { vpcID: observed.vpcID, cidrBlock: observed.cidrBlock, state: observed.state };
}

/**
 * Every field where AWS differs from the spec. Fields the spec leaves unset
 * are not compared, nor DNS attributes that were not read (the sweep's bulk
 * read has none); tags always are.
 */
export function compareVpc(desired: VpcSpec, observed: ObservedVpc, desiredTags: Tags): Difference[] {
  const differences: Difference[] = [];
  if (observed.cidrBlock !== desired.cidrBlock) {
    differences.push({ field: 'cidrBlock', detail: `${observed.cidrBlock} -> ${desired.cidrBlock}`, immutable: true });
  }
  if (desired.instanceTenancy !== undefined && observed.instanceTenancy !== desired.instanceTenancy) {
    differences.push({ field: 'instanceTenancy', detail: `${observed.instanceTenancy} -> ${desired.instanceTenancy}`, immutable: true });
  }
  for (const attribute of ['enableDnsSupport', 'enableDnsHostnames'] as const) {
    const wanted = desired[attribute];
    const current = observed[attribute];
    if (wanted !== undefined && current !== undefined && current !== wanted) {
      differences.push({ field: attribute, detail: `${String(current)} -> ${String(wanted)}` });
    }
  }
  const tags = compareTags(desiredTags, observed.tags);
  if (tags) differences.push({ field: 'tags', detail: tags });
  return differences;
}

/**
 * The ModifyVpcAttribute calls that bring DNS in line, in a safe order: EC2
 * refuses DNS hostnames without DNS support, so support is switched on
 * before hostnames, and hostnames off before support.
 */
export function dnsAttributeChanges(
  desired: Pick<VpcSpec, DnsAttribute>,
  observed: Pick<ObservedVpc, DnsAttribute>,
): Array<{ attribute: DnsAttribute; value: boolean }> {
  const order: DnsAttribute[] =
    desired.enableDnsSupport === false ? ['enableDnsHostnames', 'enableDnsSupport'] : ['enableDnsSupport', 'enableDnsHostnames'];
  return order.flatMap((attribute) => {
    const value = desired[attribute];
    return value !== undefined && observed[attribute] !== value ? [{ attribute, value }] : [];
  });
}

// ---------------------------------------------------------------------------
// AWS calls.

/** How VPCs are looked up (findOwned); DescribeVpcs takes both an ID list and filters. */
function vpcs(ec2: EC2Client): OwnedLookup<Vpc> {
  return {
    byIDs: async (VpcIds) => (await ec2.send(new DescribeVpcsCommand({ VpcIds }))).Vpcs ?? [],
    byFilter: (Filters) =>
      everyPage(async (NextToken) => {
        const page = await ec2.send(new DescribeVpcsCommand({ Filters, ...(NextToken ? { NextToken } : {}) }));
        return { items: page.Vpcs, next: page.NextToken };
      }),
    idOf: (vpc) => vpc.VpcId,
    tagsOf: (vpc) => tagMap(vpc.Tags),
    errorCodes: ERROR_CODES,
  };
}

/** The VPC with the DNS attributes the spec manages, one DescribeVpcAttribute call each. */
async function readVpc(ec2: EC2Client, desired: VpcSpec, vpc: Vpc): Promise<ObservedVpc> {
  const observed = observedVpc(vpc);
  for (const attribute of ['enableDnsSupport', 'enableDnsHostnames'] as const) {
    if (desired[attribute] === undefined) continue;
    const result = await ec2.send(new DescribeVpcAttributeCommand({ VpcId: observed.vpcID, Attribute: attribute }));
    const value = attribute === 'enableDnsSupport' ? result.EnableDnsSupport?.Value : result.EnableDnsHostnames?.Value;
    observed[attribute] = value ?? false;
  }
  return observed;
}

/** DeleteVpc; Deleting while something still lives in the VPC (subnets, gateways, groups…). */
async function deleteVpc(ec2: EC2Client, VpcId: string): Promise<DeleteOutcome> {
  try {
    await ec2.send(new DeleteVpcCommand({ VpcId }));
  } catch (error) {
    if (errorName(error) === 'DependencyViolation') return 'Deleting';
    if (isNotFound(error, ERROR_CODES)) return 'Deleted';
    throw error;
  }
  return 'Deleted';
}

/**
 * Brings one VPC in line with the spec, writing only what differs, then
 * fails terminally if an immutable field differs (nothing else can fix
 * that). Reads again rather than trusting an observation: an activity retry
 * may hand over an old one.
 */
async function reconcileVpc(context: AwsContext, ec2: EC2Client, desired: VpcSpec, vpc: Vpc, duplicates: Vpc[]): Promise<void> {
  // Duplicates can only come from a create EC2 had not yet shown to the
  // tag lookup. They are ours by their tags; one that already has dependents
  // stays (DependencyViolation) and is reported again by the next observe.
  for (const duplicate of duplicates) await deleteVpc(ec2, duplicate.VpcId ?? '');
  const observed = await readVpc(ec2, desired, vpc);
  await reconcileTags(ec2, observed.vpcID, context.tags, observed.tags);
  for (const { attribute, value } of dnsAttributeChanges(desired, observed)) {
    // ModifyVpcAttribute takes exactly one attribute per call.
    const change = attribute === 'enableDnsSupport' ? { EnableDnsSupport: { Value: value } } : { EnableDnsHostnames: { Value: value } };
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: observed.vpcID, ...change }));
  }
  const immutable = immutableFieldError(observed.vpcID, compareVpc(desired, observed, context.tags));
  if (immutable) throw immutable;
}

/** What observe says of the VPC `found`, as `observed` reads it. */
function judgeVpc(context: AwsContext, desired: VpcSpec, found: Found<Vpc> & { resource: Vpc }, observed: ObservedVpc): Observation {
  const differences = [
    ...compareVpc(desired, observed, context.tags),
    ...duplicatesDifference(found.duplicates.map((d) => d.VpcId ?? '')),
  ];
  return present({
    id: observed.vpcID,
    ...ownership(context, observed.tags),
    differences: differences.map(formatDifference),
    ready: observed.state === 'available',
    state: observed.state,
    status: vpcStatus(observed),
  });
}

/** The VPC handler. */
export const vpcHandler: ResourceHandler<VpcSpec> = {
  kind: 'VPC',
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const ec2 = context.client(EC2Client);
    const found = await findOwned(context, vpcs(ec2));
    const vpc = found.resource;
    if (!vpc?.VpcId) return absent();
    if (context.deleting) {
      // Compare nothing: only whether it is still there, and in what state.
      const observed = observedVpc(vpc);
      return present({
        id: vpc.VpcId,
        ...ownership(context, observed.tags),
        differences: [],
        ready: observed.state === 'available',
        state: observed.state,
        status: vpcStatus(observed),
      });
    }
    let observed: ObservedVpc;
    try {
      observed = await readVpc(ec2, desired, vpc);
    } catch (error) {
      // Deleted between DescribeVpcs and DescribeVpcAttribute.
      if (isNotFound(error, ERROR_CODES)) return absent();
      throw error;
    }
    return judgeVpc(context, desired, { ...found, resource: vpc }, observed);
  },

  observeMany: (items) =>
    observeListed(items, vpcs, async (context, desired, found) => judgeVpc(context, desired, found, observedVpc(found.resource))),

  async create(context, desired) {
    const ec2 = context.client(EC2Client);
    let found = await findOwned(context, vpcs(ec2));
    if (!found.resource) {
      await ec2.send(
        new CreateVpcCommand({
          CidrBlock: desired.cidrBlock,
          ...(desired.instanceTenancy !== undefined ? { InstanceTenancy: desired.instanceTenancy } : {}),
          TagSpecifications: tagSpecifications('vpc', context.tags),
        }),
      );
      found = await untilVisible(context, vpcs(ec2));
      // Still not visible after about 8 s (rare): the workflow observes
      // again after a backoff, and update sets the DNS attributes once the
      // lookup finds it.
      if (!found.resource) return;
    }
    // A new VPC has DNS support on and hostnames off; set what the spec asks.
    await reconcileVpc(context, ec2, desired, found.resource, found.duplicates);
  },

  async update(context, desired) {
    const ec2 = context.client(EC2Client);
    const { resource: vpc, duplicates } = await findOwned(context, vpcs(ec2));
    // Gone since observe: the next observe reports it missing and it is created again.
    if (!vpc) return;
    await reconcileVpc(context, ec2, desired, vpc, duplicates);
  },

  async delete(context) {
    const ec2 = context.client(EC2Client);
    const { resource: vpc, duplicates } = await findOwned(context, vpcs(ec2));
    let outcome: DeleteOutcome = 'Deleted';
    for (const each of vpc ? [vpc, ...duplicates] : []) {
      if ((await deleteVpc(ec2, each.VpcId ?? '')) === 'Deleting') outcome = 'Deleting';
    }
    return outcome;
  },
};
