import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Action, decide, type DecisionInput, type ObservedSummary } from './decide.js';

const missing: ObservedSummary = { exists: false, upToDate: false, ready: false, differences: [] };
const inSync: ObservedSummary = { exists: true, upToDate: true, ready: true, differences: [] };
const drifted: ObservedSummary = { exists: true, upToDate: false, ready: true, differences: ['versioning: Suspended -> Enabled'] };
const pending: ObservedSummary = { exists: true, upToDate: true, ready: false, state: 'pending', differences: [] };
const foreign: ObservedSummary = { ...inSync, ownedBy: 'S3Bucket/other/bucket' };
const deleting: ObservedSummary = { ...inSync, ready: false, state: 'deleting' };

const cases: Array<{ reason: string; input: DecisionInput; action: Action }> = [
  { reason: 'nothing observed yet: look first', input: { deleting: false, deletionPolicy: 'Delete' }, action: Action.Observe },
  { reason: 'missing in AWS: create it', input: { deleting: false, deletionPolicy: 'Delete', observed: missing }, action: Action.Create },
  { reason: 'matches and usable: nothing to do', input: { deleting: false, deletionPolicy: 'Delete', observed: inSync }, action: Action.InSync },
  { reason: 'differs from spec: update', input: { deleting: false, deletionPolicy: 'Retain', observed: drifted }, action: Action.Update },
  { reason: 'matches but AWS still provisioning: wait', input: { deleting: false, deletionPolicy: 'Delete', observed: pending }, action: Action.WaitUntilReady },
  { reason: 'owned by another resource: conflict, never adopt', input: { deleting: false, deletionPolicy: 'Delete', observed: foreign }, action: Action.Conflict },
  { reason: 'Retain keeps AWS, no observe needed', input: { deleting: true, deletionPolicy: 'Retain' }, action: Action.Release },
  { reason: 'Orphan keeps AWS even when observed', input: { deleting: true, deletionPolicy: 'Orphan', observed: inSync }, action: Action.Release },
  { reason: 'Delete must look before deleting', input: { deleting: true, deletionPolicy: 'Delete' }, action: Action.Observe },
  { reason: 'Delete with the resource present: delete', input: { deleting: true, deletionPolicy: 'Delete', observed: inSync }, action: Action.Delete },
  { reason: 'Delete while AWS is deleting: wait', input: { deleting: true, deletionPolicy: 'Delete', observed: deleting }, action: Action.WaitUntilDeleted },
  { reason: 'Delete with the resource gone: release', input: { deleting: true, deletionPolicy: 'Delete', observed: missing }, action: Action.Release },
  { reason: "Delete never removes another resource's AWS object", input: { deleting: true, deletionPolicy: 'Delete', observed: foreign }, action: Action.Release },
];

for (const { reason, input, action } of cases) {
  test(`decide: ${reason}`, () => {
    assert.equal(decide(input).action, action);
  });
}

test('decide: an update reason lists the differences', () => {
  assert.match(decide({ deleting: false, deletionPolicy: 'Delete', observed: drifted }).reason, /versioning: Suspended -> Enabled/);
});
