/**
 * Subnet: one subnet of a VPC with mapPublicIpOnLaunch and tags. Its VPC
 * (vpcID, or vpcRef resolved to that VPC's status.vpcID), cidrBlock and
 * availabilityZone are fixed when it is made.
 *
 * Found by the ID the workflow recorded, or before one is recorded by its
 * owner tag, which CreateSubnet attaches in the same call (findOwned).
 * CreateSubnet takes no client token, so the tag lookup is the only guard
 * against a second subnet after a crash (and EC2 refuses an overlapping
 * CIDR anyway).
 *
 * The drift sweep observes every subnet of a provider with one
 * DescribeSubnets (observeMany), judged as observe judges one.
 */
import {
  CreateSubnetCommand,
  DeleteSubnetCommand,
  DescribeSubnetsCommand,
  EC2Client,
  ModifySubnetAttributeCommand,
  type Subnet,
} from '@aws-sdk/client-ec2';
import type { SubnetSpec } from '../../../crds/kinds/subnet.js';
import { errorName, isNotFound, type ErrorCodes } from '../errors.js';
import { absent, present, type AwsContext, type DeleteOutcome, type Observation, type ResourceHandler } from '../handler.js';
import { compareTags, ownership, type Tags } from '../tags.js';
import {
  EC2_ERROR_CODES,
  duplicatesDifference,
  findOwned,
  reconcileTags,
  resolveVpcID,
  tagMap,
  tagSpecifications,
  untilVisible,
  everyPage,
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

/** What AWS has for the subnet, in the spec's terms. */
export interface ObservedSubnet {
  subnetID: string;
  vpcID: string;
  cidrBlock: string;
  availabilityZone: string;
  state: string;
  availableIpAddressCount: number;
  mapPublicIpOnLaunch: boolean;
  tags: Tags;
}

// ---------------------------------------------------------------------------
// Mapping and comparison. Pure.

/** A subnet from DescribeSubnets in the spec's terms. */
export function observedSubnet(subnet: Subnet): ObservedSubnet {
  return {
    subnetID: subnet.SubnetId ?? '',
    vpcID: subnet.VpcId ?? '',
    cidrBlock: subnet.CidrBlock ?? '',
    availabilityZone: subnet.AvailabilityZone ?? '',
    state: subnet.State ?? '',
    availableIpAddressCount: subnet.AvailableIpAddressCount ?? 0,
    mapPublicIpOnLaunch: subnet.MapPublicIpOnLaunch ?? false,
    tags: tagMap(subnet.Tags),
  };
}

/** The status fields of a subnet. */
export function subnetStatus(observed: ObservedSubnet): Observation['status'] {
  return {
    subnetID: observed.subnetID,
    vpcID: observed.vpcID,
    state: observed.state,
    availableIpAddressCount: observed.availableIpAddressCount,
    availabilityZone: observed.availabilityZone,
    cidrBlock: observed.cidrBlock,
  };
}

/**
 * Every field where AWS differs from the spec; `vpcID` is the spec's VPC
 * with any vpcRef already resolved. Fields the spec leaves unset are not
 * compared; tags always are.
 */
export function compareSubnet(desired: SubnetSpec, vpcID: string, observed: ObservedSubnet, desiredTags: Tags): Difference[] {
  const differences: Difference[] = [];
  if (observed.vpcID !== vpcID) differences.push({ field: 'vpcID', detail: `${observed.vpcID} -> ${vpcID}`, immutable: true });
  if (observed.cidrBlock !== desired.cidrBlock) {
    differences.push({ field: 'cidrBlock', detail: `${observed.cidrBlock} -> ${desired.cidrBlock}`, immutable: true });
  }
  if (desired.availabilityZone !== undefined && observed.availabilityZone !== desired.availabilityZone) {
    differences.push({
      field: 'availabilityZone',
      detail: `${observed.availabilityZone} -> ${desired.availabilityZone}`,
      immutable: true,
    });
  }
  if (desired.mapPublicIpOnLaunch !== undefined && observed.mapPublicIpOnLaunch !== desired.mapPublicIpOnLaunch) {
    differences.push({ field: 'mapPublicIpOnLaunch', detail: `${observed.mapPublicIpOnLaunch} -> ${desired.mapPublicIpOnLaunch}` });
  }
  const tags = compareTags(desiredTags, observed.tags);
  if (tags) differences.push({ field: 'tags', detail: tags });
  return differences;
}

// ---------------------------------------------------------------------------
// AWS calls.

/** How subnets are looked up (findOwned). */
function subnets(ec2: EC2Client): OwnedLookup<Subnet> {
  return {
    byIDs: async (SubnetIds) => (await ec2.send(new DescribeSubnetsCommand({ SubnetIds }))).Subnets ?? [],
    byFilter: (Filters) =>
      everyPage(async (NextToken) => {
        const page = await ec2.send(new DescribeSubnetsCommand({ Filters, ...(NextToken ? { NextToken } : {}) }));
        return { items: page.Subnets, next: page.NextToken };
      }),
    idOf: (subnet) => subnet.SubnetId,
    tagsOf: (subnet) => tagMap(subnet.Tags),
    errorCodes: ERROR_CODES,
  };
}

/** DeleteSubnet; Deleting while something still uses it (a NAT gateway, a network interface, an instance). */
async function deleteSubnet(ec2: EC2Client, SubnetId: string): Promise<DeleteOutcome> {
  try {
    await ec2.send(new DeleteSubnetCommand({ SubnetId }));
  } catch (error) {
    if (errorName(error) === 'DependencyViolation') return 'Deleting';
    if (isNotFound(error, ERROR_CODES)) return 'Deleted';
    throw error;
  }
  return 'Deleted';
}

/** Writes what differs (tags, mapPublicIpOnLaunch), then fails terminally if an immutable field differs. */
async function reconcileSubnet(
  context: AwsContext,
  ec2: EC2Client,
  desired: SubnetSpec,
  vpcID: string,
  subnet: Subnet,
  duplicates: Subnet[],
): Promise<void> {
  // Ours by their tags; one with dependents stays and is reported again.
  for (const duplicate of duplicates) await deleteSubnet(ec2, duplicate.SubnetId ?? '');
  const observed = observedSubnet(subnet);
  await reconcileTags(ec2, observed.subnetID, context.tags, observed.tags);
  if (desired.mapPublicIpOnLaunch !== undefined && observed.mapPublicIpOnLaunch !== desired.mapPublicIpOnLaunch) {
    await ec2.send(
      new ModifySubnetAttributeCommand({ SubnetId: observed.subnetID, MapPublicIpOnLaunch: { Value: desired.mapPublicIpOnLaunch } }),
    );
  }
  const immutable = immutableFieldError(observed.subnetID, compareSubnet(desired, vpcID, observed, context.tags));
  if (immutable) throw immutable;
}

/** What observe says of the subnet `found`, against the spec's VPC. */
function judgeSubnet(context: AwsContext, desired: SubnetSpec, found: Found<Subnet> & { resource: Subnet }, vpcID: string): Observation {
  const observed = observedSubnet(found.resource);
  const differences = [
    ...compareSubnet(desired, vpcID, observed, context.tags),
    ...duplicatesDifference(found.duplicates.map((d) => d.SubnetId ?? '')),
  ];
  return present({
    id: observed.subnetID,
    ...ownership(context, observed.tags),
    differences: differences.map(formatDifference),
    ready: observed.state === 'available',
    state: observed.state,
    status: subnetStatus(observed),
  });
}

/** The Subnet handler. */
export const subnetHandler: ResourceHandler<SubnetSpec> = {
  kind: 'Subnet',
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const ec2 = context.client(EC2Client);
    if (context.deleting) {
      // Resolve nothing (the VPC may be gone first) and compare nothing.
      const { resource: subnet } = await findOwned(context, subnets(ec2));
      if (!subnet) return absent();
      const observed = observedSubnet(subnet);
      return present({
        id: observed.subnetID,
        ...ownership(context, observed.tags),
        differences: [],
        ready: observed.state === 'available',
        state: observed.state,
        status: subnetStatus(observed),
      });
    }
    const vpcID = await resolveVpcID(context, desired);
    const found = await findOwned(context, subnets(ec2));
    if (!found.resource) return absent();
    return judgeSubnet(context, desired, { ...found, resource: found.resource }, vpcID);
  },

  observeMany: (items) =>
    observeListed(items, subnets, async (context, desired, found) => judgeSubnet(context, desired, found, await resolveVpcID(context, desired))),

  async create(context, desired) {
    const vpcID = await resolveVpcID(context, desired);
    const ec2 = context.client(EC2Client);
    let found = await findOwned(context, subnets(ec2));
    if (!found.resource) {
      await ec2.send(
        new CreateSubnetCommand({
          VpcId: vpcID,
          CidrBlock: desired.cidrBlock,
          ...(desired.availabilityZone !== undefined ? { AvailabilityZone: desired.availabilityZone } : {}),
          TagSpecifications: tagSpecifications('subnet', context.tags),
        }),
      );
      found = await untilVisible(context, subnets(ec2));
      // Still not visible: the workflow looks again after a backoff.
      if (!found.resource) return;
    }
    // A new subnet does not map public IPs; set what the spec asks.
    await reconcileSubnet(context, ec2, desired, vpcID, found.resource, found.duplicates);
  },

  async update(context, desired) {
    const vpcID = await resolveVpcID(context, desired);
    const ec2 = context.client(EC2Client);
    const { resource: subnet, duplicates } = await findOwned(context, subnets(ec2));
    if (!subnet) return;
    await reconcileSubnet(context, ec2, desired, vpcID, subnet, duplicates);
  },

  async delete(context) {
    const ec2 = context.client(EC2Client);
    const { resource: subnet, duplicates } = await findOwned(context, subnets(ec2));
    let outcome: DeleteOutcome = 'Deleted';
    for (const each of subnet ? [subnet, ...duplicates] : []) {
      if ((await deleteSubnet(ec2, each.SubnetId ?? '')) === 'Deleting') outcome = 'Deleting';
    }
    return outcome;
  },
};
