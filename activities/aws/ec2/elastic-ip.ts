/**
 * ElasticIP: one Elastic IP address and its tags. domain,
 * networkBorderGroup and publicIpv4Pool are fixed at allocation.
 *
 * The address is found by the allocation ID the workflow recorded. Before
 * one is recorded it is found by its owner tag, attached by AllocateAddress
 * itself (TagSpecifications, resource type elastic-ip): AllocateAddress
 * takes no client token, so that is how a retried create finds what the
 * first attempt allocated instead of allocating another.
 *
 * The handler never associates the address, and never disassociates it
 * on purpose: whoever associated it (a NAT gateway, say) lets go of it on
 * its own deletion. Until then ReleaseAddress refuses and deletion waits
 * (Deleting).
 *
 * The drift sweep observes every address of a provider with one
 * DescribeAddresses (observeMany), judged as observe judges one.
 */
import {
  AllocateAddressCommand,
  DescribeAddressesCommand,
  EC2Client,
  ReleaseAddressCommand,
  type Address,
} from '@aws-sdk/client-ec2';
import type { ElasticIPSpec } from '../../../crds/kinds/elastic-ip.js';
import { errorName, isNotFound, type ErrorCodes } from '../errors.js';
import { absent, present, type AwsContext, type DeleteOutcome, type Observation, type ResourceHandler } from '../handler.js';
import { compareTags, ownership, type Tags } from '../tags.js';
import {
  EC2_ERROR_CODES,
  duplicatesDifference,
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

/**
 * ReleaseAddress's answers for an address that is still associated:
 * InvalidIPAddress.InUse in a non-default VPC; AuthFailure when the
 * association belongs to an AWS service (a NAT gateway). AuthFailure also
 * means "released already, and now another account's", so it is only read
 * as "in use" after a fresh look finds the address still here.
 */
const IN_USE = 'InvalidIPAddress.InUse';
const AUTH_FAILURE = 'AuthFailure';

const ERROR_CODES: ErrorCodes = {
  terminal: [IMMUTABLE_FIELD_CHANGED],
  retryable: [...EC2_ERROR_CODES.retryable],
  notFound: [...EC2_ERROR_CODES.notFound, 'InvalidAddress.NotFound'],
};

/** What AWS has for the address. */
export interface ObservedAddress {
  allocationID: string;
  publicIP: string;
  /** Empty when not associated. */
  associationID: string;
  domain: string;
  /** Undefined when EC2 did not say (moto never does). */
  networkBorderGroup?: string;
  publicIpv4Pool?: string;
  tags: Tags;
}

// ---------------------------------------------------------------------------
// Mapping and comparison. Pure.

/** An address from DescribeAddresses in the kind's terms. */
export function observedAddress(address: Address): ObservedAddress {
  return {
    allocationID: address.AllocationId ?? '',
    publicIP: address.PublicIp ?? '',
    associationID: address.AssociationId ?? '',
    domain: address.Domain ?? 'vpc',
    ...(address.NetworkBorderGroup ? { networkBorderGroup: address.NetworkBorderGroup } : {}),
    ...(address.PublicIpv4Pool ? { publicIpv4Pool: address.PublicIpv4Pool } : {}),
    tags: tagMap(address.Tags),
  };
}

/** The status fields; associationID is empty when not associated (a merge patch would keep an omitted old value). */
export function addressStatus(observed: ObservedAddress): Observation['status'] {
  return { allocationID: observed.allocationID, publicIP: observed.publicIP, associationID: observed.associationID };
}

/**
 * Every field where AWS differs from the spec. The immutable fields are
 * compared only when the spec sets them and EC2 reports them; tags always.
 */
export function compareAddress(desired: ElasticIPSpec, observed: ObservedAddress, desiredTags: Tags): Difference[] {
  const differences: Difference[] = [];
  const domain = desired.domain ?? 'vpc';
  if (observed.domain !== domain) differences.push({ field: 'domain', detail: `${observed.domain} -> ${domain}`, immutable: true });
  for (const field of ['networkBorderGroup', 'publicIpv4Pool'] as const) {
    const wanted = desired[field];
    const current = observed[field];
    if (wanted !== undefined && current !== undefined && current !== wanted) {
      differences.push({ field, detail: `${current} -> ${wanted}`, immutable: true });
    }
  }
  const tags = compareTags(desiredTags, observed.tags);
  if (tags) differences.push({ field: 'tags', detail: tags });
  return differences;
}

/** The identity of an address in ReleaseAddress: the allocation ID, or the IP for an EC2-Classic address. */
export function releaseInput(observed: ObservedAddress): { AllocationId: string; NetworkBorderGroup?: string } | { PublicIp: string } {
  if (observed.domain === 'standard' || !observed.allocationID) return { PublicIp: observed.publicIP };
  return {
    AllocationId: observed.allocationID,
    // Naming the group the address really has is harmless, and Local Zone addresses need it.
    ...(observed.networkBorderGroup ? { NetworkBorderGroup: observed.networkBorderGroup } : {}),
  };
}

// ---------------------------------------------------------------------------
// AWS calls.

/** The address's identity: its allocation ID, or its IP for an EC2-Classic address, which has none. */
function addressID(address: Address): string | undefined {
  return address.AllocationId || address.PublicIp || undefined;
}

/** How addresses are looked up (findOwned). DescribeAddresses has no pages. */
function addresses(ec2: EC2Client): OwnedLookup<Address> {
  return {
    byIDs: async (ids) => {
      const input = ids.every((id) => id.startsWith('eipalloc-')) ? { AllocationIds: ids } : { PublicIps: ids };
      return (await ec2.send(new DescribeAddressesCommand(input))).Addresses ?? [];
    },
    byFilter: async (Filters) => (await ec2.send(new DescribeAddressesCommand({ Filters }))).Addresses ?? [],
    idOf: addressID,
    tagsOf: (address) => tagMap(address.Tags),
    errorCodes: ERROR_CODES,
  };
}

/**
 * ReleaseAddress, read as Deleting while something holds the address.
 *
 * It asks EC2 rather than checking AssociationId first: EC2 is the one that
 * knows whether an association still holds (moto, for one, keeps showing a
 * NAT gateway's association after the gateway is deleted, and releases an
 * associated address without complaint). In a default VPC, EC2 itself
 * disassociates an instance's address on release.
 */
async function releaseAddress(context: AwsContext, ec2: EC2Client, address: Address): Promise<DeleteOutcome> {
  const observed = observedAddress(address);
  try {
    await ec2.send(new ReleaseAddressCommand(releaseInput(observed)));
  } catch (error) {
    const name = errorName(error);
    if (name === IN_USE) return 'Deleting';
    if (isNotFound(error, ERROR_CODES)) return 'Deleted';
    if (name === AUTH_FAILURE) {
      // Held by a service (a NAT gateway), or released already and now
      // another account's: a fresh look tells which.
      const key = addressID(address);
      const { resource: first, duplicates } = await findOwned(context, addresses(ec2));
      const still = [first, ...duplicates].some((a) => a !== undefined && addressID(a) === key);
      return still ? 'Deleting' : 'Deleted';
    }
    throw error;
  }
  return 'Deleted';
}

/** Releases duplicates, fixes tags, then fails terminally if an immutable field differs. */
async function reconcileAddress(
  context: AwsContext,
  ec2: EC2Client,
  desired: ElasticIPSpec,
  address: Address,
  duplicates: Address[],
): Promise<void> {
  // Ours by their tags; a duplicate something still holds stays and is reported again.
  for (const duplicate of duplicates) await releaseAddress(context, ec2, duplicate);
  const observed = observedAddress(address);
  const id = addressID(address) ?? '';
  await reconcileTags(ec2, id, context.tags, observed.tags);
  const immutable = immutableFieldError(id, compareAddress(desired, observed, context.tags));
  if (immutable) throw immutable;
}

/** What observe says of the address `found`; an allocated address is usable at once (EC2 has no lifecycle state for it). */
function judgeAddress(context: AwsContext, desired: ElasticIPSpec, found: Found<Address> & { resource: Address }): Observation {
  const observed = observedAddress(found.resource);
  const differences = [
    ...compareAddress(desired, observed, context.tags),
    ...duplicatesDifference(found.duplicates.map((d) => addressID(d) ?? '')),
  ];
  return present({
    id: addressID(found.resource) ?? '',
    ...ownership(context, observed.tags),
    differences: differences.map(formatDifference),
    ready: true,
    status: addressStatus(observed),
  });
}

/** The ElasticIP handler. */
export const elasticIpHandler: ResourceHandler<ElasticIPSpec> = {
  kind: 'ElasticIP',
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const ec2 = context.client(EC2Client);
    const lookedUp = await findOwned(context, addresses(ec2));
    const address = lookedUp.resource;
    const id = address && addressID(address);
    if (!address || !id) return absent();
    if (context.deleting) {
      const observed = observedAddress(address);
      return present({ id, ...ownership(context, observed.tags), differences: [], ready: true, status: addressStatus(observed) });
    }
    return judgeAddress(context, desired, { ...lookedUp, resource: address });
  },

  observeMany: (items) => observeListed(items, addresses, async (context, desired, found) => judgeAddress(context, desired, found)),

  async create(context, desired) {
    const ec2 = context.client(EC2Client);
    let found = await findOwned(context, addresses(ec2));
    if (!found.resource) {
      await ec2.send(
        new AllocateAddressCommand({
          Domain: desired.domain ?? 'vpc',
          ...(desired.networkBorderGroup !== undefined ? { NetworkBorderGroup: desired.networkBorderGroup } : {}),
          ...(desired.publicIpv4Pool !== undefined ? { PublicIpv4Pool: desired.publicIpv4Pool } : {}),
          TagSpecifications: tagSpecifications('elastic-ip', context.tags),
        }),
      );
      found = await untilVisible(context, addresses(ec2));
      // Still not visible: the workflow looks again after a backoff.
      if (!found.resource) return;
    }
    await reconcileAddress(context, ec2, desired, found.resource, found.duplicates);
  },

  async update(context, desired) {
    const ec2 = context.client(EC2Client);
    const { resource: address, duplicates } = await findOwned(context, addresses(ec2));
    if (!address) return;
    await reconcileAddress(context, ec2, desired, address, duplicates);
  },

  async delete(context) {
    const ec2 = context.client(EC2Client);
    const { resource: address, duplicates } = await findOwned(context, addresses(ec2));
    let outcome: DeleteOutcome = 'Deleted';
    for (const each of address ? [address, ...duplicates] : []) {
      if ((await releaseAddress(context, ec2, each)) === 'Deleting') outcome = 'Deleting';
    }
    return outcome;
  },
};
