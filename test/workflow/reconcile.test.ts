/**
 * The reconcile workflow on a real Temporal dev server (the Temporal CLI
 * binary the local stack installs), with the activities replaced by an
 * in-memory world. Timers are real but short.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { reconcileWorkflow } from '../../workflows/reconcile.js';
import type { ReconcileInput } from '../../workflows/state.js';
import { dependencyChangedSignal, resourceChangedSignal, searchAttributes } from '../../workflows/messages.js';
import { FakeWorld, eventually, providerNotReady, retryable, terminal } from '../support/fake-world.js';
import { temporalBinary } from '../support/binaries.js';

const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
const ref = { kind: 'S3Bucket', namespace: 'default', name: 'data' };

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

type Handle = WorkflowHandle<typeof reconcileWorkflow>;

/** Runs a worker over `world` while `body` runs against a freshly started workflow. */
async function scenario(
  world: FakeWorld,
  input: Partial<ReconcileInput>,
  body: (handle: Handle, signalChange: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: world.activities(),
  });
  const workflowId = `${ref.kind}/${ref.namespace}/${ref.name}/${randomUUID()}`;
  const change = () => ({
    uid: world.resource?.uid ?? 'gone',
    generation: world.resource?.generation ?? 0,
    deleting: world.resource?.deleting ?? true,
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart(reconcileWorkflow, {
      workflowId,
      taskQueue,
      args: [{ ref, resyncSeconds: 60, ...input }],
      signal: resourceChangedSignal,
      signalArgs: [change()],
    });
    await body(handle, () => handle.signal(resourceChangedSignal, change()));
    await handle.terminate('test done').catch(() => undefined);
  });
}

const phaseIs = (world: FakeWorld, phase: string) => () => world.lastStatus?.phase === phase;

/**
 * Waits until the workflow, woken after its history had `since` events, has
 * finished that pass and started a timer again: whatever it did not do in
 * that pass, it did not do.
 */
