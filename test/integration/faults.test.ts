/**
 * Faults on the real stack: AWS busy or broken under a whole stack of
 * resources (throttling, 5xx and connection resets injected at the proxy,
 * seeded), a literal AWS ID that does not exist, and an endpoint that
 * accepts connections and never answers. What must hold: everything
 * converges, nothing is made twice or left behind, and the operator's AWS
 * calls stay bounded: retries cost at most twice the calls of a calm run, a
 * missing ID is looked for ever less often, a dead endpoint is named in
 * status within a minute.
 *
 * RESYNC_SECONDS is 30 here, not the harness's 3. Every Ready resource makes
 * a drift check each resync, so with 3 s the calls of a window would grow
 * with its length (a run slowed by faults would pay for the time it took,
 * in drift checks), and the fault-mix ratio would measure time rather than
 * retries. With 30 s no drift check falls inside a window of the calm run
 * (each takes under 30 s), so what the faulty run adds is retries, plus the
 * drift checks of whatever part of it outlasts 30 s. The resync also caps
 * the backoff after a failure the activity's own retries gave up on, so
 * 30 s keeps such a pass within the time budget. The other two tests do not
 * depend on it: a missing ID backs off to 1800 s whatever the resync is,
 * and the black hole is reported on the first pass.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  DescribeAddressesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type Filter,
  type Tag,
} from '@aws-sdk/client-ec2';
import { GetBucketTaggingCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { ListQueuesCommand, ListQueueTagsCommand, SQSClient } from '@aws-sdk/client-sqs';
import { OWNER_TAG } from '../../contract/identity.js';
import type { ProxyCall } from '../support/aws-proxy.js';
import { injectFaults, type FaultTally } from '../support/faults.js';
import { awsCredentials, providerName, readyCondition, startHarness, type CustomObject, type Harness } from '../support/harness.js';

const API = 'aws-infra-operator.runner.codes/v1alpha1';
/** Label on every custom resource of a fault-mix set, so one kubectl call lists or deletes the set. */
const SET_LABEL = 'faults-test-set';
/** Fixed, so the sequence of injected faults is the same on every run. */
const FAULT_SEED = 20240611;
/**
 * Each injected fault may cost at most this many calls beyond the calm run:
 * its retry and one look to find out where things stand. Measured per fault,
 * not as a multiple of the calm run, whose size falls whenever a create
 * gets cheaper (a create answering with its resource) while a fault's cost
 * does not; a retry storm shows either way.
 */
const MAX_CALLS_PER_FAULT = 2;

let h: Harness;
let ec2: EC2Client;
let s3: S3Client;
let sqs: SQSClient;

