/**
 * A kind AWS lists in bulk, at rest: one VPC and N SecurityGroups in it
 * (default 200), Ready, then left alone for a while with the default sweep
 * and resync intervals. Counts, per resource-hour, the AWS calls (all
 * reads: the drift sweep's one filtered Describe* per provider and kind),
 * the Kubernetes writes and the Temporal actions, and writes them to
 * bench/results-at-rest-bulk.md.
 *
 *   npx tsx bench/at-rest-bulk.ts [groups] [restSeconds]     (defaults 200 and 900)
 *
 * Each resource's own look, the safety net, comes once a day
 * (SAFETY_RESYNC_SECONDS 86400) and not inside a window this short: its
 * share, one observe per resource-day, is given beside the measured rate.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { API_GROUP, API_VERSION } from '../crds/index.js';
import { workflowIdFor } from '../contract/identity.js';
import { providerName, readyCondition, startHarness } from '../test/support/harness.js';
import { apiServerRequests, difference, historyCounts, pool, sum, WRITE_VERBS } from './support.js';

const groups = Number(process.argv[2] ?? 200);
const restSeconds = Number(process.argv[3] ?? 900);
const output = process.env.BENCH_OUTPUT ?? fileURLToPath(new URL('./results-at-rest-bulk.md', import.meta.url));
const h = await startHarness({ RESYNC_SECONDS: '300', SWEEP_SECONDS: '300' });
const lines: string[] = [];
function say(line = ''): void {
  console.log(line);
  lines.push(line);
}

const vpc = {
  apiVersion: `${API_GROUP}/${API_VERSION}`,
  kind: 'VPC',
  metadata: { name: 'rest-vpc', namespace: 'default' },
  spec: { providerRef: { name: providerName }, cidrBlock: '10.60.0.0/16', deletionPolicy: 'Delete' },
};
const names = Array.from({ length: groups }, (_, i) => `rest-sg-${i}`);
const groupManifest = (name: string) => ({
  apiVersion: `${API_GROUP}/${API_VERSION}`,
  kind: 'SecurityGroup',
  metadata: { name, namespace: 'default' },
  spec: {
    providerRef: { name: providerName },
    groupName: name,
    description: 'at-rest benchmark',
    vpcRef: { name: 'rest-vpc' },
    ingressRules: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrBlocks: ['10.60.0.0/16'], description: 'https' }],
    deletionPolicy: 'Delete',
  },
});

try {
  await h.until('provider Ready', async () => (await h.get('awsproviders', providerName))?.status?.ready === true, 120_000);
  await h.apply(JSON.stringify(vpc));
  await pool(names, 16, async (name) => h.apply(JSON.stringify(groupManifest(name))));
  const resources = [{ kind: 'VPC', name: 'rest-vpc' }, ...names.map((name) => ({ kind: 'SecurityGroup', name }))];
  await h.until(
    'every resource Ready',
    async () => {
      const list = JSON.parse(await h.kubectl(['get', 'securitygroups,vpcs', '-n', 'default', '-o', 'json'])) as { items: unknown[] };
      return list.items.filter((item) => readyCondition(item as Parameters<typeof readyCondition>[0])?.status === 'True').length >= resources.length;
    },
    900_000,
  );
  // One sweep interval first, so every workflow has gone to its safety-net sleep.
  await new Promise((resolve) => setTimeout(resolve, 330_000));
  const callsBefore = h.proxy.calls.length;
  const kubeBefore = await apiServerRequests(h);
  const since = Date.now();
  await new Promise((resolve) => setTimeout(resolve, restSeconds * 1000));
  const calls = h.proxy.calls.slice(callsBefore);
  const writes = sum(difference(await apiServerRequests(h), kubeBefore), WRITE_VERBS);
  let events = 0;
  let actions = 0;
  await pool(resources, 8, async ({ kind, name }) => {
    const counts = await historyCounts(h.temporal, workflowIdFor({ kind, namespace: 'default', name }), since);
    events += counts.events;
    actions += counts.actions;
  });
  const byOperation = new Map<string, number>();
  for (const call of calls) byOperation.set(call.operation, (byOperation.get(call.operation) ?? 0) + 1);
  const hours = restSeconds / 3600;
  const perResourceHour = (value: number) => (value / resources.length / hours).toFixed(3);
  const cpus = os.cpus();
  say('# At rest: a kind AWS lists in bulk');
  say();
  say(`Written by \`npx tsx bench/at-rest-bulk.ts ${groups} ${restSeconds}\` on ${new Date().toISOString()}.`);
  say(`Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, Linux ${os.release()}, Node.js ${process.version}; the test harness's stack.`);
  say(`Knobs: operator defaults with RESYNC_SECONDS=300, SWEEP_SECONDS=300, SAFETY_RESYNC_SECONDS 86400 (the default).`);
  say();
  say(`1 VPC and ${groups} SecurityGroups, all Ready, then ${restSeconds} s at rest (after one sweep interval to settle).`);
  say();
  say('| per resource-hour | value |');
  say('|---|---|');
  say(`| AWS calls (all reads) | ${perResourceHour(calls.length)}: ${[...byOperation.entries()].map(([operation, count]) => `${operation} ${count}`).join(', ') || 'none'} in ${restSeconds} s |`);
  say(`| plus the safety net's own look (one observe per resource-day) | 1/24 observe = 0.042 observes |`);
  say(`| Kubernetes writes (our kinds, Events, Secrets) | ${perResourceHour(writes)} |`);
  say(`| Temporal actions (history events) | ${perResourceHour(actions)} (${perResourceHour(events)}) |`);
  say();
  await writeFile(output, `${lines.join('\n')}\n`);
} finally {
  await h.teardown();
}

