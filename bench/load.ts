/**
 * The engine under load, on a throwaway real stack: N SQSQueues and N
 * S3Buckets applied at once, against the same creates made directly with
 * the SDK in the same run (the floor); then the whole population at rest;
 * then the watcher holding 10,000 custom resources. Prints every number and
 * writes them to bench/results.md with the machine's description.
 *
 *   npm run bench -- [sizes] [restSeconds] [watcherObjects]
 *   (defaults: 100,1000  600  10000; 0 skips the rest or the watcher part)
 *
 * BENCH_KINDS=SQSQueue runs one kind; BENCH_OUTPUT=<file> writes elsewhere
 * than bench/results.md, for a quick look that must not replace it;
 * BENCH_PROCESSES=operator runs both parts in one process (operator/main.ts),
 * where the watcher-alone part does not apply.
 *
 * Each load run has two floors: the creates made directly with the SDK, and
 * the engine floor (engine-floor/run.ts), the same creates each made by the
 * least workflow per resource, which is what Temporal alone costs.
 *
 * Knobs it uses are the operator's defaults, except RESYNC_SECONDS and
 * SWEEP_SECONDS, which the test harness lowers to seconds and this sets back
 * to the default 300. OPERATOR_DIST=<tsc output> runs the operator compiled.
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand, PutBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { API_GROUP, API_VERSION, kindDefinition } from '../crds/index.js';
import { workflowIdFor } from '../contract/identity.js';
import { kubeClients, kubeConfigFromFiles } from '../kube/client.js';
import { providerName, startHarness } from '../test/support/harness.js';
import { engineFloor } from './engine-floor/run.js';
import { apiServerRequests, difference, historyCounts, pool, residentMiB, sum, WRITE_VERBS, type HistoryCounts } from './support.js';

const sizes = (process.argv[2] ?? '100,1000').split(',').map(Number);
const restSeconds = Number(process.argv[3] ?? 600);
const watcherObjects = Number(process.argv[4] ?? 10_000);
/** Creates in flight at once, for the operator's API writes and for the floor alike. */
const CONCURRENCY = 16;
const NAMESPACE = 'default';

type BenchKind = 'SQSQueue' | 'S3Bucket';
// BENCH_KINDS=SQSQueue (say) measures one kind only, for a quick look at one change.
const benchKinds = (process.env.BENCH_KINDS ?? 'SQSQueue,S3Bucket').split(',') as BenchKind[];
/** BENCH_OUTPUT: where the results go; a partial run should not overwrite the committed ones. */
const output = process.env.BENCH_OUTPUT ?? fileURLToPath(new URL('./results.md', import.meta.url));


/** BENCH_PROCESSES=operator: both parts in one process (operator/main.ts) instead of worker and watcher. */
const singleProcess = process.env.BENCH_PROCESSES === 'operator';
// The harness's short test intervals back to the defaults: drift checks at their real pace.
const h = await startHarness({ RESYNC_SECONDS: '300', SWEEP_SECONDS: '300' }, {}, singleProcess ? ['operator'] : ['worker', 'watcher']);
const kube = kubeClients(kubeConfigFromFiles([h.stack.kubeconfigPath]));
const awsClientConfig = {
  region: 'us-east-1',
  endpoint: h.proxy.url,
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
};
const sqs = new SQSClient(awsClientConfig);
const s3 = new S3Client({ ...awsClientConfig, forcePathStyle: true });
const lines: string[] = [];

function say(line = ''): void {
  console.log(line);
  lines.push(line);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** CPU seconds (user + system) a process has used, from /proc. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  // utime and stime, fields 14 and 15 of stat, in clock ticks (USER_HZ, 100 on Linux).
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function rssMiB(pid: number | undefined): Promise<number> {
  return (await residentMiB(pid)).rss;
}

/** The process whose command line contains `needle` (the stack's servers, found by their port). */
async function pidOf(needle: string): Promise<number | undefined> {
  const { readdir } = await import('node:fs/promises');
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.replace(/\0/g, ' ').includes(needle) && Number(entry) !== process.pid) return Number(entry);
  }
  return undefined;
}

interface Pids {
  worker?: number;
  watcher?: number;
  temporal?: number;
  moto?: number;
}