async function idleAgain(handle: Handle, since: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    if (events.slice(since).some((event) => event.timerStartedEventAttributes)) return;
    assert.ok(Date.now() < deadline, 'the workflow went back to waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconcile workflow', () => {
  test('adds the finalizer before any AWS call, creates, reports Ready, and re-observes on the resync timer', async () => {
    const world = new FakeWorld();
    await scenario(world, { resyncSeconds: 1 }, async () => {
      await eventually('Ready', phaseIs(world, 'Ready'));
      assert.ok(world.calls.indexOf('addFinalizer') < world.calls.indexOf('observeResource'), 'finalizer first');
      assert.equal(world.count('createResource'), 1);
      assert.equal(world.lastStatus?.arn, 'arn:aws:s3:::data');
      const observed = world.count('observeResource');
      await eventually('a drift check after the resync interval', () => world.count('observeResource') >= observed + 2, 5000);
      assert.equal(world.count('createResource'), 1, 'an in-sync resource is never re-created');
    });
  });

  test('a create that answers with the resource is not looked at again', async () => {
    const world = new FakeWorld();
    world.createAnswers = true;
    await scenario(world, { resyncSeconds: 3600 }, async () => {
      await eventually('Ready', phaseIs(world, 'Ready'));
      assert.equal(world.count('createResource'), 1);
      assert.equal(world.count('observeResource'), 1, 'one look before creating, none after');
      assert.equal(world.lastStatus?.arn, 'arn:aws:s3:::data');
    });
  });

  test('a kind whose create tags what it makes is created by the observe that found it absent: one activity, one status write, two Events', async () => {
    const world = new FakeWorld();
    world.createsTagged = true;
    await scenario(world, { resyncSeconds: 3600 }, async () => {
      await eventually('Ready', phaseIs(world, 'Ready'));
      assert.deepEqual(
        world.calls.filter((call) => call !== 'loadResource'),
        ['addFinalizer', 'observeResource', 'createdByObserve', 'recordEvent', 'recordEvent', 'patchStatus'],
      );
      assert.deepEqual(world.events.map((e) => e.reason), ['Created', 'Available']);
      assert.equal(world.statuses.length, 1, 'no Pending status before the pass');
      assert.equal(world.lastStatus?.externalID, 'data');
    });
  });

  test('observe is never asked to create for an observe-only resource, an adoption, or one already recorded', async () => {
    for (const resource of [
      { management: { policy: 'Observe' as const, paused: false } },
      { management: { policy: 'Full' as const, paused: false, adoption: 'adopt-or-create' as const } },
      { externalID: 'data' },
    ]) {
      const world = new FakeWorld(resource);
      world.createsTagged = true;
      await scenario(world, { resyncSeconds: 3600 }, async () => {
        await eventually('a pass done', () => world.statuses.length > 0);
        assert.equal(world.createIfAbsentAsked, 0, JSON.stringify(resource));
      });
    }
  });

  test('a spec change while waiting is applied at once, not at the next resync', async () => {
    const world = new FakeWorld();
    await scenario(world, { resyncSeconds: 3600 }, async (_handle, signalChange) => {
      await eventually('Ready', phaseIs(world, 'Ready'));
      world.resource!.generation = 2;
      world.aws.differences = ['versioning: Suspended -> Enabled'];
      await signalChange();
      await eventually('update applied', () => world.events.some((e) => e.reason === 'Updated'));
      assert.equal(world.count('updateResource'), 1);
      await eventually('Ready at generation 2', () => world.lastStatus?.observedGeneration === 2 && world.lastStatus.ready);
      assert.ok(world.events.some((e) => e.reason === 'Updated' && e.message.includes('versioning')));
    });
  });

  test('a change made in AWS behind the operator is repaired at the drift check', async () => {
    const world = new FakeWorld();
    await scenario(world, { resyncSeconds: 1 }, async () => {
      await eventually('Ready', phaseIs(world, 'Ready'));
      world.aws.differences = ['versioning: Enabled -> Suspended'];
      await eventually('drift repaired and reported', () => world.events.some((e) => e.reason === 'DriftRepaired'), 5000);
      assert.equal(world.count('updateResource'), 1);
    });
  });

  for (const policy of ['Delete', 'Retain', 'Orphan'] as const) {
    test(`deletion with deletionPolicy ${policy} ${policy === 'Delete' ? 'removes' : 'keeps'} the AWS resource and releases the finalizer`, async () => {
      const world = new FakeWorld({ deletionPolicy: policy });
      await scenario(world, {}, async (handle, signalChange) => {
        await eventually('Ready', phaseIs(world, 'Ready'));
        const observesBefore = world.count('observeResource');
        world.resource!.deleting = true;
        await signalChange();
        await handle.result();
        assert.equal(world.resource, null, 'finalizer removed, object gone');
        assert.equal(world.aws.exists, policy !== 'Delete');
        assert.equal(world.count('deleteResource'), policy === 'Delete' ? 1 : 0);
        if (policy !== 'Delete') assert.equal(world.count('observeResource'), observesBefore, 'no AWS call at all');
        assert.ok(world.events.some((e) => e.reason === (policy === 'Delete' ? 'Deleted' : 'Released')));
      });
    });
  }

  test('a terminal error is reported once and not retried until the spec changes', async () => {
    const world = new FakeWorld();
    world.failNext('createResource', terminal('InvalidBucketName', 'The specified bucket is not valid.'));
    await scenario(world, { resyncSeconds: 1 }, async (handle, signalChange) => {
      await eventually('Error status', () => world.lastStatus?.conditions[0]?.reason === 'InvalidBucketName');
      assert.equal(world.lastStatus?.phase, 'Error');
      assert.match(world.lastStatus?.conditions[0]?.message ?? '', /not valid/);
      assert.ok(world.events.some((e) => e.type === 'Warning' && e.reason === 'InvalidBucketName'));
      const before = (await handle.fetchHistory()).events?.length ?? 0;
      await signalChange(); // a re-list with the same generation
      await idleAgain(handle, before);
      assert.equal(world.count('createResource'), 1, 'woken and back to waiting, with no second attempt');
      world.resource!.generation = 2;
      await signalChange();
      await eventually('Ready after the spec changed', phaseIs(world, 'Ready'));
      assert.equal(world.count('createResource'), 2);
    });
  });

  test('retryable errors are retried by Temporal with backoff and end Ready', async () => {
    const world = new FakeWorld();
    world.failNext('observeResource', retryable('ThrottlingException', 'Rate exceeded'), retryable('ServiceUnavailable', '503'));
    await scenario(world, {}, async () => {
      await eventually('Ready', phaseIs(world, 'Ready'), 15_000);
      assert.ok(world.count('observeResource') >= 3);
      assert.equal(world.count('createResource'), 1);
    });
  });

  test('a wait that moves on to another dependency is an Event; the same wait again is none', async () => {
    const world = new FakeWorld();
    world.failNext(
      'observeResource',
      ...['waiting for VPC default/a to be Ready', 'waiting for VPC default/a to be Ready', 'waiting for Subnet default/b to be Ready'].map(
        (message) => providerNotReady(message),
      ),
    );
    await scenario(world, { resyncSeconds: 3600 }, async () => {
      await eventually('Ready', phaseIs(world, 'Ready'), 20_000);
      const waits = world.events.filter((event) => event.reason === 'ProviderNotReady').map((event) => event.message);
      assert.deepEqual(waits, ['waiting for VPC default/a to be Ready', 'waiting for Subnet default/b to be Ready']);
    });
  });

  test('a resource waits for its provider and proceeds as soon as it is told the provider changed', async () => {
    const world = new FakeWorld();
    world.failNext(
      'observeResource',
      ...['p1', 'p2', 'p3', 'AWSProvider default/aws is not Ready'].map((message) => providerNotReady(message)),
    );
    await scenario(world, { resyncSeconds: 3600 }, async (handle) => {
      // Backoff after the fourth check is 8 s; the signal must beat it by far.
      await eventually('the fourth check reported Waiting', () =>
        world.lastStatus?.phase === 'Waiting' && /not Ready/.test(world.lastStatus.conditions[0]?.message ?? ''),
      );
      const signalled = Date.now();
      await handle.signal(dependencyChangedSignal, { kind: 'AWSProvider', namespace: 'default', name: 'aws' });
      await eventually('Ready', phaseIs(world, 'Ready'), 6000);
      assert.ok(Date.now() - signalled < 6000, 'woken by the signal, not by the 8 s backoff timer');
    });
  });

  test('continue-as-new keeps the state: no second create, no second finalizer, same transition time', async () => {
    const world = new FakeWorld();
    await scenario(world, { resyncSeconds: 0.2, maxHistoryEvents: 40 }, async (handle) => {
      await eventually('Ready', phaseIs(world, 'Ready'));
      const firstRun = (await handle.describe()).runId;
      const readySince = world.lastStatus?.conditions[0]?.lastTransitionTime;
      const deadline = Date.now() + 15_000;
      while ((await handle.describe()).runId === firstRun) {
        assert.ok(Date.now() < deadline, 'the workflow continued as new');
        await sleep(200);
      }
      const observed = world.count('observeResource');
      await eventually('the new run keeps reconciling', () => world.count('observeResource') > observed + 1, 5000);
      assert.equal(world.count('createResource'), 1);
      assert.equal(world.count('addFinalizer'), 1);
      assert.equal(world.lastStatus?.conditions[0]?.lastTransitionTime, readySince);
    });
  });

  test('an object re-created under the same name is handled after the old one is cleaned up', async () => {
    const world = new FakeWorld();
    await scenario(world, {}, async (handle, signalChange) => {
      await eventually('Ready', phaseIs(world, 'Ready'));
      const firstRun = (await handle.describe()).runId;
      // The old object vanished (its finalizer was forced off) and a new one took the name.
      world.resource = {
        uid: 'uid-2',
        generation: 1,
        deleting: false,
        hasFinalizer: false,
        deletionPolicy: 'Delete',
        spec: world.resource!.spec,
        management: { policy: 'Full', paused: false },
      };
      await signalChange();
      await eventually('old AWS resource deleted, new one created', () => world.count('deleteResource') === 1 && world.count('createResource') === 2);
      await eventually('Ready for the new object', () => world.resource?.hasFinalizer === true && world.lastStatus?.ready === true);
      assert.notEqual((await handle.describe()).runId, firstRun, 'the new object got a fresh run');
    });
  });

  test('a resync that finds nothing new writes nothing to Kubernetes; a change does', async () => {
    const world = new FakeWorld();
    await scenario(world, { resyncSeconds: 0.5 }, async () => {
      await eventually('Ready', phaseIs(world, 'Ready'));
      const writes = world.count('patchStatus') + world.count('recordEvent');
      const observed = world.count('observeResource');
      await eventually('three more drift checks', () => world.count('observeResource') >= observed + 3, 10_000);
      assert.equal(world.count('patchStatus') + world.count('recordEvent'), writes, 'no status patch or Event for an unchanged resync');
      world.aws.ready = false;
      await eventually('a real change is written', () => world.lastStatus?.phase === 'Provisioning', 10_000);
    });
  });

  test('finishing a create that failed half-way is an update, not drift: no DriftRepaired for a resource nobody changed', async () => {
    const world = new FakeWorld();
    // The create made the resource but a later call of it failed: AWS has
    // it, without all of the spec.
    const failure = () => retryable('InternalError', 'failed after creating');
    world.failNext('createResource', failure(), failure(), failure(), failure(), failure());
    const activities = world.activities();
    const inner = world.activities();
    activities.createResource = async (request) => {
      world.aws = { exists: true, differences: ['versioning: Suspended -> Enabled'], ready: true };
      return inner.createResource(request);
    };
    world.activities = () => activities;
    await scenario(world, {}, async (_handle, signalChange) => {
      await eventually('the failed create reported', () => world.lastStatus?.conditions[0]?.reason === 'InternalError', 30_000);
      await signalChange();
      await eventually('Ready', phaseIs(world, 'Ready'), 30_000);
      assert.equal(world.count('updateResource'), 1);
      assert.ok(world.events.some((e) => e.reason === 'Updated'));
      assert.ok(!world.events.some((e) => e.reason === 'DriftRepaired'), world.events.map((e) => e.reason).join(', '));
    });
  });

  test('an AWS resource made outside the operator is AlreadyExists and untouched, until adopted by annotation', async () => {
    const world = new FakeWorld();
    world.aws = { exists: true, differences: ['tags: +owner'], ready: true, unmanaged: true };
    await scenario(world, {}, async (_handle, signalChange) => {
      await eventually('AlreadyExists', () => world.lastStatus?.conditions[0]?.reason === 'AlreadyExists');
      assert.equal(world.count('createResource') + world.count('updateResource') + world.count('deleteResource'), 0, 'nothing written');
      assert.equal(world.lastStatus?.externalID, undefined, 'not recorded as ours');
      world.resource!.management = { policy: 'Full', paused: false, adoption: 'adopt' };
      await signalChange();
      await eventually('adopted and Ready', phaseIs(world, 'Ready'));
      assert.equal(world.count('updateResource'), 1);
      assert.ok(world.events.some((e) => e.reason === 'Adopted'));
      assert.deepEqual(world.lastStatus?.conditions.find((c) => c.type === 'Adopted')?.status, 'True');
      assert.equal(world.lastStatus?.externalID, 'data');
    });
  });

  test('deleting a resource that is not ours releases it without deleting the AWS resource', async () => {
    const world = new FakeWorld();
    world.aws = { exists: true, differences: ['tags: +owner'], ready: true, unmanaged: true };
    await scenario(world, {}, async (_handle, signalChange) => {
      await eventually('AlreadyExists', () => world.lastStatus?.conditions[0]?.reason === 'AlreadyExists');
      world.resource!.deleting = true;
      await signalChange();
      await eventually('released', () => world.resource === null);
      assert.equal(world.count('deleteResource'), 0);
      assert.equal(world.aws.exists, true);
    });
  });

  test('paused: no AWS call; a paused Delete waits; unpausing resumes', async () => {
    const world = new FakeWorld({ management: { policy: 'Full', paused: true } });
    await scenario(world, {}, async (_handle, signalChange) => {
      await eventually('Paused condition', () => world.lastStatus?.conditions.some((c) => c.type === 'Paused' && c.status === 'True') === true);
      await signalChange();
      await eventually('a second pass', () => world.count('loadResource') >= 2);
      assert.equal(world.count('observeResource'), 0, 'no AWS call while paused');
      world.resource!.deleting = true;
      await signalChange();
      await eventually('deletion waits, saying why', () => world.lastStatus?.conditions[0]?.reason === 'Paused' && world.lastStatus.phase === 'Deleting');
      assert.equal(world.count('observeResource') + world.count('deleteResource'), 0);
      assert.notEqual(world.resource, null, 'the finalizer is kept');
      world.resource!.management = { policy: 'Full', paused: false };
      await signalChange();
      await eventually('gone once unpaused', () => world.resource === null);
      assert.ok(world.count('removeFinalizer') === 1);
    });
  });

  test('observe-only: reports drift, never writes, never adds a finalizer, and deletion leaves AWS alone', async () => {
    const world = new FakeWorld({ management: { policy: 'Observe', paused: false } });
    world.aws = { exists: true, differences: ['versioning: Suspended -> Enabled'], ready: true, unmanaged: true };
    await scenario(world, {}, async (_handle, signalChange) => {
      await eventually('Observed', () => world.lastStatus?.conditions[0]?.reason === 'Observed');
      const synced = world.lastStatus?.conditions.find((c) => c.type === 'Synced');
      assert.equal(synced?.status, 'False');
      assert.equal(synced?.reason, 'DriftDetected');
      assert.ok(world.events.some((e) => e.reason === 'DriftDetected' && e.type === 'Warning'));
      assert.equal(world.count('addFinalizer'), 0);
      world.resource!.deleting = true;
      await signalChange();
      await eventually('released', () => world.count('removeFinalizer') === 1);
      assert.equal(world.count('createResource') + world.count('updateResource') + world.count('deleteResource'), 0);
    });
  });

  test('a resource others use waits for them before its finalizer goes', async () => {
    const world = new FakeWorld({ deletionPolicy: 'Orphan' });
    await scenario(world, {}, async (_handle, signalChange) => {
      await eventually('Ready', phaseIs(world, 'Ready'));
      world.resource!.deleting = true;
      world.resource!.usedBy = ['S3Bucket default/a'];
      await signalChange();
      await eventually('InUse', () => world.lastStatus?.conditions[0]?.reason === 'InUse');
      assert.match(world.lastStatus?.conditions[0]?.message ?? '', /S3Bucket default\/a/);
      assert.equal(world.count('removeFinalizer'), 0);
      delete world.resource!.usedBy;
      await signalChange();
      await eventually('released once unused', () => world.resource === null);
    });
  });
});
