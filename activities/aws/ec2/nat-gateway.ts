/**
 * NATGateway: one NAT gateway, public or private, and (for a public one
 * given no address) the Elastic IP it was given by this operator.
 *
 * Everything but tags is immutable, so update only ever fixes tags. AWS
 * takes a minute or two to make a gateway available and as long to delete
 * one; observe reports `pending` / `deleting` and the workflow waits on
 * durable timers, never inside an activity.
 *
 * The gateway is found by the ID the workflow recorded, or before one is
 * recorded by its owner tag (findOwned); CreateNatGateway also takes a
 * client token, so a create retried after a crash gets the same gateway.
 *
 * The Elastic IP the handler allocates carries this NAT gateway's owner and
 * cluster tags. They are how a retry finds it instead of allocating a
 * second one, and how delete knows which address is its own to release: an
 * address the spec names (allocationID / allocationRef) never carries them
 * and is never released. The workflow records only the gateway's ID, so the
 * address is always found by its tags.
 *
 * The drift sweep observes every gateway of a provider with one
 * DescribeNatGateways (observeMany), judged as observe judges one.
 */
import {
  AllocateAddressCommand,
  CreateNatGatewayCommand,
  DeleteNatGatewayCommand,
  DescribeAddressesCommand,
  DescribeNatGatewaysCommand,
  DisassociateAddressCommand,
  EC2Client,
  ReleaseAddressCommand,
  type Address,
  type NatGateway,
} from '@aws-sdk/client-ec2';
import type { NATGatewaySpec } from '../../../crds/kinds/nat-gateway.js';
import { errorName, isNotFound, type ErrorCodes, unlessNotFound } from '../errors.js';
import { absent, present, type AwsContext, type Lifecycle, type Observation, type ResourceHandler } from '../handler.js';
import { compareTags, isOurs, ownership } from '../tags.js';
import {
  EC2_ERROR_CODES,
  clientToken,
  duplicatesDifference,
  everyPage,
  findOwned,
  idOrReference,
  ownerFilter,
  reconcileTags,
  tagMap,
  tagSpecifications,
  observeListed,
  type Found,
  type OwnedLookup,
} from './common.js';
import { formatDifference } from '../difference.js';

/** Error name update throws for a gateway AWS reports as failed; terminal. */
export const NAT_GATEWAY_FAILED = 'NatGatewayFailed';

const ERROR_CODES: ErrorCodes = {
  // A failed gateway stays failed; AWS removes it after about an hour, and
  // the terminal retry (an hour later) then creates a new one.
  terminal: [NAT_GATEWAY_FAILED],
  retryable: [...EC2_ERROR_CODES.retryable],
  notFound: [...EC2_ERROR_CODES.notFound],
};

/**
 * ReleaseAddress answers while the address is still held by a gateway that
 * is being deleted (AWS answers AuthFailure for a NAT-owned association).
 */
const ADDRESS_IN_USE = new Set(['AuthFailure', 'InvalidIPAddress.InUse']);

// ---------------------------------------------------------------------------
// Pure helpers.

function createdAt(gateway: NatGateway): number {
  return gateway.CreateTime ? new Date(gateway.CreateTime).getTime() : 0;
}

/** The newest of these (deleted) gateways: the one a re-create's client token names (see clientToken). */
export function newestGateway(gateways: NatGateway[]): string | undefined {
  return [...gateways].sort((a, b) => createdAt(b) - createdAt(a))[0]?.NatGatewayId;
}

/** The status fields of a gateway, from its primary address. */
export function natGatewayStatus(gateway: NatGateway): Observation['status'] {
  const addresses = gateway.NatGatewayAddresses ?? [];
  const primary = addresses.find((address) => address.IsPrimary) ?? addresses[0];
  const status: Observation['status'] = {};
  const fields: Array<[string, string | undefined]> = [
    ['natGatewayID', gateway.NatGatewayId],
    ['subnetID', gateway.SubnetId],
    ['publicIP', primary?.PublicIp],
    ['privateIP', primary?.PrivateIp],
    ['allocationID', primary?.AllocationId],
    ['state', gateway.State],
  ];
  for (const [field, value] of fields) if (value) status[field] = value;
  return status;
}

/** The difference that describes a failed gateway, with AWS's reason. */
export function failureDifference(gateway: NatGateway): string {
  return `state: failed (${gateway.FailureCode ?? 'unknown'}: ${gateway.FailureMessage ?? 'no message'})`;
}

