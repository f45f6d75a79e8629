import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kinds } from '../../crds/index.js';
import { handledKinds, handlerFor } from './registry.js';

test('every kind the operator serves has exactly one AWS handler, and every handler a kind', async () => {
  const served = kinds.map((definition) => definition.kind).sort();
  assert.deepEqual([...handledKinds()].sort(), served);
  for (const kind of served) assert.equal((await handlerFor(kind)).kind, kind);
});

test('an unknown kind has no handler, and says so', async () => {
  await assert.rejects(handlerFor('Nope'), /no AWS handler for kind Nope/);
});

test('what a handler declares survives registration: SQS creates tagged, S3 does not (CreateBucket takes no tags)', async () => {
  assert.equal((await handlerFor('SQSQueue')).createsTagged, true);
  assert.equal((await handlerFor('S3Bucket')).createsTagged, undefined);
});
