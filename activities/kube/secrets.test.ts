import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inlineSecretFieldsSet, withoutSecretFields } from './secrets.js';

test('the spec that enters a workflow has no inline secret field, and keeps every other field', () => {
  const spec = { masterUsername: 'admin', masterUserPassword: 'hunter2-do-not-leak', dbName: 'app' };
  const stripped = withoutSecretFields(spec, ['masterUserPassword']);
  assert.deepEqual(stripped, { masterUsername: 'admin', dbName: 'app' });
  assert.doesNotMatch(JSON.stringify(stripped), /hunter2/);
  // The object it came from is untouched: the live spec is still what the user wrote.
  assert.equal(spec.masterUserPassword, 'hunter2-do-not-leak');
});

test('a kind without secret fields passes its spec through as it is', () => {
  const spec = { queueName: 'orders' };
  assert.equal(withoutSecretFields(spec, undefined), spec);
  assert.equal(withoutSecretFields(spec, []), spec);
});

test('only the secret fields a spec sets are warned about', () => {
  assert.deepEqual(inlineSecretFieldsSet({ masterUserPassword: 'x' }, ['masterUserPassword', 'authToken']), ['masterUserPassword']);
  assert.deepEqual(inlineSecretFieldsSet({ masterUsername: 'admin' }, ['masterUserPassword']), []);
});
