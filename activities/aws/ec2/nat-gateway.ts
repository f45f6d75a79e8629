/**
 * NATGateway: one NAT gateway, public or private, and (for a public one
 * given no address) the Elastic IP it was given by this operator.
 *
 * Everything but tags is immutable, so update only ever fixes tags. AWS
 * takes a minute or two to make a gateway available and as long to delete
 * one; observe reports `pending` / `deleting` and the workflow waits on
 * durable timers, never inside an activity.
 *
 * The Elastic IP the handler allocates carries this NAT gateway's owner tag.
 * That tag is how a retry finds it instead of allocating a second one, and
 * how delete knows which address is its own to release: an address the spec
 * names (allocationID / allocationRef) never carries it and is never released.
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
import { OWNER_TAG } from '../../../shared/identity.js';
import { errorName, isNotFound, type ErrorCodes, unlessNotFound } from '../errors.js';
import { absent, present, type AwsContext, type Observation, type ResourceHandler } from '../handler.js';
import { compareTags } from '../tags.js';
import {
  EC2_ERROR_CODES,
  duplicatesDifference,
  formatDifference,
  idOrReference,
  ownerFilter,
  reconcileTags,
  tagMap,
  tagSpecifications,
} from './common.js';

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

/** True when EC2 tags carry exactly this owner value. */
export function carriesOwnerTag(tags: NatGateway['Tags'], owner: string): boolean {
  return (tags ?? []).some((tag) => tag.Key === OWNER_TAG && tag.Value === owner);
}

/**
 * The gateways that still exist, oldest first. DescribeNatGateways lists
 * deleted gateways for about an hour; `deleted` means gone.
 */
export function liveGateways(gateways: NatGateway[]): NatGateway[] {
  return gateways.filter((gateway) => gateway.State !== 'deleted').sort((a, b) => createdAt(a) - createdAt(b));
}

function createdAt(gateway: NatGateway): number {
  return gateway.CreateTime ? new Date(gateway.CreateTime).getTime() : 0;
}

/**
 * ClientToken of CreateNatGateway. The resource uid, so a create retried
 * after a crash gets the same gateway back. Once one of our gateways has
 * been deleted (out of band, or failed and removed by AWS), that token would
 * keep answering with the deleted gateway, so the token of a re-create also
 * names the newest deleted one. At most 64 characters, as AWS requires.
 */
export function natClientToken(uid: string, ours: NatGateway[]): string {
  const deleted = ours.filter((gateway) => gateway.State === 'deleted').sort((a, b) => createdAt(b) - createdAt(a));
  const newest = deleted[0]?.NatGatewayId;
  return (newest ? `${uid}-${newest}` : uid).slice(0, 64);
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
 * Every gateway carrying our owner tag, deleted ones included. The owner
 * tag is checked here as well as in the filter: moto ignores tag filters on
 * DescribeNatGateways and lists every gateway.
 */
async function ourGateways(ec2: EC2Client, context: AwsContext): Promise<NatGateway[]> {
  const owner = context.tags[OWNER_TAG] ?? '';
  const gateways: NatGateway[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeNatGatewaysCommand({ Filter: ownerFilter(context), NextToken }));
    gateways.push(...(page.NatGateways ?? []).filter((gateway) => carriesOwnerTag(gateway.Tags, owner)));
    NextToken = page.NextToken;
  } while (NextToken);
  return gateways;
}

/** The Elastic IPs this gateway allocated (those carrying its owner tag). */
async function ourAddresses(ec2: EC2Client, context: AwsContext): Promise<Address[]> {
  const owner = context.tags[OWNER_TAG] ?? '';
  const page = await ec2.send(new DescribeAddressesCommand({ Filters: ownerFilter(context) }));
  return (page.Addresses ?? []).filter((address) => carriesOwnerTag(address.Tags, owner));
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

/** The NATGateway handler. */
export const natGatewayHandler: ResourceHandler<NATGatewaySpec> = {
  kind: 'NATGateway',
  errorCodes: ERROR_CODES,

  async observe(context) {
    const ec2 = context.client(EC2Client);
    const [gateway, ...duplicates] = liveGateways(await ourGateways(ec2, context));
    if (context.deleting) {
      if (gateway) {
        return present({ differences: [], ready: false, state: gateway.State ?? 'unknown', status: natGatewayStatus(gateway) });
      }
      // The gateway is gone but the address it held is not released yet:
      // still something to delete, so the workflow calls delete again.
      const addresses = await ourAddresses(ec2, context);
      if (addresses.length) {
        return present({
          differences: addresses.map((address) => `elastic IP ${address.AllocationId} is still allocated`),
          ready: false,
          state: 'releasing-address',
          status: {},
        });
      }
      return absent();
    }
    if (!gateway) return absent();
    return present({
      differences: compareGateway(gateway, duplicates, context.tags),
      ready: gateway.State === 'available',
      state: gateway.State ?? 'unknown',
      status: natGatewayStatus(gateway),
    });
  },

  async create(context, desired) {
    const ec2 = context.client(EC2Client);
    const SubnetId = await subnetId(context, desired);
    const ours = await ourGateways(ec2, context);
    // An earlier attempt made it (observe may not have seen it yet).
    if (liveGateways(ours).length) return;
    const connectivity = desired.connectivityType ?? 'public';
    const AllocationId = connectivity === 'public' ? await allocationId(context, ec2, desired) : undefined;
    await ec2.send(
      new CreateNatGatewayCommand({
        SubnetId,
        ConnectivityType: connectivity,
        ...(AllocationId ? { AllocationId } : {}),
        ClientToken: natClientToken(context.resource.uid, ours),
        TagSpecifications: tagSpecifications('natgateway', context.tags),
      }),
    );
  },

  async update(context) {
    const ec2 = context.client(EC2Client);
    const [gateway] = liveGateways(await ourGateways(ec2, context));
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
    const gateways = liveGateways(await ourGateways(ec2, context));
    if (gateways.length) {
      for (const gateway of gateways) {
        if (gateway.State !== 'deleting' && gateway.NatGatewayId) {
          await unlessNotFound(ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: gateway.NatGatewayId })), ERROR_CODES);
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
