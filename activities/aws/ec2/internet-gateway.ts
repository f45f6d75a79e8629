/**
 * InternetGateway: one internet gateway, attached to the spec's VPC (vpcID,
 * or vpcRef resolved to that VPC's status.vpcID), with tags. It is Ready
 * only while attached to that VPC. A gateway found attached elsewhere, or
 * nowhere, is moved: detached from the wrong VPC, attached to the right one.
 * Deletion detaches it from every VPC first.
 *
 * Found by the ID the workflow recorded, or before one is recorded by its
 * owner tag, which CreateInternetGateway attaches in the same call (it
 * takes no client token); see findOwned.
 *
 * The drift sweep observes every gateway of a provider with one
 * DescribeInternetGateways (observeMany), judged as observe judges one.
 */
import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  DeleteInternetGatewayCommand,
  DescribeInternetGatewaysCommand,
  DetachInternetGatewayCommand,
  EC2Client,
  type InternetGateway,
} from '@aws-sdk/client-ec2';
import type { InternetGatewaySpec } from '../../../crds/kinds/internet-gateway.js';
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
import { type Difference, formatDifference } from '../difference.js';

/** DetachInternetGateway's answer when the gateway is not (or no longer) attached to that VPC. */
const NOT_ATTACHED = 'Gateway.NotAttached';

const ERROR_CODES: ErrorCodes = {
  retryable: [...EC2_ERROR_CODES.retryable],
  notFound: [...EC2_ERROR_CODES.notFound],
};

/** One attachment: the VPC and its state, normalised (see attachmentState). */
export interface Attachment {
  vpcID: string;
  state: string;
}

/** What AWS has for the gateway. */
export interface ObservedGateway {
  internetGatewayID: string;
  /** Attachments that exist (none in state detached). */
  attachments: Attachment[];
  tags: Tags;
}

// ---------------------------------------------------------------------------
// Mapping and comparison. Pure.

/**
 * An attachment's state in the kind's terms. EC2 reports an attached
 * gateway as `available` (the SDK's enum says `attached`, which EC2 does
 * not send); both read as `attached`.
 */
export function attachmentState(state: string | undefined): string {
  if (state === 'available' || state === 'attached') return 'attached';
  return state || 'detached';
}

/** A gateway from DescribeInternetGateways in the kind's terms. */
export function observedGateway(gateway: InternetGateway): ObservedGateway {
  return {
    internetGatewayID: gateway.InternetGatewayId ?? '',
    attachments: (gateway.Attachments ?? [])
      .map((attachment) => ({ vpcID: attachment.VpcId ?? '', state: attachmentState(attachment.State) }))
      .filter((attachment) => attachment.vpcID !== '' && attachment.state !== 'detached'),
    tags: tagMap(gateway.Tags),
  };
}

/** The attachment that speaks for the gateway: the one to `vpcID` when there is one, else the first. */
function mainAttachment(observed: ObservedGateway, vpcID?: string): Attachment | undefined {
  return observed.attachments.find((attachment) => attachment.vpcID === vpcID) ?? observed.attachments[0];
}

/** The gateway's state: that of its attachment, or `detached`. */
export function gatewayState(observed: ObservedGateway, vpcID?: string): string {
  return mainAttachment(observed, vpcID)?.state ?? 'detached';
}

/** Ready only while attached to the spec's VPC. */
export function gatewayReady(observed: ObservedGateway, vpcID: string): boolean {
  return observed.attachments.some((attachment) => attachment.vpcID === vpcID && attachment.state === 'attached');
}

/** The status fields; vpcID is empty while detached (a merge patch would keep an omitted old value). */
export function gatewayStatus(observed: ObservedGateway, vpcID?: string): Observation['status'] {
  const attachment = mainAttachment(observed, vpcID);
  return {
    internetGatewayID: observed.internetGatewayID,
    vpcID: attachment?.vpcID ?? '',
    state: attachment?.state ?? 'detached',
  };
}

/** Where the gateway is attached against where the spec wants it, and the tags. */
export function compareGateway(vpcID: string, observed: ObservedGateway, desiredTags: Tags): Difference[] {
  const differences: Difference[] = [];
  const attached = observed.attachments.map((attachment) => attachment.vpcID);
  if (attached.length !== 1 || attached[0] !== vpcID) {
    differences.push({ field: 'vpcID', detail: `${attached.join(', ') || 'none'} -> ${vpcID}` });
  }
  const tags = compareTags(desiredTags, observed.tags);
  if (tags) differences.push({ field: 'tags', detail: tags });
  return differences;
}

// ---------------------------------------------------------------------------
// AWS calls.

/** How internet gateways are looked up (findOwned). */
function gateways(ec2: EC2Client): OwnedLookup<InternetGateway> {
  return {
    byIDs: async (InternetGatewayIds) =>
      (await ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds }))).InternetGateways ?? [],
    byFilter: (Filters) =>
      everyPage(async (NextToken) => {
        const page = await ec2.send(new DescribeInternetGatewaysCommand({ Filters, ...(NextToken ? { NextToken } : {}) }));
        return { items: page.InternetGateways, next: page.NextToken };
      }),
    idOf: (gateway) => gateway.InternetGatewayId,
    tagsOf: (gateway) => tagMap(gateway.Tags),
    errorCodes: ERROR_CODES,
  };
}