before(async () => {
  h = await startHarness({ RESYNC_SECONDS: '30', SWEEP_SECONDS: '30' });
  // Straight at moto, not through the proxy: the test's own look-ups are neither counted nor faulted.
  const config = {
    region: awsCredentials.region,
    endpoint: h.stack.awsEndpoint,
    credentials: { accessKeyId: 'verifier', secretAccessKey: 'verifier' },
  };
  ec2 = new EC2Client(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  sqs = new SQSClient(config);
  await h.until('provider Ready', async () => (await h.get('awsproviders', providerName))?.status?.ready === true, 60_000);
});

after(async () => {
  await h?.teardown();
});

// ---------------------------------------------------------------------------
// A set of custom resources of every kind, wired by references.

interface SetMember {
  kind: string;
  name: string;
}

interface CrSet {
  prefix: string;
  yaml: string;
  members: SetMember[];
}

/** Bucket and queue names of a set start with this. */
const awsNamePrefix = (prefix: string): string => `infra-faults-${prefix}-`;

/**
 * Twenty custom resources: a VPC with four subnets, an internet gateway, an
 * Elastic IP used by a NAT gateway, two route tables, two security groups
 * (one admitting the other), four buckets and four queues (one with a
 * dead-letter queue, one FIFO). Shapes from examples/network.yaml and the
 * guide's S3 and SQS examples; every name starts with `prefix`.
 */
function crSet(prefix: string, octet: number): CrSet {
  const members: SetMember[] = [];
  const aws = awsNamePrefix(prefix);
  const doc = (kind: string, name: string, spec: string): string => {
    members.push({ kind, name: `${prefix}-${name}` });
    return `apiVersion: ${API}
kind: ${kind}
metadata:
  name: ${prefix}-${name}
  namespace: default
  labels: { ${SET_LABEL}: ${prefix} }
spec:
  providerRef: { name: ${providerName} }
  deletionPolicy: Delete
${spec.trim().replace(/^/gm, '  ')}
`;
  };
  const subnet = (name: string, third: number, zone: string, isPublic: boolean) =>
    doc('Subnet', name, `
vpcRef: { name: ${prefix}-vpc }
cidrBlock: "10.${octet}.${third}.0/24"
availabilityZone: ${zone}
mapPublicIpOnLaunch: ${isPublic}
tags: { Name: ${prefix}-${name} }`);
  const documents = [
    doc('VPC', 'vpc', `
cidrBlock: "10.${octet}.0.0/16"
enableDnsSupport: true
enableDnsHostnames: true
tags: { Name: ${prefix}-vpc }`),
    subnet('public-1a', 1, 'us-east-1a', true),
    subnet('public-1b', 2, 'us-east-1b', true),
    subnet('private-1a', 10, 'us-east-1a', false),
    subnet('private-1b', 11, 'us-east-1b', false),
    doc('InternetGateway', 'igw', `
vpcRef: { name: ${prefix}-vpc }
tags: { Name: ${prefix}-igw }`),
    doc('ElasticIP', 'eip', `
domain: vpc
tags: { Name: ${prefix}-nat-address }`),
    doc('NATGateway', 'nat', `
subnetRef: { name: ${prefix}-public-1a }
connectivityType: public
allocationRef: { name: ${prefix}-eip }
tags: { Name: ${prefix}-nat }`),
    doc('RouteTable', 'public-routes', `
vpcRef: { name: ${prefix}-vpc }
routes:
  - destinationCidrBlock: "0.0.0.0/0"
    gatewayRef: { name: ${prefix}-igw }
subnetAssociationRefs:
  - { name: ${prefix}-public-1a }
  - { name: ${prefix}-public-1b }`),
    doc('RouteTable', 'private-routes', `
vpcRef: { name: ${prefix}-vpc }
routes:
  - destinationCidrBlock: "0.0.0.0/0"
    natGatewayRef: { name: ${prefix}-nat }
subnetAssociationRefs:
  - { name: ${prefix}-private-1a }
  - { name: ${prefix}-private-1b }`),
    doc('SecurityGroup', 'web', `
groupName: ${prefix}-web
description: web tier, open to the internet on 80 and 443
vpcRef: { name: ${prefix}-vpc }
ingressRules:
  - { ipProtocol: tcp, fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"], description: http }
  - { ipProtocol: tcp, fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: https }`),
    doc('SecurityGroup', 'app', `
groupName: ${prefix}-app
description: app tier, reachable from the web tier only
vpcRef: { name: ${prefix}-vpc }
ingressRules:
  - { ipProtocol: tcp, fromPort: 8080, toPort: 8080, sourceSecurityGroupRef: { name: ${prefix}-web }, description: from web }`),
    doc('S3Bucket', 'data', `
bucketName: ${aws}data
versioning: { enabled: true }
encryption: { algorithm: AES256 }
publicAccessBlock: { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true }
tags: { Compliance: required }`),
    doc('S3Bucket', 'logs', `
bucketName: ${aws}logs
lifecycleRules:
  - id: archive-old-logs
    enabled: true
    prefix: logs/
    transitions: [{ days: 30, storageClass: STANDARD_IA }]
    expiration: { days: 365 }`),
    doc('S3Bucket', 'assets', `
bucketName: ${aws}assets
corsRules:
  - { allowedOrigins: ["https://app.example.com"], allowedMethods: [GET, HEAD], maxAgeSeconds: 3000 }`),
    doc('S3Bucket', 'plain', `bucketName: ${aws}plain`),
    doc('SQSQueue', 'dlq', `
queueName: ${aws}dlq
messageRetentionPeriod: 1209600`),
    doc('SQSQueue', 'tasks', `
queueName: ${aws}tasks
visibilityTimeout: 30
messageRetentionPeriod: 345600
deadLetterQueue: { queueARN: "arn:aws:sqs:us-east-1:123456789012:${aws}dlq", maxReceiveCount: 3 }
tags: { Application: task-processor }`),
    doc('SQSQueue', 'orders', `
queueName: ${aws}orders.fifo
fifoQueue: true
contentBasedDeduplication: true
visibilityTimeout: 60`),
    doc('SQSQueue', 'plain', `queueName: ${aws}plain`),
  ];
  return { prefix, yaml: documents.join('---\n'), members };
}

interface Listed extends CustomObject {
  kind: string;
}

async function listSet(set: CrSet): Promise<Listed[]> {
  const output = await h.kubectl(['get', 'aws', '-n', 'default', '-l', `${SET_LABEL}=${set.prefix}`, '-o', 'json']);
  return (JSON.parse(output) as { items: Listed[] }).items;
}

const isReady = (object: CustomObject): boolean =>
  object.status?.ready === true && object.status.observedGeneration === object.metadata.generation;

/**
 * Waits until every member of the set is Ready; a timeout lists those that
 * are not, with their Ready condition. Returns the Ready reasons other than
 * the usual way to Ready that were seen on the way (`Kind/name: reason`), to
 * show where a slow run spent its time.
 */
async function allReady(set: CrSet, timeoutMs: number): Promise<string[]> {
  const usual = new Set(['Reconciling', 'Provisioning', 'Converging', 'DependencyNotReady', 'Available']);
  const detours = new Set<string>();
  let pending: string[] = [];
  await h
    .until(`all ${set.members.length} custom resources of set ${set.prefix} Ready`, async () => {
      const items = await listSet(set);
      pending = items.filter((item) => !isReady(item)).map((item) => {
        const ready = readyCondition(item);
        if (ready && !usual.has(ready.reason)) detours.add(`${item.kind}/${item.metadata.name}: ${ready.reason}`);
        return `${item.kind}/${item.metadata.name}: ${item.status?.phase ?? 'no status'} ${ready?.reason ?? ''} ${ready?.message ?? ''}`;
      });
      return items.length === set.members.length && pending.length === 0;
    }, timeoutMs)
    .catch((error: unknown) => {
      throw new Error(`${String(error)}\nnot Ready:\n  ${pending.join('\n  ')}`);
    });
  return [...detours];
}

// ---------------------------------------------------------------------------
// What AWS holds for a set, looked up straight at moto.

const ownerOf = (tags: Tag[] | undefined): string | undefined => tags?.find((tag) => tag.Key === OWNER_TAG)?.Value;
const anyOwner: Filter[] = [{ Name: 'tag-key', Values: [OWNER_TAG] }];

/**
 * Every AWS resource that belongs to the set, as `owner kind`: EC2
 * resources whose owner tag names a member of the set (live NAT gateways
 * only; moto ignores tag filters on DescribeNatGateways, so they are
 * matched here), and every bucket and queue whose name is the set's,
 * tagged or not (`untagged kind` when it carries no owner tag).
 */
async function inventory(set: CrSet): Promise<string[]> {
  const ours = new RegExp(`^[A-Za-z]+/default/${set.prefix}-`);
  const [vpcs, subnets, igws, nats, tables, groups, addresses] = await Promise.all([
    ec2.send(new DescribeVpcsCommand({ Filters: anyOwner })),
    ec2.send(new DescribeSubnetsCommand({ Filters: anyOwner })),
    ec2.send(new DescribeInternetGatewaysCommand({ Filters: anyOwner })),
    ec2.send(new DescribeNatGatewaysCommand({})),
    ec2.send(new DescribeRouteTablesCommand({ Filters: anyOwner })),
    ec2.send(new DescribeSecurityGroupsCommand({ Filters: anyOwner })),
    ec2.send(new DescribeAddressesCommand({ Filters: anyOwner })),
  ]);
  const ec2Tags: Array<[string, Tag[] | undefined]> = [
    ...(vpcs.Vpcs ?? []).map((item): [string, Tag[] | undefined] => ['VPC', item.Tags]),
    ...(subnets.Subnets ?? []).map((item): [string, Tag[] | undefined] => ['Subnet', item.Tags]),
    ...(igws.InternetGateways ?? []).map((item): [string, Tag[] | undefined] => ['InternetGateway', item.Tags]),
    ...(nats.NatGateways ?? [])
      .filter((item) => item.State !== 'deleted')
      .map((item): [string, Tag[] | undefined] => ['NATGateway', item.Tags]),
    ...(tables.RouteTables ?? []).map((item): [string, Tag[] | undefined] => ['RouteTable', item.Tags]),
    ...(groups.SecurityGroups ?? []).map((item): [string, Tag[] | undefined] => ['SecurityGroup', item.Tags]),
    ...(addresses.Addresses ?? []).map((item): [string, Tag[] | undefined] => ['ElasticIP', item.Tags]),
  ];
  const found = ec2Tags.flatMap(([kind, tags]) => {
    const owner = ownerOf(tags);
    return owner !== undefined && ours.test(owner) ? [`${owner} ${kind}`] : [];
  });

  const names = awsNamePrefix(set.prefix);
  for (const bucket of (await s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
    if (!bucket.Name?.startsWith(names)) continue;
    const tags = await s3.send(new GetBucketTaggingCommand({ Bucket: bucket.Name })).then(
      (answer) => answer.TagSet ?? [],
      () => [],
    );
    found.push(`${ownerOf(tags) ?? `untagged ${bucket.Name}`} S3Bucket`);
  }
  for (const url of (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: names }))).QueueUrls ?? []) {
    const { Tags = {} } = await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }));
    found.push(`${Tags[OWNER_TAG] ?? `untagged ${url}`} SQSQueue`);
  }
  return found.sort();
}

