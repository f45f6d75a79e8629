import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStatus, statusChanged, withCondition } from './status.js';
import { Phase } from './state.js';

const t0 = '2026-01-01T00:00:00.000Z';
const t1 = '2026-01-01T00:05:00.000Z';

test('status: Ready sets ready, both conditions True, and kind fields', () => {
  const status = buildStatus(undefined, { phase: Phase.Ready, reason: 'Available', message: 'ok', synced: true, observedGeneration: 3, fields: { arn: 'arn:aws:s3:::b' } }, t0);
  assert.equal(status.ready, true);
  assert.equal(status.observedGeneration, 3);
  assert.equal(status.arn, 'arn:aws:s3:::b');
  assert.deepEqual(status.conditions.map((c) => [c.type, c.status]), [['Ready', 'True'], ['Synced', 'True']]);
});

test('status: an unchanged condition keeps its transition time; a changed one moves', () => {
  const first = buildStatus(undefined, { phase: Phase.Ready, reason: 'Available', message: 'ok', synced: true, observedGeneration: 1 }, t0);
  const again = buildStatus(first, { phase: Phase.Ready, reason: 'Available', message: 'ok', synced: true, observedGeneration: 1 }, t1);
  assert.equal(again.conditions[0].lastTransitionTime, t0);
  assert.equal(again.lastSyncTime, t1);
  assert.equal(statusChanged(first, again), false, 'only lastSyncTime moved');
  const failed = buildStatus(again, { phase: Phase.Error, reason: 'AccessDenied', message: 'no', synced: false, observedGeneration: 2 }, t1);
  assert.equal(failed.conditions[0].lastTransitionTime, t1);
  assert.equal(failed.ready, false);
  assert.equal(statusChanged(again, failed), true);
});

test('status: fields observed earlier survive a pass that observed nothing', () => {
  const first = buildStatus(undefined, { phase: Phase.Ready, reason: 'Available', message: 'ok', synced: true, observedGeneration: 1, fields: { queueURL: 'http://q' } }, t0);
  const waiting = buildStatus(first, { phase: Phase.Waiting, reason: 'ProviderNotReady', message: 'wait', synced: undefined }, t1);
  assert.equal(waiting.queueURL, 'http://q');
  assert.equal(waiting.conditions[1].status, 'Unknown');
  assert.equal(waiting.observedGeneration, 1, 'generation is kept when the pass did not act on one');
});

test('status: extra conditions sit beside Ready and Synced; Synced can say why it differs from Ready', () => {
  const status = buildStatus(
    undefined,
    {
      phase: Phase.Ready,
      reason: 'Observed',
      message: 'read only',
      synced: false,
      syncedReason: 'DriftDetected',
      syncedMessage: 'versioning differs',
      conditions: [{ type: 'Adopted', status: 'True', reason: 'Adopted', message: 'adopted b' }],
    },
    t0,
  );
  assert.equal(status.ready, true);
  assert.deepEqual(status.conditions.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'True', 'Observed'],
    ['Synced', 'False', 'DriftDetected'],
    ['Adopted', 'True', 'Adopted'],
  ]);
});

test('status: withCondition adds Paused and keeps everything else as it was', () => {
  const ready = buildStatus(undefined, { phase: Phase.Ready, reason: 'Available', message: 'ok', synced: true, observedGeneration: 2, fields: { arn: 'a' } }, t0);
  const paused = withCondition(ready, { type: 'Paused', status: 'True', reason: 'Paused', message: 'paused' }, t1);
  assert.equal(paused.ready, true);
  assert.equal(paused.arn, 'a');
  assert.deepEqual(paused.conditions.slice(0, 2), ready.conditions);
  assert.deepEqual(paused.conditions[2], { type: 'Paused', status: 'True', reason: 'Paused', message: 'paused', lastTransitionTime: t1, observedGeneration: 2 });
});
