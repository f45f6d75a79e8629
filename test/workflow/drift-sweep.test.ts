/**
 * The drift sweep's workflow side on a real Temporal dev server: a Ready
 * reconcile workflow sleeps on the safety-net timer its worker names and
 * wakes on driftDetected, while one still converging keeps its short
 * backoffs; and the sweep workflow runs one activity a pass for the kinds
 * due, each at its own interval, takes new settings by signal, and
 * continues as new without losing its schedule.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { SweepActivities, SweepReport } from '../../contract/activities.js';
import { driftSweepWorkflow } from '../../workflows/drift-sweep.js';
import { reconcileWorkflow } from '../../workflows/reconcile.js';
import { driftDetectedSignal, resourceChangedSignal, searchAttributes, sweepSettingsSignal } from '../../workflows/messages.js';
import { FakeWorld } from '../support/fake-world.js';
import { temporalBinary } from '../support/binaries.js';

const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
const ref = { kind: 'VPC', namespace: 'default', name: 'net' };

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await temporalBinary() },
      searchAttributes: Object.values(searchAttributes),
    },
  });
  bundle = await bundleWorkflowCode({ workflowsPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
});

after(async () => {
  await env?.teardown();
});

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Polls `check` (which may read the history) until it holds. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function history(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/** Durations of the timers the run started, in seconds, in order. */
function timerSeconds(events: HistoryEvent[]): number[] {
  return events
    .map((event) => event.timerStartedEventAttributes?.startToFireTimeout?.seconds)
    .filter((seconds) => seconds !== undefined && seconds !== null)
    .map((seconds) => Number(seconds));
}