/** The inventory of a set that is Ready: exactly one AWS resource per member, of its kind, and nothing else. */
const expectedInventory = (set: CrSet): string[] => set.members.map((m) => `${m.kind}/default/${m.name} ${m.kind}`).sort();

interface KubeEvent {
  reason: string;
  message: string;
  involvedObject: { kind?: string; name?: string };
}

async function driftRepairedEvents(set: CrSet): Promise<string[]> {
  const names = new Set(set.members.map((m) => m.name));
  const { items } = JSON.parse(await h.kubectl(['get', 'events', '-n', 'default', '-o', 'json'])) as { items: KubeEvent[] };
  return items
    .filter((event) => event.reason === 'DriftRepaired' && names.has(event.involvedObject.name ?? ''))
    .map((event) => `${event.involvedObject.kind}/${event.involvedObject.name}: ${event.message}`);
}

// ---------------------------------------------------------------------------
// Call counting.

/** Calls the operator made for resources (STS is the provider's alone, and never faulted). */
const resourceCalls = (from: number, to: number): ProxyCall[] => h.proxy.calls.slice(from, to).filter((call) => call.service !== 'sts');

interface SetRun {
  applyCalls: number;
  deleteCalls: number;
  applyMs: number;
  deleteMs: number;
  /** Ready reasons seen on the way to Ready beyond the usual ones (see allReady). */
  detours: string[];
}