/** Detaches from one VPC; a gateway or VPC already apart (or gone) is fine. */
async function detach(ec2: EC2Client, InternetGatewayId: string, VpcId: string): Promise<void> {
  try {
    await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId, VpcId }));
  } catch (error) {
    if (errorName(error) === NOT_ATTACHED || isNotFound(error, ERROR_CODES)) return;
    throw error;
  }
}

/**
 * Detaches from every VPC, then deletes. Deleting while EC2 refuses the
 * detach because the VPC still has public addresses mapped (instances,
 * NAT gateways): whoever owns those must go first.
 */
async function deleteGateway(ec2: EC2Client, gateway: InternetGateway): Promise<DeleteOutcome> {
  const observed = observedGateway(gateway);
  try {
    for (const attachment of observed.attachments) await detach(ec2, observed.internetGatewayID, attachment.vpcID);
    await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: observed.internetGatewayID }));
  } catch (error) {
    if (errorName(error) === 'DependencyViolation') return 'Deleting';
    if (isNotFound(error, ERROR_CODES)) return 'Deleted';
    throw error;
  }
  return 'Deleted';
}

/** Removes duplicates, fixes tags, then moves the gateway to the spec's VPC if it is anywhere else. */
async function reconcileGateway(
  context: AwsContext,
  ec2: EC2Client,
  vpcID: string,
  gateway: InternetGateway,
  duplicates: InternetGateway[],
): Promise<void> {
  // First, because a VPC takes one internet gateway: a duplicate attached to
  // the spec's VPC would block the attach below. One EC2 refuses to detach
  // stays, and is reported again by the next observe.
  for (const duplicate of duplicates) await deleteGateway(ec2, duplicate);
  const observed = observedGateway(gateway);
  await reconcileTags(ec2, observed.internetGatewayID, context.tags, observed.tags);
  for (const attachment of observed.attachments) {
    if (attachment.vpcID !== vpcID) await detach(ec2, observed.internetGatewayID, attachment.vpcID);
  }
  if (!observed.attachments.some((attachment) => attachment.vpcID === vpcID)) {
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: observed.internetGatewayID, VpcId: vpcID }));
  }
}

/** What observe says of the gateway `found`, against the spec's VPC. */
function judgeGateway(context: AwsContext, found: Found<InternetGateway> & { resource: InternetGateway }, vpcID: string): Observation {
  const observed = observedGateway(found.resource);
  const differences = [
    ...compareGateway(vpcID, observed, context.tags),
    ...duplicatesDifference(found.duplicates.map((d) => d.InternetGatewayId ?? '')),
  ];
  return present({
    id: observed.internetGatewayID,
    ...ownership(context, observed.tags),
    differences: differences.map(formatDifference),
    ready: gatewayReady(observed, vpcID),
    state: gatewayState(observed, vpcID),
    status: gatewayStatus(observed, vpcID),
  });
}

/** The InternetGateway handler. */
export const internetGatewayHandler: ResourceHandler<InternetGatewaySpec> = {
  kind: 'InternetGateway',
  errorCodes: ERROR_CODES,

  async observe(context, desired) {
    const ec2 = context.client(EC2Client);
    if (context.deleting) {
      // Resolve nothing (the VPC may be gone first) and compare nothing.
      const { resource: gateway } = await findOwned(context, gateways(ec2));
      if (!gateway) return absent();
      const observed = observedGateway(gateway);
      return present({
        id: observed.internetGatewayID,
        ...ownership(context, observed.tags),
        differences: [],
        ready: false,
        state: gatewayState(observed),
        status: gatewayStatus(observed),
      });
    }
    const vpcID = await resolveVpcID(context, desired);
    const found = await findOwned(context, gateways(ec2));
    if (!found.resource) return absent();
    return judgeGateway(context, { ...found, resource: found.resource }, vpcID);
  },

  observeMany: (items) =>
    observeListed(items, gateways, async (context, desired, found) => judgeGateway(context, found, await resolveVpcID(context, desired))),

  async create(context, desired) {
    const vpcID = await resolveVpcID(context, desired);
    const ec2 = context.client(EC2Client);
    let found = await findOwned(context, gateways(ec2));
    if (!found.resource) {
      await ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: tagSpecifications('internet-gateway', context.tags) }));
      found = await untilVisible(context, gateways(ec2));
      // Still not visible after about 8 s (rare): the workflow looks again
      // after a backoff, and update attaches it once the lookup finds it.
      if (!found.resource) return;
    }
    await reconcileGateway(context, ec2, vpcID, found.resource, found.duplicates);
  },

  async update(context, desired) {
    const vpcID = await resolveVpcID(context, desired);
    const ec2 = context.client(EC2Client);
    const { resource: gateway, duplicates } = await findOwned(context, gateways(ec2));
    if (!gateway) return;
    await reconcileGateway(context, ec2, vpcID, gateway, duplicates);
  },

  async delete(context) {
    const ec2 = context.client(EC2Client);
    const { resource: gateway, duplicates } = await findOwned(context, gateways(ec2));
    let outcome: DeleteOutcome = 'Deleted';
    for (const each of gateway ? [gateway, ...duplicates] : []) {
      if ((await deleteGateway(ec2, each)) === 'Deleting') outcome = 'Deleting';
    }
    return outcome;
  },
};