async function pids(): Promise<Pids> {
  return {
    // The one process stands for the worker: it runs the worker's part, and the watcher's beside it.
    worker: h.operator.pid(singleProcess ? 'operator' : 'worker'),
    watcher: singleProcess ? undefined : h.operator.pid('watcher'),
    temporal: await pidOf(`--port ${h.stack.ports.temporal}`),
    moto: await pidOf(`${h.stack.ports.moto}`),
  };
}

async function cpuOf(p: Pids): Promise<Record<keyof Pids, number>> {
  return {
    worker: await cpuSeconds(p.worker),
    watcher: await cpuSeconds(p.watcher),
    temporal: await cpuSeconds(p.temporal),
    moto: await cpuSeconds(p.moto),
  };
}


function manifest(kind: BenchKind, name: string): Record<string, unknown> {
  const spec = kind === 'SQSQueue' ? { queueName: name } : { bucketName: name };
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind,
    metadata: { name, namespace: NAMESPACE },
    spec: { providerRef: { name: providerName }, ...spec, deletionPolicy: 'Delete' },
  };
}

async function createObjects(kind: BenchKind, names: string[]): Promise<Map<string, number>> {
  const created = new Map<string, number>();
  await pool(names, CONCURRENCY, async (name) => {
    await kube.custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: NAMESPACE,
      plural: kindDefinition(kind).plural,
      body: manifest(kind, name),
    });
    created.set(name, performance.now());
  });
  return created;
}

interface Listed {
  metadata: { name: string; generation: number };
  status?: { ready?: boolean; observedGeneration?: number };
}

/** Polls a list of the kind until every name is Ready; returns when each was first seen Ready. Counts its own lists. */
async function waitAllReady(kind: BenchKind, names: Set<string>, timeoutMs: number): Promise<{ readyAt: Map<string, number>; lists: number }> {
  const readyAt = new Map<string, number>();
  const deadline = performance.now() + timeoutMs;
  let lists = 0;
  while (readyAt.size < names.size) {
    if (performance.now() > deadline) throw new Error(`${kind}: ${readyAt.size}/${names.size} Ready after ${timeoutMs} ms`);
    const list = (await kube.custom.listNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: NAMESPACE,
      plural: kindDefinition(kind).plural,
    })) as { items: Listed[] };
    lists++;
    const now = performance.now();
    for (const item of list.items) {
      const name = item.metadata.name;
      if (names.has(name) && !readyAt.has(name) && item.status?.ready === true && item.status.observedGeneration === item.metadata.generation) {
        readyAt.set(name, now);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { readyAt, lists };
}

const ownerTags = { 'aws-infra-operator.runner.codes/owner': 'bench', 'aws-infra-operator.runner.codes/cluster': 'bench' };

/** One create as AWS needs it, made directly with the SDK: the unit of both floors. */
async function createDirect(kind: BenchKind, name: string): Promise<void> {
  if (kind === 'SQSQueue') {
    await sqs.send(new CreateQueueCommand({ QueueName: name, tags: ownerTags }));
  } else {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutBucketTaggingCommand({ Bucket: name, Tagging: { TagSet: Object.entries(ownerTags).map(([Key, Value]) => ({ Key, Value })) } }));
  }
}

async function deleteDirect(kind: BenchKind, names: string[]): Promise<void> {
  await pool(names, CONCURRENCY, async (name) => {
    if (kind === 'SQSQueue') {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: `${h.proxy.url}/123456789012/${name}` })).catch(() => undefined);
    } else {
      await s3.send(new DeleteBucketCommand({ Bucket: name })).catch(() => undefined);
    }
  });
}

/** The floor: the same creates, made directly with the SDK through the same proxy, as many at once as the operator's activities. */
async function floor(kind: BenchKind, names: string[]): Promise<{ ms: number; calls: number }> {
  const callsBefore = h.proxy.calls.length;
  const started = performance.now();
  await pool(names, CONCURRENCY, (name) => createDirect(kind, name));
  const ms = performance.now() - started;
  const calls = h.proxy.calls.length - callsBefore;
  await deleteDirect(kind, names);
  return { ms, calls };
}