/**
 * Applies the set, waits for all Ready, checks AWS holds exactly one
 * resource per member, deletes the set and waits until every custom
 * resource is gone (a finalizer is released only once the AWS resource is
 * gone), counting the calls of both windows.
 */
async function runSet(set: CrSet): Promise<SetRun> {
  const applyFrom = h.proxy.calls.length;
  const applyStarted = performance.now();
  await h.apply(set.yaml);
  const detours = await allReady(set, 180_000);
  const applyTo = h.proxy.calls.length;
  const applyMs = performance.now() - applyStarted;
  assert.deepEqual(await inventory(set), expectedInventory(set), `set ${set.prefix}: exactly one AWS resource per custom resource while Ready`);

  const deleteFrom = h.proxy.calls.length;
  const deleteStarted = performance.now();
  await h.kubectl(['delete', 'aws', '-n', 'default', '-l', `${SET_LABEL}=${set.prefix}`, '--wait=false']);
  let left: string[] = [];
  await h
    .until(`every custom resource of set ${set.prefix} gone`, async () => {
      const items = await listSet(set);
      left = items.map((item) => `${item.kind}/${item.metadata.name}: ${readyCondition(item)?.reason ?? ''} ${readyCondition(item)?.message ?? ''}`);
      return items.length === 0;
    }, 180_000)
    .catch((error: unknown) => {
      throw new Error(`${String(error)}\nstill there:\n  ${left.join('\n  ')}`);
    });
  const deleteTo = h.proxy.calls.length;
  const deleteMs = performance.now() - deleteStarted;
  assert.deepEqual(await inventory(set), [], `set ${set.prefix}: nothing left in AWS after the delete`);
  return {
    applyCalls: resourceCalls(applyFrom, applyTo).length,
    deleteCalls: resourceCalls(deleteFrom, deleteTo).length,
    applyMs,
    deleteMs,
    detours,
  };
}

