import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import type { Context } from '@temporalio/activity';
import type { Condition, Observation, ResourceStatus } from '../contract/activities.js';
import { FailureType } from '../contract/failures.js';
import type { CustomResource, KubeClients } from '../kube/client.js';
import { sampleValue } from '../process/metrics.js';
import { StatusMetrics, activityMetrics, appliedAt, failureOutcome, observationOutcome } from './activity-metrics.js';

const ref = { kind: 'S3Bucket', namespace: 'metrics-test', name: 'logs' };
const T0 = Date.parse('2025-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/** A status as buildStatus writes it at `seconds`, the Ready condition last changed at `since`. */
function status(phase: string, reason: string, seconds: number, since: number, extra: Condition[] = []): ResourceStatus {
  const ready = phase === 'Ready';
  return {
    ready,
    phase,
    observedGeneration: 1,
    lastSyncTime: at(seconds),
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason, message: '', lastTransitionTime: at(since) }, ...extra],
  };
}

const waits = (phase: string, reason: string) => sampleValue('infra_operator_wait_seconds', { kind: ref.kind, phase, reason });

test('a status leaving a waiting phase observes the time spent in it; Ready is reported as reached once', async () => {
  const metrics = new StatusMetrics();
  const provider = await waits('Waiting', 'ProviderNotReady');
  const provisioning = await waits('Provisioning', 'Provisioning');
  assert.equal(metrics.written(ref, 'u1', status('Waiting', 'ProviderNotReady', 0, 0), T0).cameReady, false);
  assert.equal(metrics.written(ref, 'u1', status('Waiting', 'ProviderNotReady', 3, 0), T0 + 3000).cameReady, false);
  assert.equal(await waits('Waiting', 'ProviderNotReady'), provider, 'the same wait goes on');
  metrics.written(ref, 'u1', status('Provisioning', 'Provisioning', 7, 0), T0 + 7000);
  assert.equal(await waits('Waiting', 'ProviderNotReady'), provider + 1);
  assert.equal(metrics.written(ref, 'u1', status('Ready', 'Available', 12, 12), T0 + 12_000).cameReady, true);
  assert.equal(await waits('Provisioning', 'Provisioning'), provisioning + 1);
  assert.equal(metrics.written(ref, 'u1', status('Ready', 'Available', 20, 12), T0 + 20_000).cameReady, false, 'still Ready: not again');
});

test('a Deleting wait ends with the finalizer, and the resource is forgotten', async () => {
  const metrics = new StatusMetrics();
  const deleting = await waits('Deleting', 'Deleting');
  metrics.written(ref, 'u2', status('Deleting', 'Deleting', 0, 0), T0);
  metrics.finished(ref, 'other-uid', T0 + 1000);
  assert.equal(metrics.size(), 1, 'another object of the same name is not this one');
  metrics.finished(ref, 'u2', T0 + 4000);
  assert.equal(await waits('Deleting', 'Deleting'), deleting + 1);
  assert.equal(metrics.size(), 0);
});

test('a Ready status of a new generation counts as reached, an error in between does not repeat it', () => {
  const metrics = new StatusMetrics();
  assert.equal(metrics.written(ref, 'u3', status('Ready', 'Available', 0, 0), T0).cameReady, true);
  assert.equal(metrics.written(ref, 'u3', status('Error', 'Throttling', 5, 5), T0 + 5000).cameReady, false);
  assert.equal(metrics.written(ref, 'u3', status('Ready', 'Available', 9, 9), T0 + 9000).cameReady, false, 'generation 1 was Ready already');
  const second = { ...status('Ready', 'Available', 20, 9), observedGeneration: 2 };
  assert.equal(metrics.written(ref, 'u3', second, T0 + 20_000).cameReady, true, 'an update applied: generation 2 is Ready now');
});