async function historiesOf(kind: BenchKind, names: string[], since = 0): Promise<HistoryCounts> {
  const total: HistoryCounts = { events: 0, actions: 0, workflowTaskTimeouts: 0 };
  await pool(names, 8, async (name) => {
    const counts = await historyCounts(h.temporal, workflowIdFor({ kind, namespace: NAMESPACE, name }), since);
    total.events += counts.events;
    total.actions += counts.actions;
    total.workflowTaskTimeouts += counts.workflowTaskTimeouts;
  });
  return total;
}

function workerLogTimeouts(): number {
  return h.operator.output.join('').split('\n').filter((line) => /Workflow task (not found|duration exceeded)|untracked local activity|WorkflowTaskTimedOut/i.test(line)).length;
}

interface Population {
  kind: BenchKind;
  names: string[];
}
const population: Population[] = [];

async function loadRun(kind: BenchKind, size: number): Promise<void> {
  const tag = `${kind === 'SQSQueue' ? 'q' : 'b'}${size}-${Date.now().toString(36)}`;
  const names = Array.from({ length: size }, (_, i) => `bench-${tag}-${i}`);
  const floorResult = await floor(kind, names.map((name) => `floor-${name}`));
  const processes = await pids();
  const engineNames = names.map((name) => `engine-${name}`);
  const temporalCpuBeforeEngine = await cpuSeconds(processes.temporal);
  const engine = await engineFloor(h.temporal, h.stack.temporalAddress, engineNames, (name) => createDirect(kind, name));
  const engineTemporalCpu = (await cpuSeconds(processes.temporal)) - temporalCpuBeforeEngine;
  await deleteDirect(kind, engineNames);

  const cpuBefore = await cpuOf(processes);
  const kubeBefore = await apiServerRequests(h);
  const callsBefore = h.proxy.calls.length;
  const logTimeoutsBefore = workerLogTimeouts();
  const started = performance.now();
  const createdAt = await createObjects(kind, names);
  const { readyAt, lists } = await waitAllReady(kind, new Set(names), 1_800_000);
  const totalMs = Math.max(...readyAt.values()) - started;
  const cpuAfter = await cpuOf(processes);
  const kubeRequests = difference(await apiServerRequests(h), kubeBefore);
  const calls = h.proxy.calls.slice(callsBefore);
  const perResource = names.map((name) => (readyAt.get(name) ?? NaN) - (createdAt.get(name) ?? NaN));
  const histories = await historiesOf(kind, names);
  population.push({ kind, names });

  // Only the calls naming this run's resources: the earlier runs' resources
  // go on being checked meanwhile (their resyncs), and are not this run's cost.
  const runPrefix = `bench-${tag}-`;
  const ownCalls = calls.filter((call) => call.path.includes(runPrefix) || call.body.includes(runPrefix));
  const byOperation = new Map<string, number>();
  for (const call of ownCalls) byOperation.set(call.operation, (byOperation.get(call.operation) ?? 0) + 1);
  const operations = [...byOperation.entries()].sort((a, b) => b[1] - a[1]).map(([operation, count]) => `${operation} ${(count / size).toFixed(2)}`);
  // The bench's own requests: one create per object and its list polls.
  const ownRequests = size + lists;
  const operatorKube = sum(kubeRequests) - ownRequests;
  const cpu = (name: keyof Pids) => cpuAfter[name] - cpuBefore[name];

  say(`### ${size} × ${kind}, applied at once`);
  say();
  say(`| measure | value |`);
  say(`|---|---|`);
  say(`| all Ready | ${(totalMs / 1000).toFixed(1)} s |`);
  say(`| direct-SDK floor (same creates, ${CONCURRENCY} at once) | ${(floorResult.ms / 1000).toFixed(1)} s |`);
  say(`| ratio to the floor | ${(totalMs / floorResult.ms).toFixed(2)}x |`);
  say(
    `| engine floor (the same creates, each by the least workflow per resource: SignalWithStart, one activity, a timer; no Kubernetes) | ` +
      `${(engine.ms / 1000).toFixed(1)} s, ${(engine.ms / floorResult.ms).toFixed(2)}x the SDK floor; CPU s per create: Temporal ${(engineTemporalCpu / size).toFixed(3)}, its worker ${(engine.workerCpuSeconds / size).toFixed(3)} |`,
  );
  say(`| ratio to the engine floor | ${(totalMs / engine.ms).toFixed(2)}x |`);
  say(`| per resource, create → Ready | p50 ${(percentile(perResource, 50) / 1000).toFixed(2)} s, p99 ${(percentile(perResource, 99) / 1000).toFixed(2)} s |`);
  say(`| resources per second | ${(size / (totalMs / 1000)).toFixed(1)} |`);
  say(`| AWS calls per create (naming this run's resources) | ${(ownCalls.length / size).toFixed(2)} (floor ${(floorResult.calls / size).toFixed(2)}): ${operations.join(', ')} |`);
  say(`| other AWS calls during the run (earlier runs' resyncs, the provider) | ${calls.length - ownCalls.length} |`);
  say(`| Kubernetes requests per create (operator's, at the API server) | ${(operatorKube / size).toFixed(2)} (writes ${((sum(kubeRequests, WRITE_VERBS) - size) / size).toFixed(2)}) |`);
  say(`| Temporal history events per create | ${(histories.events / size).toFixed(1)} |`);
  say(`| Temporal actions per create | ${(histories.actions / size).toFixed(1)} |`);
  say(`| workflow-task timeouts (histories / worker log) | ${histories.workflowTaskTimeouts} / ${workerLogTimeouts() - logTimeoutsBefore} |`);
  if (singleProcess) {
    say(`| CPU seconds per resource (operator, Temporal, moto) | ${(cpu('worker') / size).toFixed(3)}, ${(cpu('temporal') / size).toFixed(3)}, ${(cpu('moto') / size).toFixed(3)} |`);
    say(`| RSS after (one process: worker and watcher parts) | ${(await rssMiB(processes.worker)).toFixed(0)} MiB |`);
  } else {
    say(`| CPU seconds per resource (worker, watcher, Temporal, moto) | ${(cpu('worker') / size).toFixed(3)}, ${(cpu('watcher') / size).toFixed(3)}, ${(cpu('temporal') / size).toFixed(3)}, ${(cpu('moto') / size).toFixed(3)} |`);
    say(`| RSS after (worker + watcher) | ${(await rssMiB(processes.worker)).toFixed(0)} + ${(await rssMiB(processes.watcher)).toFixed(0)} MiB |`);
  }
  say();
}

