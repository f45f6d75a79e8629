/**
 * Measures, on a throwaway real stack: the time from `kubectl apply -f
 * examples/network.yaml` to every resource Ready, and from `kubectl delete`
 * of the same file to every custom resource gone and nothing left in AWS
 * (counted by owner tag), plus the EC2 calls each took (counted at the
 * proxy in front of moto).
 *
 *   npx tsx bench/network.ts [runs] [natPendingMs]     (defaults 3 and 0)
 *
 * moto makes NAT gateways available at once; natPendingMs makes the proxy
 * report them pending (and deleting) that long, as AWS would for minutes.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { DescribeNatGatewaysCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { parseAllDocuments } from 'yaml';
import { kindDefinition } from '../crds/index.js';
import { OWNER_TAG } from '../contract/identity.js';
import { providerName, startHarness } from '../test/support/harness.js';
import { slowNatGateways } from '../test/support/slow-nat.js';
import { summary } from './summary.js';

const runs = Number(process.argv[2] ?? 3);
const natPendingMs = Number(process.argv[3] ?? 0);
const file = fileURLToPath(new URL('../examples/network.yaml', import.meta.url));
const manifests = parseAllDocuments(await readFile(file, 'utf8')).map(
  (document) => document.toJSON() as { kind: string; metadata: { name: string } },
);
const plural = (kind: string): string => kindDefinition(kind).plural;

const h = await startHarness({ RESYNC_SECONDS: '300' });
if (natPendingMs > 0) slowNatGateways(h.proxy, { pendingMs: natPendingMs, deletingMs: natPendingMs });
const ec2 = new EC2Client({
  region: 'us-east-1',
  endpoint: h.stack.awsEndpoint,
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});

/** True when no VPC or live NAT gateway carries an owner tag: the last things a network deletion removes. */
async function nothingLeft(): Promise<boolean> {
  const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag-key', Values: [OWNER_TAG] }] }));
  const nats = await ec2.send(new DescribeNatGatewaysCommand({}));
  const liveNats = (nats.NatGateways ?? []).filter(
    (nat) => nat.State !== 'deleted' && nat.Tags?.some((tag) => tag.Key === OWNER_TAG),
  );
  return (vpcs.Vpcs?.length ?? 0) === 0 && liveNats.length === 0;
}

async function allReady(): Promise<boolean> {
  for (const { kind, metadata } of manifests) {
    const object = await h.get<{ metadata: { generation: number }; status?: { ready?: boolean; observedGeneration?: number } }>(
      plural(kind),
      metadata.name,
    );
    if (object?.status?.ready !== true || object.status.observedGeneration !== object.metadata.generation) return false;
  }
  return true;
}


const ec2Calls = (from: number) => h.proxy.calls.slice(from).filter((call) => call.service === 'ec2').length;

try {
  await h.until('provider Ready', async () => (await h.get('awsproviders', providerName))?.status?.ready === true, 60_000);
  const toReady: number[] = [];
  const toGone: number[] = [];
  const applyCalls: number[] = [];
  const deleteCalls: number[] = [];
  for (let run = 0; run < runs; run++) {
    let calls = h.proxy.calls.length;
    let started = performance.now();
    await h.kubectl(['apply', '-f', file]);
    await h.until('every network resource Ready', allReady, 300_000);
    toReady.push(performance.now() - started);
    applyCalls.push(ec2Calls(calls));

    calls = h.proxy.calls.length;
    started = performance.now();
    await h.kubectl(['delete', '-f', file, '--wait=false']);
    // A custom resource goes only once the operator saw its AWS resource
    // gone (through the proxy, so a slow NAT deletion counts).
    for (const { kind, metadata } of manifests) {
      await h.until(`${kind}/${metadata.name} gone`, async () => (await h.get(plural(kind), metadata.name)) === null, 300_000);
    }
    await h.until('nothing left in AWS', nothingLeft, 60_000);
    toGone.push(performance.now() - started);
    deleteCalls.push(ec2Calls(calls));
  }
  console.log(`network of ${manifests.length} resources, NAT pending/deleting ${natPendingMs} ms`);
  console.log(summary('apply -> all Ready', toReady));
  console.log(summary('delete -> every CR gone, nothing left in AWS', toGone));
  console.log(`EC2 calls per apply: ${applyCalls.join(', ')}; per delete: ${deleteCalls.join(', ')}`);
} finally {
  await h.teardown();
}