const describeRun = (run: SetRun): string =>
  `apply ${run.applyCalls} calls in ${(run.applyMs / 1000).toFixed(1)} s, delete ${run.deleteCalls} calls in ${(run.deleteMs / 1000).toFixed(1)} s` +
  (run.detours.length ? ` (on the way: ${run.detours.join(', ')})` : '');

const describeTally = (tally: FaultTally): string =>
  `${tally.seen} calls seen, ${tally.throttled} throttled, ${tally.serverErrors} answered 500, ${tally.resets} reset`;

describe('AWS faults on the real stack', () => {
  test('a stack of every kind converges under throttling, 5xx and resets, leaves nothing behind, and costs at most two calls per injected fault', async () => {
    const calm = crSet('fa', 61);
    const stormy = crSet('fb', 62);
    assert.equal(calm.members.length, 20);
    assert.equal(new Set(calm.members.map((m) => m.kind)).size, 9, 'every kind but AWSProvider');

    const baseline = await runSet(calm);
    console.log(`fault-free: ${describeRun(baseline)}`);

    const faults = injectFaults(h.proxy, { seed: FAULT_SEED, matches: (call) => call.service !== 'sts' });
    let faulty: SetRun;
    try {
      faulty = await runSet(stormy);
    } finally {
      faults.remove();
    }
    console.log(`with faults: ${describeRun(faulty)}; injected: ${describeTally(faults.tally)}`);

    const members = stormy.members.length;
    const baselineTotal = baseline.applyCalls + baseline.deleteCalls;
    const faultyTotal = faulty.applyCalls + faulty.deleteCalls;
    const ratio = faultyTotal / baselineTotal;
    console.log(
      `fault mix: ${members} CRs, calls per CR ${(baselineTotal / members).toFixed(1)} without faults, ` +
        `${(faultyTotal / members).toFixed(1)} with, ratio ${ratio.toFixed(2)}`,
    );
    assert.ok(faults.tally.throttled > 0 && faults.tally.serverErrors > 0 && faults.tally.resets > 0, `every fault was injected: ${describeTally(faults.tally)}`);
    assert.deepEqual(await driftRepairedEvents(calm), [], 'no DriftRepaired Event without faults');
    assert.deepEqual(await driftRepairedEvents(stormy), [], 'no DriftRepaired Event with faults: nothing was made twice and put right');
    const injected = faults.tally.throttled + faults.tally.serverErrors + faults.tally.resets;
    const allowed = baselineTotal + MAX_CALLS_PER_FAULT * injected;
    assert.ok(
      faultyTotal <= allowed,
      `AWS calls with faults ${faultyTotal} (${describeRun(faulty)}) exceed the fault-free ${baselineTotal} (${describeRun(baseline)}) plus ${MAX_CALLS_PER_FAULT} per injected fault (${injected}): ratio ${ratio.toFixed(2)}`,
    );
  });
});