describe('reconcile workflow under a drift sweep', () => {
  async function withReconcile(world: FakeWorld, body: (handle: WorkflowHandle<typeof reconcileWorkflow>) => Promise<void>): Promise<void> {
    const taskQueue = `test-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: world.activities() });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.signalWithStart(reconcileWorkflow, {
        workflowId: `${ref.kind}/${ref.namespace}/${ref.name}/${randomUUID()}`,
        taskQueue,
        args: [{ ref, resyncSeconds: 1 }],
        signal: resourceChangedSignal,
        signalArgs: [{ uid: 'uid-1', generation: 1, deleting: false }],
      });
      await body(handle);
      await handle.terminate('test done').catch(() => undefined);
    });
  }

  test('once Ready it sleeps on the safety net, not the resync interval, and driftDetected wakes it to repair', async () => {
    const world = new FakeWorld({ safetyResyncSeconds: 3600 });
    await withReconcile(world, async (handle) => {
      await eventually('Ready', () => world.lastStatus?.phase === 'Ready');
      await eventually('the safety-net timer', async () => timerSeconds(await history(handle)).includes(3600));
      const observed = world.count('observeResource');

      world.aws.differences = ['tags: +team=platform'];
      await handle.signal(driftDetectedSignal, { differences: ['tags: +team=platform'], unlisted: false });
      await eventually('drift repaired', () => world.events.some((e) => e.reason === 'DriftRepaired'), 10_000);
      assert.equal(world.count('updateResource'), 1);
      assert.ok(world.count('observeResource') > observed, 'the signal made it look');
      const timers = timerSeconds(await history(handle));
      await eventually('back on the safety net', async () => timerSeconds(await history(handle)).filter((s) => s === 3600).length >= 2);
      assert.ok(!timers.includes(1), `no resync-interval timer while in sync: ${timers.join(', ')}`);
    });
  });

  test('while AWS provisions it keeps its short backoffs, whatever the safety net', async () => {
    const world = new FakeWorld({ safetyResyncSeconds: 3600 });
    world.aws.ready = false;
    await withReconcile(world, async (handle) => {
      await eventually('two provisioning looks', () => world.count('observeResource') >= 3, 10_000);
      // The look's workflow task may not have started its timer yet when the look is counted.
      await eventually('it waited between looks', async () => timerSeconds(await history(handle)).length >= 2, 10_000);
      const timers = timerSeconds(await history(handle));
      assert.ok(
        timers.every((seconds) => seconds <= 15),
        `backoffs of at most 15 s while not Ready: ${timers.join(', ')}`,
      );
      world.aws.ready = true;
      await eventually('Ready, then the safety net', async () => world.lastStatus?.phase === 'Ready' && timerSeconds(await history(handle)).includes(3600), 20_000);
    });
  });
});

describe('drift sweep workflow', () => {
  /** A sweep activity that records which kinds each pass asked for, and when. */
  function recordingSweep(): { passes: Array<{ at: number; kinds: string[] }>; activities: SweepActivities } {
    const passes: Array<{ at: number; kinds: string[] }> = [];
    return {
      passes,
      activities: {
        async sweepDrift(kinds): Promise<SweepReport[]> {
          passes.push({ at: Date.now(), kinds: [...kinds].sort() });
          return kinds.map((kind) => ({ kind, resources: 1, checked: 1, woken: 0, failed: 0, reads: 1 }));
        },
      },
    };
  }

  const sweptKind = (passes: Array<{ kinds: string[] }>, kind: string) => passes.filter((pass) => pass.kinds.includes(kind)).length;

  test('one activity a pass for the kinds due, each kind at its own interval', async () => {
    const sweep = recordingSweep();
    const taskQueue = `sweep-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: sweep.activities });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(driftSweepWorkflow, {
        workflowId: `DriftSweep/${randomUUID()}`,
        taskQueue,
        args: [{ settings: { kinds: [{ kind: 'VPC', seconds: 1 }, { kind: 'S3Bucket', seconds: 4 }] } }],
      });
      await eventually('five passes', () => sweep.passes.length >= 5, 20_000);
      assert.deepEqual(sweep.passes[0]?.kinds, ['S3Bucket', 'VPC'], 'the first pass sweeps every kind');
      assert.ok(sweptKind(sweep.passes, 'VPC') >= 5, 'VPC every pass');
      assert.ok(sweptKind(sweep.passes, 'S3Bucket') <= 2, `S3Bucket every 4 s only: ${JSON.stringify(sweep.passes)}`);
      const events = await history(handle);
      const activities = events.filter((event) => event.activityTaskScheduledEventAttributes).length;
      assert.equal(activities, sweep.passes.length, 'one activity per pass, whatever the kinds');

      // New settings take effect without a restart.
      await handle.signal(sweepSettingsSignal, { kinds: [{ kind: 'VPC', seconds: 3600 }, { kind: 'SQSQueue', seconds: 1 }] });
      await eventually('SQSQueue swept', () => sweptKind(sweep.passes, 'SQSQueue') >= 2, 10_000);
      const vpcPasses = sweptKind(sweep.passes, 'VPC');
      await eventually('two more SQSQueue passes', () => sweptKind(sweep.passes, 'SQSQueue') >= 4, 10_000);
      assert.equal(sweptKind(sweep.passes, 'VPC'), vpcPasses, 'VPC now waits its new hour');
      await handle.terminate('test done');
    });
  });

  test('continues as new within its history bound and keeps sweeping', async () => {
    const sweep = recordingSweep();
    const taskQueue = `sweep-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: sweep.activities });
    await worker.runUntil(async () => {
      const workflowId = `DriftSweep/${randomUUID()}`;
      const first = await env.client.workflow.start(driftSweepWorkflow, {
        workflowId,
        taskQueue,
        args: [{ settings: { kinds: [{ kind: 'VPC', seconds: 1 }] }, maxHistoryEvents: 20 }],
      });
      await eventually('a later run', async () => (await env.client.workflow.getHandle(workflowId).describe()).runId !== first.firstExecutionRunId, 20_000);
      const passes = sweep.passes.length;
      await eventually('it sweeps on in the new run', () => sweep.passes.length >= passes + 2, 10_000);
      await env.client.workflow.getHandle(workflowId).terminate('test done');
    });
  });
});
