import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Action, decide, type DecisionInput, type ObservedSummary } from './decide.js';

const missing: ObservedSummary = { exists: false, upToDate: false, ready: false, differences: [] };
const inSync: ObservedSummary = { exists: true, upToDate: true, ready: true, differences: [] };
const drifted: ObservedSummary = { exists: true, upToDate: false, ready: true, differences: ['versioning: Suspended -> Enabled'] };
const pending: ObservedSummary = { exists: true, upToDate: true, ready: false, state: 'pending', differences: [] };
const foreign: ObservedSummary = { ...inSync, ownedBy: 'S3Bucket/other/bucket' };
const deleting: ObservedSummary = { ...inSync, ready: false, state: 'deleting', lifecycle: 'Deleting' };
const theirs: ObservedSummary = { ...inSync, id: 'vpc-theirs', unmanaged: true, upToDate: false, differences: ['tags: +owner'] };
const untaggedOurs: ObservedSummary = { ...theirs, id: 'vpc-ours' };
const live = { deleting: false, deletionPolicy: 'Delete' } as const;
const gone = { deleting: true, deletionPolicy: 'Delete' } as const;

const cases: Array<{ reason: string; input: DecisionInput; action: Action }> = [
  { reason: 'nothing observed yet: look first', input: { deleting: false, deletionPolicy: 'Delete' }, action: Action.Observe },
  { reason: 'missing in AWS: create it', input: { deleting: false, deletionPolicy: 'Delete', observed: missing }, action: Action.Create },
  { reason: 'matches and usable: nothing to do', input: { deleting: false, deletionPolicy: 'Delete', observed: inSync }, action: Action.InSync },
  { reason: 'differs from spec: update', input: { deleting: false, deletionPolicy: 'Retain', observed: drifted }, action: Action.Update },
  { reason: 'matches but AWS still provisioning: wait', input: { deleting: false, deletionPolicy: 'Delete', observed: pending }, action: Action.WaitUntilReady },
  { reason: 'owned by another resource: conflict, never adopt', input: { deleting: false, deletionPolicy: 'Delete', observed: foreign }, action: Action.Conflict },
  { reason: 'Retain keeps AWS, no observe needed', input: { deleting: true, deletionPolicy: 'Retain' }, action: Action.Release },
  { reason: 'Orphan keeps AWS even when observed', input: { deleting: true, deletionPolicy: 'Orphan', observed: inSync }, action: Action.Release },
  { reason: "a kind's own policy (Snapshot) observes first, like Delete", input: { deleting: true, deletionPolicy: 'Snapshot' }, action: Action.Observe },
  { reason: "a kind's own policy (Snapshot) deletes in AWS", input: { deleting: true, deletionPolicy: 'Snapshot', observed: inSync }, action: Action.Delete },
  { reason: 'Delete must look before deleting', input: { deleting: true, deletionPolicy: 'Delete' }, action: Action.Observe },
  { reason: 'Delete with the resource present: delete', input: { deleting: true, deletionPolicy: 'Delete', observed: inSync }, action: Action.Delete },
  { reason: 'Delete while AWS is deleting: wait', input: { deleting: true, deletionPolicy: 'Delete', observed: deleting }, action: Action.WaitUntilDeleted },
  { reason: 'Delete with the resource gone: release', input: { deleting: true, deletionPolicy: 'Delete', observed: missing }, action: Action.Release },
  { reason: "Delete never removes another resource's AWS object", input: { deleting: true, deletionPolicy: 'Delete', observed: foreign }, action: Action.Release },
  { reason: 'made outside the operator: AlreadyExists, never taken over', input: { ...live, observed: theirs }, action: Action.AlreadyExists },
  { reason: 'made outside, adoption-policy adopt: adopt', input: { ...live, observed: theirs, adoption: 'adopt' }, action: Action.Adopt },
  { reason: 'made outside, adopt-or-create: adopt', input: { ...live, observed: theirs, adoption: 'adopt-or-create' }, action: Action.Adopt },
  { reason: 'adopt with nothing to adopt: never create', input: { ...live, observed: missing, adoption: 'adopt' }, action: Action.AdoptionTargetMissing },
  { reason: 'adopt-or-create with nothing there: create', input: { ...live, observed: missing, adoption: 'adopt-or-create' }, action: Action.Create },
  { reason: 'recorded as ours, owner tag removed by hand: repair, not AlreadyExists', input: { ...live, observed: untaggedOurs, recordedID: 'vpc-ours' }, action: Action.Update },
  { reason: 'a recorded ID does not make another resource ours', input: { ...live, observed: theirs, recordedID: 'vpc-ours' }, action: Action.AlreadyExists },
  { reason: 'untagged right after our own create: ours (crash between create and tag)', input: { ...live, observed: theirs, creating: true }, action: Action.Update },
  { reason: 'another cluster owns it even under adopt: conflict', input: { ...live, observed: foreign, adoption: 'adopt' }, action: Action.Conflict },
  { reason: 'observe-only and present: observed, drift and all', input: { ...live, observed: drifted, managementPolicy: 'Observe' }, action: Action.Observed },
  { reason: 'observe-only and missing: never create', input: { ...live, observed: missing, managementPolicy: 'Observe' }, action: Action.ObservedMissing },
  { reason: 'observe-only deletion: release without looking', input: { ...gone, managementPolicy: 'Observe' }, action: Action.Release },
  { reason: 'Delete never removes what the operator did not make', input: { ...gone, observed: theirs }, action: Action.Release },
  { reason: 'Delete removes what is recorded as ours, tags or not', input: { ...gone, observed: untaggedOurs, recordedID: 'vpc-ours' }, action: Action.Delete },
];

for (const { reason, input, action } of cases) {
  test(`decide: ${reason}`, () => {
    assert.equal(decide(input).action, action);
  });
}

test('decide: an update reason lists the differences', () => {
  assert.match(decide({ deleting: false, deletionPolicy: 'Delete', observed: drifted }).reason, /versioning: Suspended -> Enabled/);
});

test('decide: AlreadyExists names the resource and how to adopt it', () => {
  const { reason } = decide({ ...live, observed: theirs });
  assert.match(reason, /vpc-theirs already exists and was not created by this operator/);
  assert.match(reason, /aws-infra-operator\.runner\.codes\/adoption-policy=adopt/);
});