/** Everything that differs on a live gateway: tags, failure, and duplicates (which should not exist). */
export function compareGateway(gateway: NatGateway, duplicates: NatGateway[], desiredTags: Record<string, string>): string[] {
  const differences: string[] = [];
  const tags = compareTags(desiredTags, tagMap(gateway.Tags));
  if (tags) differences.push(`tags: ${tags}`);
  if (gateway.State === 'failed') differences.push(failureDifference(gateway));
  differences.push(...duplicatesDifference(duplicates.map((d) => d.NatGatewayId ?? '')).map(formatDifference));
  return differences;
}

// ---------------------------------------------------------------------------
// AWS calls.

/**
 * How NAT gateways are looked up (findOwned). DescribeNatGateways lists a
 * deleted gateway for about an hour; `deleted` means gone. They carry a
 * creation time, so the oldest live one is managed.
 */
function gateways(ec2: EC2Client): OwnedLookup<NatGateway> {
  return {
    byIDs: async (NatGatewayIds) => (await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds }))).NatGateways ?? [],
    byFilter: (Filter) =>
      everyPage(async (NextToken) => {
        const page = await ec2.send(new DescribeNatGatewaysCommand({ Filter, NextToken }));
        return { items: page.NatGateways, next: page.NextToken };
      }),
    idOf: (gateway) => gateway.NatGatewayId,
    tagsOf: (gateway) => tagMap(gateway.Tags),
    live: (gateway) => gateway.State !== 'deleted',
    order: (a, b) => createdAt(a) - createdAt(b),
    errorCodes: ERROR_CODES,
  };
}

/** The Elastic IPs this gateway allocated (those carrying its owner and cluster tags). */
async function ourAddresses(ec2: EC2Client, context: AwsContext): Promise<Address[]> {
  const page = await ec2.send(new DescribeAddressesCommand({ Filters: ownerFilter(context) }));
  return (page.Addresses ?? []).filter((address) => isOurs(context, tagMap(address.Tags)));
}

function subnetId(context: AwsContext, desired: NATGatewaySpec): Promise<string> {
  return idOrReference(context, { kind: 'Subnet', field: 'subnetID', refField: 'subnetRef' }, desired.subnetID, desired.subnetRef);
}

/** The address a public gateway uses: the spec's, or the one we allocated (allocating it once). */
async function allocationId(context: AwsContext, ec2: EC2Client, desired: NATGatewaySpec): Promise<string> {
  if (desired.allocationID) return desired.allocationID;
  if (desired.allocationRef) return context.resolve({ kind: 'ElasticIP', ...desired.allocationRef }, 'allocationID');
  // An address from an earlier attempt (that crashed, or whose gateway
  // failed or was deleted) is used again rather than a second one allocated.
  const ours = await ourAddresses(ec2, context);
  const existing = ours.find((address) => !address.AssociationId) ?? ours[0];
  if (existing?.AllocationId) {
    // Create runs only when none of our gateways is live, so an association
    // left on our address is a dead gateway's. AWS drops it once that
    // gateway is deleted, moto never does; either way it must go before
    // the address can be given to the new gateway.
    if (existing.AssociationId) {
      await unlessNotFound(ec2.send(new DisassociateAddressCommand({ AssociationId: existing.AssociationId })), ERROR_CODES);
    }
    return existing.AllocationId;
  }
  const allocated = await ec2.send(
    new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tagSpecifications('elastic-ip', context.tags) }),
  );
  if (!allocated.AllocationId) throw new Error('AllocateAddress returned no AllocationId');
  return allocated.AllocationId;
}

/** A NAT gateway's state in the workflow's terms. */
export function lifecycleOf(state: string | undefined): { lifecycle?: Lifecycle } {
  switch (state) {
    case 'pending':
      return { lifecycle: 'Pending' };
    case 'available':
      return { lifecycle: 'Available' };
    case 'deleting':
      return { lifecycle: 'Deleting' };
    case 'failed':
      return { lifecycle: 'Failed' };
    default:
      return {};
  }
}

