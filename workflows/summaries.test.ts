import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Observation, ResourceStatus } from '../contract/activities.js';
import { awsSummaries, duration, kubeSummaries, locationAttributes, timerSummary, withSummaries } from './summaries.js';

const ref = { kind: 'NATGateway', namespace: 'team-a', name: 'egress' };
const request = { ref, uid: 'u1', spec: {}, awsID: 'nat-0abc' };
const observed: Observation = { exists: true, upToDate: false, ready: true, differences: ['tags.env: dev -> prod'], status: {} };

function status(phase: string, reason: string, message: string, extra: ResourceStatus['conditions'] = []): ResourceStatus {
  const condition = (type: string, s: 'True' | 'False') => ({ type, status: s, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' });
  return { ready: phase === 'Ready', phase, lastSyncTime: '2026-01-01T00:00:00Z', conditions: [condition('Ready', phase === 'Ready' ? 'True' : 'False'), ...extra] };
}

test('summaries: each AWS activity names its verb, the resource and the AWS ID it works on', () => {
  assert.equal(awsSummaries.observeResource(request), 'observe NATGateway team-a/egress (nat-0abc) in AWS');
  assert.equal(awsSummaries.observeResource({ ...request, deleting: true }), 'observe NATGateway team-a/egress (nat-0abc) in AWS before deleting it');
  assert.equal(awsSummaries.createResource({ ref, uid: 'u1', spec: {} }), 'create NATGateway team-a/egress in AWS');
  assert.equal(awsSummaries.updateResource(request, observed), 'update NATGateway team-a/egress (nat-0abc) in AWS: tags.env: dev -> prod');
  assert.equal(awsSummaries.updateResource(request, { ...observed, unmanaged: true }).split(' ')[0], 'adopt');
  assert.equal(awsSummaries.deleteResource(request), 'delete NATGateway team-a/egress (nat-0abc) from AWS');
});

test('summaries: Kubernetes activities say what they write', () => {
  assert.equal(kubeSummaries.loadResource(ref), 'read NATGateway team-a/egress from Kubernetes');
  assert.equal(kubeSummaries.patchStatus(ref, 'u1', status('Provisioning', 'Provisioning', 'pending')), 'write the status of NATGateway team-a/egress: Provisioning (Provisioning)');
  assert.equal(
    kubeSummaries.recordEvent(ref, 'u1', { type: 'Normal', reason: 'Created', message: 'created the AWS resource' }),
    'record Normal Event Created on NATGateway team-a/egress: created the AWS resource',
  );
});

test('summaries: a long list of differences is cut to one line of 200 characters', () => {
  const many = { ...observed, differences: Array.from({ length: 40 }, (_, i) => `tags.k${i}: a\nb -> c`) };
  const summary = awsSummaries.updateResource(request, many);
  assert.equal(summary.length, 200);
  assert.ok(!summary.includes('\n'));
  assert.ok(summary.endsWith('…'));
});

test('summaries: a timer says what it waits for, from the status just reported', () => {
  assert.equal(
    timerSummary(ref, 15, status('Provisioning', 'Provisioning', 'AWS state is pending')),
    'wait 15 s for NATGateway team-a/egress to become available in AWS (Provisioning: AWS state is pending)',
  );
  assert.equal(timerSummary(ref, 300, status('Ready', 'Available', 'ok')), 'wait 5 min, then check NATGateway team-a/egress for drift in AWS (a change wakes it sooner)');
  assert.match(timerSummary(ref, 4, status('Deleting', 'Deleting', 'AWS is deleting it')), /^wait 4 s for NATGateway team-a\/egress to be deleted/);
  assert.match(timerSummary(ref, 8, status('Waiting', 'ProviderNotReady', 'AWSProvider team-a/p is not Ready')), /^wait up to 8 s for what .* \(ProviderNotReady: AWSProvider team-a\/p is not Ready\)/);
  const terminal = status('Error', 'InvalidBucketName', 'bad name', [{ type: 'Terminal', status: 'True', reason: 'InvalidBucketName', message: 'bad name', lastTransitionTime: '2026-01-01T00:00:00Z' }]);
  assert.match(timerSummary(ref, 3600, terminal), /^wait 1 h before trying .* after a terminal error \(InvalidBucketName: bad name\)/);
  assert.match(timerSummary(ref, 2, status('Error', 'Throttling', 'slow down')), /^wait 2 s before retrying NATGateway team-a\/egress \(Throttling: slow down\)$/);
  const paused = status('Ready', 'Available', 'ok', [{ type: 'Paused', status: 'True', reason: 'Paused', message: 'paused', lastTransitionTime: '2026-01-01T00:00:00Z' }]);
  assert.match(timerSummary(ref, 60, paused), /is paused, no AWS call is made/);
  assert.match(timerSummary(ref, 1, undefined), /^wait 1 s before reconciling NATGateway team-a\/egress again/);
});

test('summaries: durations read the way a person says them', () => {
  assert.deepEqual([duration(1), duration(119), duration(120), duration(3599), duration(3600), duration(5400)], ['1 s', '119 s', '2 min', '60 min', '1 h', '1.5 h']);
});

test('summaries: withSummaries passes each call its summary and its own arguments', async () => {
  const calls: Array<{ summary: string | undefined; args: unknown[] }> = [];
  const proxy = {
    loadResource: { executeWithOptions: (options: { summary?: string }, args: unknown[]) => (calls.push({ summary: options.summary, args }), Promise.resolve(null)) },
  };
  const described = withSummaries<{ loadResource(r: typeof ref): Promise<null> }>(proxy, { loadResource: (r) => `read ${r.name}` });
  assert.equal(await described.loadResource(ref), null);
  assert.deepEqual(calls, [{ summary: 'read egress', args: [ref] }]);
});

test('summaries: the account attribute appears only once the provider knows it', () => {
  assert.deepEqual(locationAttributes({ region: 'eu-west-1' }).map((a) => [a.key.name, a.value]), [['AwsRegion', 'eu-west-1']]);
  assert.deepEqual(
    locationAttributes({ region: 'eu-west-1', accountID: '123456789012' }).map((a) => [a.key.name, a.value]),
    [['AwsRegion', 'eu-west-1'], ['AwsAccount', '123456789012']],
  );
});