async function atRest(): Promise<void> {
  const resources = population.reduce((total, { names }) => total + names.length, 0);
  const processes = await pids();
  const kubeBefore = await apiServerRequests(h);
  const callsBefore = h.proxy.calls.length;
  const since = Date.now();
  await new Promise((resolve) => setTimeout(resolve, restSeconds * 1000));
  const kubeRequests = difference(await apiServerRequests(h), kubeBefore);
  const calls = h.proxy.calls.slice(callsBefore);
  let events = 0;
  let actions = 0;
  for (const { kind, names } of population) {
    const counts = await historiesOf(kind, names, since);
    events += counts.events;
    actions += counts.actions;
  }
  const hours = restSeconds / 3600;
  const perResourceHour = (value: number) => (value / resources / hours).toFixed(3);
  say(`### At rest: ${resources} resources for ${restSeconds} s`);
  say();
  say(`| per resource-hour | value |`);
  say(`|---|---|`);
  say(`| Temporal actions | ${perResourceHour(actions)} |`);
  say(`| Temporal history events | ${perResourceHour(events)} |`);
  say(`| AWS calls (all reads) | ${perResourceHour(calls.length)} |`);
  say(`| Kubernetes requests to our kinds, Events and Secrets (writes) | ${perResourceHour(sum(kubeRequests))} (${perResourceHour(sum(kubeRequests, WRITE_VERBS))}) |`);
  say(
    singleProcess
      ? `| RSS (one process) | ${(await rssMiB(processes.worker)).toFixed(0)} MiB |`
      : `| RSS (worker + watcher) | ${(await rssMiB(processes.worker)).toFixed(0)} + ${(await rssMiB(processes.watcher)).toFixed(0)} MiB |`,
  );
  say();
}

