import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStatus, statusChanged } from './status.js';
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
