/**
 * Probes, metrics and watcher leader election on the real stack: the
 * processes' /readyz and /metrics after an S3Bucket reaches Ready, the
 * Temporal SDK's own metrics, and two watchers of which the leader is
 * killed with SIGKILL while a resource is applied; then both parts in one
 * process (operator/main.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { providerName, readyCondition, startHarness, type Harness } from '../support/harness.js';
import type { Operator, OperatorProcess } from '../support/operator.js';

let h: Harness;

function bucketYaml(name: string): string {
  return `
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: S3Bucket
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  bucketName: ${name}
`;
}

/** The sum of a metric's samples whose labels include `labels`, from Prometheus text. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) sum += Number(match[3]);
  }
  return sum;
}

/** A metric's lines, for failure messages. */
function lines(text: string, name: string): string {
  return text.split('\n').filter((line) => line.startsWith(name)).join('\n');
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `${url} answers`);
  return response.text();
}

async function readyz(operator: Operator, name: OperatorProcess): Promise<{ status: number; detail: string }> {
  try {
    const response = await fetch(`${operator.httpURL(name)}/readyz`);
    return { status: response.status, detail: ((await response.json()) as { detail: string }).detail };
  } catch {
    return { status: 0, detail: 'not answering' };
  }
}

async function ready(name: string, timeoutMs = 60_000) {
  return h.until(`s3buckets/${name} Ready`, async () => {
    const object = await h.get('s3buckets', name);
    return readyCondition(object)?.status === 'True' ? object : undefined;
  }, timeoutMs);
}