// ---------------------------------------------------------------------------

/** Durations of the workflow's durable timers, in start order, in seconds. */
async function timerSeconds(workflowId: string): Promise<number[]> {
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const timeout = event.timerStartedEventAttributes?.startToFireTimeout;
    return timeout ? [Number(String(timeout.seconds ?? 0)) + (timeout.nanos ?? 0) / 1e9] : [];
  });
}

/** The signals a workflow received, as `name at +seconds from its start`: what cut a wait short. */
async function signalsReceived(workflowId: string): Promise<string[]> {
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  const startedAt = Number(String(history.events?.[0]?.eventTime?.seconds ?? 0));
  return (history.events ?? []).flatMap((event) => {
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (!signal) return [];
    const at = Number(String(event.eventTime?.seconds ?? 0)) - startedAt;
    const input = (signal.input?.payloads ?? []).map((payload) => Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')).join(', ');
    return [`${signal.signalName} at +${at} s ${input}`];
  });
}

// These two do not share anything (the missing ID's calls are told apart by
// their content, the black hole has its own endpoint), so they run side by
// side to keep the file short.
describe('a missing ID and a dead endpoint', { concurrency: true }, () => {
  test('a Subnet in a VPC ID that does not exist waits with DependencyNotFound, looks ever less often, and deletes at once', async () => {
    const name = 'missing-vpc-subnet';
    const missingVpc = 'vpc-0123456789abcdef0';
    const owner = `Subnet/default/${name}`;
    const workflowId = `Subnet/default/${name}`;
    const times: number[] = [];
    const operations: string[] = [];
    const mentionsIt = (call: ProxyCall): boolean => {
      if (call.service !== 'ec2') return false;
      // EC2 speaks query: the form's values, decoded (URLSearchParams never throws on odd input).
      const values = [...new URLSearchParams(call.body.toString('utf8')).values()];
      return values.some((value) => value === missingVpc || value === owner);
    };
    const stopRecording = h.proxy.intercept((call) => {
      if (mentionsIt(call)) {
        times.push(Date.now());
        operations.push(call.operation);
      }
      return undefined;
    });
    try {
      const applied = Date.now();
      await h.apply(`
apiVersion: ${API}
kind: Subnet
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  vpcID: ${missingVpc}
  cidrBlock: "10.63.1.0/24"
  availabilityZone: us-east-1a
`);
      const waiting = await h.until('the subnet Waiting with DependencyNotFound', async () => {
        const subnet = await h.get('subnets', name);
        return subnet?.status?.phase === 'Waiting' && readyCondition(subnet)?.reason === 'DependencyNotFound' ? subnet : null;
      }, 60_000);
      assert.equal(waiting.status?.ready, false);
      assert.match(readyCondition(waiting)?.message ?? '', new RegExp(missingVpc), 'the message names the missing ID');

      // Watch about a minute of passes: until the workflow settles into a
      // wait of 64 s or more, which a backoff of 1, 2, 4 … s reaches after
      // about 63 s. A fixed interval would instead look every few seconds.
      const timers = await h.until('a wait of 64 s or more', async () => {
        const seconds = await timerSeconds(workflowId);
        return seconds.some((s) => s >= 64) ? seconds : null;
      }, 110_000);
      const windowMs = Date.now() - applied;
      const calls = times.length;
      // Each pass ends with one CreateSubnet, which AWS refuses: its times are the passes'.
      const starts = times.filter((_time, i) => operations[i] === 'CreateSubnet');
      const gaps = starts.slice(1).map((start, i) => (start - starts[i]) / 1000);
      console.log(
        `missing ID: ${calls} EC2 calls in ${(windowMs / 1000).toFixed(0)} s over ${starts.length} passes; ` +
          `gaps between passes ${gaps.map((g) => g.toFixed(1)).join(', ')} s; timers ${timers.join(', ')} s; ` +
          `calls ${operations.join(' ')}`,
      );
      const signals = await signalsReceived(workflowId);
      for (let i = 1; i < timers.length; i++) {
        assert.ok(timers[i] >= timers[i - 1], `waits never shrink: ${timers.join(', ')} s`);
      }
      assert.ok(timers.length <= 8, `at most 8 passes before a 64 s wait: ${timers.join(', ')} s`);
      assert.ok(starts.length <= 8, `${starts.length} passes of calls in ${(windowMs / 1000).toFixed(0)} s`);
      assert.ok(calls <= 24, `${calls} EC2 calls for the missing VPC in ${(windowMs / 1000).toFixed(0)} s; at most 3 per pass`);
      // A signal may cut one wait short (the watcher's first re-list of an
      // object it first saw through a watch event signals it once), so
      // this asks that the gaps grow overall, not each one.
      assert.ok(
        gaps.length >= 4 && Math.max(...gaps) >= 8 * gaps[0],
        `the gaps between passes grow: ${gaps.map((g) => g.toFixed(1)).join(', ')} s; signals received: ${signals.join('; ')}`,
      );
      console.log(`missing ID: signals received: ${signals.join('; ') || 'none'}`);

      await h.kubectl(['delete', 'subnet', name, '--timeout=60s']);
      assert.equal(await h.get('subnets', name), null);
      const left = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: `tag:${OWNER_TAG}`, Values: [owner] }] }));
      assert.equal(left.Subnets?.length ?? 0, 0, 'nothing was created');
    } finally {
      stopRecording();
    }
  });

  test('a provider whose endpoint accepts connections and never answers is Unreachable, naming it, within a minute', async () => {
    const sockets = new Set<net.Socket>();
    const blackHole = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const address = blackHole.address();
    assert.ok(address && typeof address === 'object');
    const endpoint = `http://127.0.0.1:${address.port}`;
    try {
      const applied = performance.now();
      await h.apply(`
apiVersion: v1
kind: Secret
metadata: { name: black-hole-credentials, namespace: default }
type: Opaque
stringData: { id: AKIABLACKHOLETEST001, secret: ${h.secretAccessKey} }
---
apiVersion: ${API}
kind: AWSProvider
metadata: { name: black-hole, namespace: default }
spec:
  region: us-east-1
  endpoint: ${endpoint}
  accessKeyIDRef: { name: black-hole-credentials, key: id }
  secretAccessKeyRef: { name: black-hole-credentials, key: secret }
`);
      const provider = await h.until('the provider Unreachable', async () => {
        const object = await h.get('awsproviders', 'black-hole');
        return readyCondition(object)?.reason === 'Unreachable' ? object : null;
      }, 60_000);
      const elapsed = performance.now() - applied;
      console.log(`black hole: apply -> Ready=False Unreachable in ${(elapsed / 1000).toFixed(1)} s, ${sockets.size} connections held open`);
      assert.equal(provider.status?.ready, false);
      assert.equal(readyCondition(provider)?.status, 'False');
      assert.ok(readyCondition(provider)?.message.includes(endpoint), `the message names ${endpoint}: ${readyCondition(provider)?.message}`);

      const deleteStarted = performance.now();
      await h.kubectl(['delete', 'awsprovider', 'black-hole', '--timeout=60s']);
      assert.equal(await h.get('awsproviders', 'black-hole'), null);
      console.log(`black hole: provider (Orphan) deleted in ${((performance.now() - deleteStarted) / 1000).toFixed(1)} s`);
      await h.kubectl(['delete', 'secret', 'black-hole-credentials', '--timeout=60s']);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => blackHole.close(() => resolve()));
    }
  });
});