test('terminal errors count once per new reason', async () => {
  const metrics = new StatusMetrics();
  const terminal = (reason: string, since: number): Condition => ({
    type: 'Terminal',
    status: 'True',
    reason,
    message: '',
    lastTransitionTime: at(since),
  });
  const count = (reason: string) => sampleValue('infra_operator_terminal_errors_total', { kind: ref.kind, reason });
  const invalid = await count('InvalidBucketName');
  const exists = await count('AlreadyExists');
  metrics.written(ref, 'u4', status('Error', 'InvalidBucketName', 0, 0, [terminal('InvalidBucketName', 0)]), T0);
  metrics.written(ref, 'u4', status('Error', 'InvalidBucketName', 5, 0, [terminal('InvalidBucketName', 0)]), T0 + 5000);
  metrics.written(ref, 'u4', status('Error', 'AlreadyExists', 9, 0, [terminal('AlreadyExists', 0)]), T0 + 9000);
  assert.equal(await count('InvalidBucketName'), invalid + 1);
  assert.equal(await count('AlreadyExists'), exists + 1);
  // A worker that never saw it before: only a Terminal condition that turned True in this write counts.
  const fresh = new StatusMetrics();
  fresh.written(ref, 'u4', status('Error', 'AlreadyExists', 30, 0, [terminal('AlreadyExists', 0)]), T0 + 30_000);
  assert.equal(await count('AlreadyExists'), exists + 1);
});

test('the apply time is the creation for generation 1, else the newest spec write', () => {
  const created = '2025-01-01T00:00:00Z';
  const object = (generation: number): CustomResource => ({
    apiVersion: 'x/v1',
    kind: 'S3Bucket',
    metadata: {
      name: 'logs',
      generation,
      creationTimestamp: new Date(created).toISOString(),
      managedFields: [
        { manager: 'kubectl', operation: 'Update', time: '2025-01-01T00:10:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } },
        { manager: 'infra-operator', operation: 'Update', subresource: 'status', time: '2025-01-01T00:20:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': {} } },
        { manager: 'kubectl-label', operation: 'Update', time: '2025-01-01T00:30:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } },
      ],
    },
    spec: {},
  });
  assert.equal(appliedAt(object(1)), Date.parse(created));
  assert.equal(appliedAt(object(2)), Date.parse('2025-01-01T00:10:00Z'), 'neither the status nor a label is the apply');
});

test('observations and failures name their reconcile outcome', () => {
  const observed = (fields: Partial<Observation>): Observation => ({ exists: true, upToDate: true, ready: true, differences: [], status: {}, ...fields });
  assert.equal(observationOutcome(observed({})), 'in_sync');
  assert.equal(observationOutcome(observed({ ready: false })), 'provisioning');
  assert.equal(observationOutcome(observed({ upToDate: false })), 'out_of_sync');
  assert.equal(observationOutcome(observed({ exists: false })), 'absent');
  assert.equal(observationOutcome(observed({ ownedBy: 'S3Bucket/other/x' })), 'not_ours');
  assert.equal(failureOutcome(ApplicationFailure.create({ type: FailureType.ProviderNotReady })), 'waiting');
  assert.equal(failureOutcome(ApplicationFailure.create({ type: FailureType.Terminal })), 'terminal');
  assert.equal(failureOutcome(new Error('socket hang up')), 'retryable');
});

test('the interceptor counts observations of live resources, passes results and errors through', async () => {
  const factory = activityMetrics({} as KubeClients);
  const run = (activityType: string, args: unknown[], next: () => Promise<unknown>) => {
    const interceptor = factory({ info: { activityType } } as unknown as Context).inbound;
    assert.ok(interceptor?.execute);
    return interceptor.execute({ args, headers: {} }, next);
  };
  const count = (outcome: string) => sampleValue('infra_operator_reconciles_total', { kind: 'SQSQueue', outcome });
  const queue = { kind: 'SQSQueue', namespace: 'metrics-test', name: 'jobs' };
  const inSync = await count('in_sync');
  const waiting = await count('waiting');
  const found: Observation = { exists: true, upToDate: true, ready: true, differences: [], status: {} };
  assert.equal(await run('observeResource', [{ ref: queue, uid: 'q', spec: {} }], async () => found), found);
  await run('observeResource', [{ ref: queue, uid: 'q', spec: {}, deleting: true }], async () => found);
  const notReady = ApplicationFailure.create({ type: FailureType.ProviderNotReady, message: 'provider not Ready' });
  await assert.rejects(run('observeResource', [{ ref: queue, uid: 'q', spec: {} }], () => Promise.reject(notReady)), /provider not Ready/);
  assert.equal(await count('in_sync'), inSync + 1, 'an observation made while deleting is no reconcile pass');
  assert.equal(await count('waiting'), waiting + 1);
  const created = await count('created');
  await run('createResource', [{ ref: queue, uid: 'q', spec: {} }], async () => null);
  await run('loadResource', [queue], async () => null);
  assert.equal(await count('created'), created + 1);
});