describe('observability', { timeout: 300_000 }, () => {
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.teardown();
  });

  test('both processes become ready, and their metrics show an S3Bucket being made', async () => {
    for (const name of ['worker', 'watcher'] as const) {
      await h.until(`${name} /readyz`, async () => (await readyz(h.operator, name)).status === 200, 60_000);
      assert.equal((await fetch(`${h.operator.httpURL(name)}/healthz`)).status, 200);
    }
    await h.apply(bucketYaml('observed-bucket'));
    await ready('observed-bucket');

    const worker = await scrape(`${h.operator.httpURL('worker')}/metrics`);
    const created = metricValue(worker, 'infra_operator_aws_calls_total', { service: 'S3', operation: 'CreateBucket', outcome: 'success' });
    assert.ok(created >= 1, 'the CreateBucket call is counted');
    assert.equal(
      metricValue(worker, 'infra_operator_aws_calls_total', { service: 'S3', operation: 'CreateBucket' }),
      h.proxy.count('CreateBucket'),
      'as many CreateBucket requests counted as reached AWS',
    );
    assert.ok(metricValue(worker, 'infra_operator_apply_to_ready_seconds_count', { kind: 'S3Bucket' }) >= 1, 'apply to Ready observed');
    const applyToReady = metricValue(worker, 'infra_operator_apply_to_ready_seconds_sum', { kind: 'S3Bucket' });
    assert.ok(applyToReady > 0 && applyToReady < 120, `apply to Ready took ${applyToReady} s`);
    const reconciles = lines(worker, 'infra_operator_reconciles_total');
    assert.ok(metricValue(worker, 'infra_operator_reconciles_total', { kind: 'S3Bucket', outcome: 'created' }) >= 1, reconciles);
    assert.ok(metricValue(worker, 'infra_operator_reconciles_total', { kind: 'S3Bucket', outcome: 'absent' }) >= 1, `the first look found nothing\n${reconciles}`);
    assert.ok(metricValue(worker, 'infra_operator_kube_requests_total', { verb: 'patch', code: 'ok' }) >= 2, lines(worker, 'infra_operator_kube'));
    assert.ok(metricValue(worker, 'infra_operator_kube_requests_total', { verb: 'create', code: 'ok' }) >= 1, 'Events');

    const watcher = await scrape(`${h.operator.httpURL('watcher')}/metrics`);
    assert.ok(metricValue(watcher, 'infra_operator_signals_total', { kind: 'S3Bucket', signal: 'signalWithStart', outcome: 'sent' }) >= 1);
    assert.ok(metricValue(watcher, 'infra_operator_watch_events_total', { kind: 'S3Bucket', type: 'changed' }) >= 1);
    assert.equal(metricValue(watcher, 'infra_operator_leader'), 1, 'the only watcher leads');

    const sdk = await scrape(h.operator.temporalMetricsURL('worker'));
    assert.match(sdk, /^temporal_\w+/m, 'the Temporal SDK serves its own metrics');
    assert.ok(metricValue(sdk, 'temporal_activity_execution_latency_count') + metricValue(sdk, 'temporal_workflow_completed') >= 0);
    assert.match(sdk, /temporal_(activity|workflow)_\w+/);
    console.log(`apply to Ready (S3Bucket, from the worker's histogram): ${applyToReady.toFixed(2)} s`);
  });

  test('two watchers: only the leader signals; killed with SIGKILL, the standby takes over and a new CR reaches Ready', async () => {
    const standby = h.operator.replica({ POD_NAME: 'watcher-standby' });
    await standby.start(['watcher']);
    try {
      await h.until('standby /readyz', async () => (await readyz(standby, 'watcher')).status === 200, 60_000);
      assert.match((await readyz(standby, 'watcher')).detail, /standing by/);
      const standbyMetrics = await scrape(`${standby.httpURL('watcher')}/metrics`);
      assert.equal(metricValue(standbyMetrics, 'infra_operator_leader'), 0, 'the standby does not lead');
      assert.equal(metricValue(standbyMetrics, 'infra_operator_signals_total'), 0, 'and sends no signal');
      assert.equal(metricValue(standbyMetrics, 'infra_operator_watch_events_total'), 0, 'nor watches');

      await h.operator.kill('watcher');
      const killedAt = Date.now();
      await h.apply(bucketYaml('after-takeover'));
      await h.until(
        'the standby leads',
        async () => metricValue(await scrape(`${standby.httpURL('watcher')}/metrics`), 'infra_operator_leader') === 1,
        40_000,
      );
      const takeoverMs = Date.now() - killedAt;
      await ready('after-takeover', 90_000);
      const readyMs = Date.now() - killedAt;
      console.log(`watcher takeover after SIGKILL: ${(takeoverMs / 1000).toFixed(1)} s to lead, ${(readyMs / 1000).toFixed(1)} s to the new CR Ready`);
      assert.ok(takeoverMs < 20_000, `took over in ${takeoverMs} ms (Lease 15 s, tries every 1 s)`);
      const after = await scrape(`${standby.httpURL('watcher')}/metrics`);
      assert.equal(metricValue(after, 'infra_operator_leader_acquired_total'), 1);
      assert.ok(metricValue(after, 'infra_operator_signals_total', { kind: 'S3Bucket', outcome: 'sent' }) >= 1, 'the new leader signals');
      const lease = JSON.parse(await h.kubectl(['get', 'lease', 'infra-operator-watcher', '-n', 'default', '-o', 'json'])) as {
        spec: { holderIdentity: string; leaseTransitions: number };
      };
      assert.match(lease.spec.holderIdentity, /^watcher-standby_\d+$/);
      assert.ok(lease.spec.leaseTransitions >= 1);
    } finally {
      await standby.stop();
      await h.operator.start(['watcher']);
    }
  });

  test('one process runs both parts: it leads, a CR reaches Ready and is deleted, and SIGTERM ends it cleanly, the Lease given up', async () => {
    await h.operator.stop();
    const single = h.operator.replica({ POD_NAME: 'operator-single' });
    await single.start(['operator']);
    try {
      await h.until('one process /readyz', async () => (await readyz(single, 'operator')).status === 200, 90_000);
      const detail = (await readyz(single, 'operator')).detail;
      assert.match(detail, /polling/, 'the worker part is ready');
      assert.match(detail, /leading: every kind listed/, 'the watcher part took the Lease and listed');

      await h.apply(`${bucketYaml('one-process-bucket')}  deletionPolicy: Delete\n`);
      await ready('one-process-bucket', 90_000);
      const metrics = await scrape(`${single.httpURL('operator')}/metrics`);
      assert.equal(metricValue(metrics, 'infra_operator_leader'), 1);
      assert.ok(metricValue(metrics, 'infra_operator_signals_total', { kind: 'S3Bucket', signal: 'signalWithStart', outcome: 'sent' }) >= 1, 'the watcher part signals');
      assert.ok(metricValue(metrics, 'infra_operator_aws_calls_total', { service: 'S3', operation: 'CreateBucket', outcome: 'success' }) >= 1, 'the worker part calls AWS');
      assert.match(await scrape(single.temporalMetricsURL('operator')), /^temporal_\w+/m, 'the Temporal SDK serves its metrics');

      const deletesBefore = h.proxy.count('DeleteBucket');
      await h.kubectl(['delete', 's3bucket', 'one-process-bucket', '-n', 'default', '--wait=true', '--timeout=120s']);
      assert.ok(h.proxy.count('DeleteBucket') > deletesBefore, 'the bucket was deleted in AWS before the CR went');

      await single.stop(['operator']);
      assert.equal(single.exitCode('operator'), 0, `SIGTERM drains and exits 0\n${single.tail()}`);
      const lease = JSON.parse(await h.kubectl(['get', 'lease', 'infra-operator-watcher', '-n', 'default', '-o', 'json'])) as { spec: { holderIdentity?: string } };
      assert.equal(lease.spec.holderIdentity ?? '', '', 'the Lease is given up on the way out');
    } finally {
      await single.stop();
      await h.operator.start();
    }
  });
});