/** The watcher alone holding `total` objects: the worker stopped, so only its own cache and dispatch are measured. */
async function watcherAt(total: number): Promise<void> {
  await h.operator.stop(['worker']);
  const existing = population.reduce((count, { names }) => count + names.length, 0);
  const names = Array.from({ length: Math.max(0, total - existing) }, (_, i) => `watch-${i}`);
  await createObjects('SQSQueue', names);
  // Dispatched: every object's workflow exists (its signal reached Temporal).
  const deadline = performance.now() + 1_800_000;
  for (;;) {
    const { count } = await h.temporal.workflow.count(`ResourceKind = 'SQSQueue' OR ResourceKind = 'S3Bucket'`);
    if (count >= total) break;
    if (performance.now() > deadline) throw new Error(`only ${count} of ${total} workflows started`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  say(`### Watcher holding ${total} custom resources`);
  say();
  say(`| measure | value |`);
  say(`|---|---|`);
  say(`| watcher RSS | ${(await rssMiB(h.operator.pid('watcher'))).toFixed(0)} MiB |`);
  say();
}

/**
 * How long a dependent waits after its dependency turns Ready: the network
 * example's subnets, from the moment their VPC is seen Ready (polled every
 * 50 ms) to the first CreateSubnet reaching AWS.
 */
async function dependentWake(): Promise<void> {
  const file = fileURLToPath(new URL('../examples/network.yaml', import.meta.url));
  let firstCreateSubnet: number | undefined;
  const remove = h.proxy.intercept((call) => {
    if (call.operation === 'CreateSubnet' && firstCreateSubnet === undefined) firstCreateSubnet = performance.now();
    return undefined;
  });
  await h.kubectl(['apply', '-f', file]);
  const vpcName = 'app-vpc';
  let vpcReady: number | undefined;
  const deadline = performance.now() + 300_000;
  while (vpcReady === undefined && performance.now() < deadline) {
    const vpc = (await kube.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: NAMESPACE, plural: 'vpcs', name: vpcName }).catch(() => null)) as Listed | null;
    if (vpc?.status?.ready === true) vpcReady = performance.now();
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await h.until('first subnet created', async () => firstCreateSubnet !== undefined, 120_000);
  remove();
  await h.kubectl(['delete', '-f', file, '--wait=true', '--timeout=300s']);
  say(`### Dependent wake-up (examples/network.yaml)`);
  say();
  say(`| measure | value |`);
  say(`|---|---|`);
  say(`| VPC seen Ready → first CreateSubnet | ${(((firstCreateSubnet ?? NaN) - (vpcReady ?? NaN)) / 1000).toFixed(2)} s (50 ms polling) |`);
  say();
}

try {
  await h.until('provider Ready', async () => (await h.get('awsproviders', providerName))?.status?.ready === true, 120_000);
  const cpus = os.cpus();
  say(`# Benchmark results`);
  say();
  say(`Written by \`npm run bench -- ${sizes.join(',')} ${restSeconds} ${watcherObjects}\` (bench/load.ts) on ${new Date().toISOString()}.`);
  say();
  say(`Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node.js ${process.version}.`);
  say(`Stack: the test harness's throwaway stack (kube-apiserver + etcd, Temporal CLI dev server, moto behind the counting proxy), as \`npm test\` runs it.`);
  say(
    process.env.OPERATOR_DIST
      ? `Operator: compiled (OPERATOR_DIST=${process.env.OPERATOR_DIST}), as the image runs it.`
      : 'Operator: from source through tsx (set OPERATOR_DIST to a tsc build to measure it as the image runs it).',
  );
  say(`Processes: ${singleProcess ? 'one, both parts (BENCH_PROCESSES=operator, operator/main.ts)' : 'worker and watcher'}.`);
  say(`Knobs: operator defaults (worker slots from cores, watcher MAX_INFLIGHT_SIGNALS, sweep intervals) with RESYNC_SECONDS=300 and SWEEP_SECONDS=300 (the test harness lowers both); creates ${CONCURRENCY} at once for both the operator's objects and the floor.`);
  say();
  await dependentWake();
  for (const kind of benchKinds) {
    for (const size of sizes) await loadRun(kind, size);
  }
  if (restSeconds > 0) await atRest();
  if (watcherObjects > 0 && !singleProcess) await watcherAt(watcherObjects);
  await writeFile(output, `${lines.join('\n')}\n`);
} finally {
  await h.teardown();
}
