import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OWNER_TAG } from '../../contract/identity.js';
import { stubContext } from './testing.js';
import { assertNotOwnedByAnother, compareTags, otherOwner, tagChanges } from './tags.js';

test('tags: added, removed and changed keys, and the writes that fix them', () => {
  assert.equal(compareTags({ Team: 'a', Env: 'prod' }, { Env: 'dev', Extra: 'x' }), '+Team, -Extra, ~Env');
  assert.equal(compareTags({ a: '1' }, { a: '1' }), undefined);
  assert.deepEqual(tagChanges({ Team: 'a', Env: 'prod', Same: 's' }, { Env: 'dev', Extra: 'x', Same: 's' }), {
    set: { Team: 'a', Env: 'prod' },
    remove: ['Extra'],
  });
});

test('tags: another resource owner is recognised and refused; ours and untagged are not', () => {
  const context = stubContext({});
  const mine = context.tags[OWNER_TAG];
  assert.equal(otherOwner(context, { [OWNER_TAG]: mine }), undefined);
  assert.equal(otherOwner(context, {}), undefined);
  assert.equal(otherOwner(context, { [OWNER_TAG]: 'S3Bucket/other/x' }), 'S3Bucket/other/x');
  assert.throws(() => assertNotOwnedByAnother(context, 'bucket b', { [OWNER_TAG]: 'S3Bucket/other/x' }), {
    name: 'OwnedByAnotherResource',
    message: /bucket b is already managed by S3Bucket\/other\/x/,
  });
});