/** What observe says of a live gateway `found`. */
function judgeGateway(context: AwsContext, found: Found<NatGateway> & { resource: NatGateway }): Observation {
  const gateway = found.resource;
  return present({
    id: gateway.NatGatewayId ?? '',
    ...ownership(context, tagMap(gateway.Tags)),
    differences: compareGateway(gateway, found.duplicates, context.tags),
    ready: gateway.State === 'available',
    state: gateway.State ?? 'unknown',
    ...lifecycleOf(gateway.State),
    status: natGatewayStatus(gateway),
  });
}

/** The NATGateway handler. */
export const natGatewayHandler: ResourceHandler<NATGatewaySpec> = {
  kind: 'NATGateway',
  errorCodes: ERROR_CODES,

  async observe(context) {
    const ec2 = context.client(EC2Client);
    const lookedUp = await findOwned(context, gateways(ec2));
    const gateway = lookedUp.resource;
    const found = gateway?.NatGatewayId ? { id: gateway.NatGatewayId, ...ownership(context, tagMap(gateway.Tags)) } : undefined;
    if (context.deleting) {
      if (gateway && found) {
        return present({
          ...found,
          differences: [],
          ready: false,
          state: gateway.State ?? 'unknown',
          ...lifecycleOf(gateway.State),
          status: natGatewayStatus(gateway),
        });
      }
      // The gateway is gone but the address it held is not released yet:
      // still something to delete, so the workflow calls delete again. No
      // gateway is there, so no ID is reported for one.
      const addresses = await ourAddresses(ec2, context);
      if (addresses.length) {
        return {
          ...absent(),
          exists: true,
          differences: addresses.map((address) => `elastic IP ${address.AllocationId} is still allocated`),
          state: 'releasing-address',
        };
      }
      return absent();
    }
    if (!gateway || !found) return absent();
    return judgeGateway(context, { ...lookedUp, resource: gateway });
  },

  observeMany: (items) => observeListed(items, gateways, async (context, _desired, found) => judgeGateway(context, found)),

  async create(context, desired) {
    const ec2 = context.client(EC2Client);
    const SubnetId = await subnetId(context, desired);
    const found = await findOwned(context, gateways(ec2));
    // An earlier attempt made it (observe may not have seen it yet).
    if (found.resource) return;
    const connectivity = desired.connectivityType ?? 'public';
    const AllocationId = connectivity === 'public' ? await allocationId(context, ec2, desired) : undefined;
    await ec2.send(
      new CreateNatGatewayCommand({
        SubnetId,
        ConnectivityType: connectivity,
        ...(AllocationId ? { AllocationId } : {}),
        // The gateway this one replaces: the recorded one, gone, or else the
        // newest deleted one carrying our tags.
        ClientToken: clientToken(context.resource.uid, context.awsID ?? newestGateway(found.gone)),
        TagSpecifications: tagSpecifications('natgateway', context.tags),
      }),
    );
  },

  async update(context) {
    const ec2 = context.client(EC2Client);
    const { resource: gateway } = await findOwned(context, gateways(ec2));
    if (!gateway?.NatGatewayId) return; // Gone: the next observe says so and create follows.
    if (gateway.State === 'failed') {
      throw Object.assign(
        new Error(
          `NAT gateway ${gateway.NatGatewayId} failed: ${gateway.FailureCode ?? 'unknown'}: ${gateway.FailureMessage ?? 'no message'}; ` +
            'AWS removes it within an hour and a new one is created then',
        ),
        { name: NAT_GATEWAY_FAILED },
      );
    }
    await reconcileTags(ec2, gateway.NatGatewayId, context.tags, tagMap(gateway.Tags));
  },

  async delete(context) {
    const ec2 = context.client(EC2Client);
    const { resource: gateway, duplicates } = await findOwned(context, gateways(ec2));
    if (gateway) {
      for (const each of [gateway, ...duplicates]) {
        if (each.State !== 'deleting' && each.NatGatewayId) {
          await unlessNotFound(ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: each.NatGatewayId })), ERROR_CODES);
        }
      }
      // AWS takes a minute or two; the address is released once it is gone.
      return 'Deleting';
    }
    for (const address of await ourAddresses(ec2, context)) {
      try {
        await ec2.send(new ReleaseAddressCommand({ AllocationId: address.AllocationId }));
      } catch (error) {
        if (ADDRESS_IN_USE.has(errorName(error))) return 'Deleting';
        if (!isNotFound(error, ERROR_CODES)) throw error;
      }
    }
    return 'Deleted';
  },
};
