/**
 * The watcher's memory alone, on a throwaway real stack, as bench/load.ts's
 * `watcherAt` measures it but in minutes rather than an hour: the worker
 * stopped, N SQSQueues created, every one's workflow started (its signal
 * reached Temporal); then the same 30 s later, after the next periodic
 * re-list (the harness's RELIST_SECONDS, 120), and after a restart of the
 * watcher (its first list signals every object again).
 * Each step prints RSS, its peak so far (VmHWM), and the V8 heap and
 * external memory from the watcher's /metrics, all in MiB.
 *
 *   npm run bench:watcher -- [objects]     (default 10000)
 *
 * OPERATOR_DIST=<tsc output> runs the operator compiled, as the image does.
 */
import { performance } from 'node:perf_hooks';
import { API_GROUP, API_VERSION, kindDefinition } from '../crds/index.js';
import { kubeClients, kubeConfigFromFiles } from '../kube/client.js';
import { providerName, startHarness } from '../test/support/harness.js';
import { pool, residentMiB } from './support.js';

const objects = Number(process.argv[2] ?? 10_000);
/** Creates in flight at once, as bench/load.ts makes them. */
const CONCURRENCY = 16;
const NAMESPACE = 'default';
const KIND = 'SQSQueue';

// The harness's short test intervals back to the defaults, as bench/load.ts sets them.
const h = await startHarness({ RESYNC_SECONDS: '300', SWEEP_SECONDS: '300' });
const kube = kubeClients(kubeConfigFromFiles([h.stack.kubeconfigPath]));

async function createQueues(names: string[]): Promise<void> {
  await pool(names, CONCURRENCY, async (name) => {
    await kube.custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: NAMESPACE,
      plural: kindDefinition(KIND).plural,
      body: {
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind: KIND,
        metadata: { name, namespace: NAMESPACE },
        spec: { providerRef: { name: providerName }, queueName: name, deletionPolicy: 'Delete' },
      },
    });
  });
}

/** The watcher's /metrics as name{labels} → value. */
async function watcherMetrics(): Promise<Map<string, number>> {
  const text = await (await fetch(`${h.operator.httpURL('watcher')}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** The sum of every series of `name` whose labels include all of `labels`. */
function total(metrics: Map<string, number>, name: string, labels: string[] = []): number {
  let sum = 0;
  for (const [series, value] of metrics) {
    if ((series === name || series.startsWith(`${name}{`)) && labels.every((label) => series.includes(label))) sum += value;
  }
  return sum;
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

async function report(step: string): Promise<void> {
  const { rss, peak } = await residentMiB(h.operator.pid('watcher'));
  const metrics = await watcherMetrics();
  const heap = (name: string) => mib(total(metrics, `infra_operator_nodejs_heap_size_${name}_bytes`));
  const space = (name: string) =>
    ['used', 'total'].map((measure) => mib(total(metrics, `infra_operator_nodejs_heap_space_size_${measure}_bytes`, [`space="${name}"`]))).join(' / ');
  console.log(
    `| ${step} | ${rss.toFixed(0)} | ${peak.toFixed(0)} | ${heap('used')} / ${heap('total')} | ${space('new')} | ${space('old')} | ${space('large_object')} | ${mib(total(metrics, 'infra_operator_nodejs_external_memory_bytes'))} |`,
  );
}

/** Objects of our kind the watcher has received from lists so far. */
async function listedSoFar(): Promise<number> {
  return total(await watcherMetrics(), 'infra_operator_watch_events_total', [`kind="${KIND}"`, 'type="listed"']);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${h.operator.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

const workflowsStarted = async () => (await h.temporal.workflow.count(`ResourceKind = '${KIND}'`)).count;

try {
  await h.until('provider Ready', async () => (await h.get('awsproviders', providerName))?.status?.ready === true, 120_000);
  await h.operator.stop(['worker']);
  console.log(`Watcher holding ${objects} ${KIND}s (${process.env.OPERATOR_DIST ? `compiled: ${process.env.OPERATOR_DIST}` : 'through tsx'})`);
  console.log();
  console.log('| step | RSS | peak RSS | heap used / total | new space used / total | old space | large objects | external |');
  console.log('|---|---|---|---|---|---|---|---|');
  await report('idle, 0 objects');

  const started = performance.now();
  await createQueues(Array.from({ length: objects }, (_, i) => `watch-${i}`));
  await until(`${objects} workflows`, async () => (await workflowsStarted()) >= objects, 1_800_000);
  await report(`${objects} dispatched (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  // V8's memory reducer gives back heap once allocation has been quiet for a while.
  await new Promise((resolve) => setTimeout(resolve, 30_000));
  await report('30 s later, at rest');

  // The harness re-lists every RELIST_SECONDS (120): wait for the next one to finish.
  const listedBefore = await listedSoFar();
  await until('the next re-list', async () => (await listedSoFar()) >= listedBefore + objects, 300_000);
  await report('after a re-list');

  await h.operator.stop(['watcher']);
  await h.operator.start(['watcher']);
  await h.until('watcher ready', async () => (await fetch(`${h.operator.httpURL('watcher')}/readyz`).catch(() => undefined))?.ok === true, 120_000);
  await until('every object signalled again', async () => {
    const sent = total(await watcherMetrics(), 'infra_operator_signals_total', [`kind="${KIND}"`, 'outcome="sent"']);
    return sent >= objects;
  }, 1_800_000);
  await report('restarted, first list signalled');
} finally {
  await h.teardown();
}
