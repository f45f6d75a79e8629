import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Filter } from '@aws-sdk/client-ec2';
import { CLUSTER_TAG, OWNER_TAG } from '../../../contract/identity.js';
import { TEST_CLUSTER_ID, awsError, stubContext } from '../testing.js';
import { EC2_ERROR_CODES, clientToken, everyPage, findByOwnerTag, findOwned, type OwnedLookup } from './common.js';
import { isOurs } from '../tags.js';

const resource = { kind: 'VPC', namespace: 'default', name: 'app-vpc', uid: 'uid-1' };
const OURS = { [OWNER_TAG]: 'VPC/default/app-vpc', [CLUSTER_TAG]: TEST_CLUSTER_ID };

interface Thing {
  id: string;
  tags: Record<string, string>;
  state?: string;
  created?: number;
}

/** A lookup over a fixed list that records what it was asked. */
function lookup(things: Thing[] | Error, extra: Partial<OwnedLookup<Thing>> = {}) {
  const asked = { ids: [] as string[][], filters: [] as Filter[][] };
  const answer = () => {
    if (things instanceof Error) throw things;
    return things;
  };
  const value: OwnedLookup<Thing> = {
    byIDs: async (ids) => {
      asked.ids.push(ids);
      return answer().filter((thing) => ids.includes(thing.id));
    },
    byFilter: async (filters) => {
      asked.filters.push(filters);
      return answer();
    },
    idOf: (thing) => thing.id,
    tagsOf: (thing) => thing.tags,
    errorCodes: { notFound: [...EC2_ERROR_CODES.notFound] },
    ...extra,
  };
  return { value, asked };
}

describe('findOwned', () => {
  test('without a recorded ID: the tag filter carries the owner and the cluster tag values', async () => {
    const { value, asked } = lookup([{ id: 'x-1', tags: OURS }]);
    const found = await findOwned(stubContext({}, { resource }), value);
    assert.equal(found.resource?.id, 'x-1');
    assert.deepEqual(asked.filters, [
      [
        { Name: `tag:${OWNER_TAG}`, Values: ['VPC/default/app-vpc'] },
        { Name: `tag:${CLUSTER_TAG}`, Values: [TEST_CLUSTER_ID] },
      ],
    ]);
    assert.deepEqual(asked.ids, []);
  });

  test('by tag: the lowest ID is managed, the others are duplicates; what is not ours is dropped', async () => {
    const { value } = lookup([
      { id: 'x-3', tags: OURS },
      { id: 'x-1', tags: OURS },
      { id: 'x-0', tags: { ...OURS, [CLUSTER_TAG]: 'other-cluster' } },
      { id: 'x-2', tags: { [OWNER_TAG]: 'VPC/default/app-vpc' } },
    ]);
    const found = await findOwned(stubContext({}, { resource }), value);
    assert.equal(found.resource?.id, 'x-1');
    assert.deepEqual(
      found.duplicates.map((thing) => thing.id),
      ['x-3'],
    );
  });

  test('by tag: a kind with `live` and `order` keeps its gone ones apart and orders the live ones its way', async () => {
    const { value } = lookup(
      [
        { id: 'x-1', tags: OURS, created: 2 },
        { id: 'x-2', tags: OURS, created: 1 },
        { id: 'x-0', tags: OURS, state: 'deleted', created: 0 },
      ],
      { live: (thing) => thing.state !== 'deleted', order: (a, b) => (a.created ?? 0) - (b.created ?? 0) },
    );
    const found = await findOwned(stubContext({}, { resource }), value);
    assert.equal(found.resource?.id, 'x-2');
    assert.deepEqual(
      found.duplicates.map((thing) => thing.id),
      ['x-1'],
    );
    assert.deepEqual(
      found.gone.map((thing) => thing.id),
      ['x-0'],
    );
  });

  test('with a recorded ID: described by that ID only, whatever its tags say, with no tag lookup', async () => {
    const { value, asked } = lookup([
      { id: 'x-1', tags: OURS },
      { id: 'x-2', tags: {} },
    ]);
    const found = await findOwned(stubContext({}, { resource, awsID: 'x-2' }), value);
    assert.equal(found.resource?.id, 'x-2');
    assert.deepEqual(found.duplicates, []);
    assert.deepEqual(asked.ids, [['x-2']]);
    assert.deepEqual(asked.filters, []);
  });

  test('with a recorded ID that is gone (NotFound, or listed as not live): nothing, and no tag lookup', async () => {
    const notFound = lookup(awsError('InvalidVpcID.NotFound'));
    const none = await findOwned(stubContext({}, { resource, awsID: 'x-1' }), notFound.value);
    assert.equal(none.resource, undefined);
    assert.deepEqual(notFound.asked.filters, []);

    const deleted = lookup([{ id: 'x-1', tags: OURS, state: 'deleted' }], { live: (thing) => thing.state !== 'deleted' });
    const gone = await findOwned(stubContext({}, { resource, awsID: 'x-1' }), deleted.value);
    assert.equal(gone.resource, undefined);
    assert.deepEqual(
      gone.gone.map((thing) => thing.id),
      ['x-1'],
    );
    assert.deepEqual(deleted.asked.filters, []);
  });

  test('errors other than NotFound are thrown', async () => {
    const { value } = lookup(awsError('RequestLimitExceeded', { fault: 'server', status: 503 }));
    await assert.rejects(findOwned(stubContext({}, { resource, awsID: 'x-1' }), value), { name: 'RequestLimitExceeded' });
  });

  test('findByOwnerTag looks by the tags even when an ID is recorded (the wait after a create)', async () => {
    const { value, asked } = lookup([{ id: 'x-5', tags: OURS }]);
    const found = await findByOwnerTag(stubContext({}, { resource, awsID: 'x-1' }), value);
    assert.equal(found.resource?.id, 'x-5');
    assert.deepEqual(asked.ids, []);
  });
});

describe('everyPage', () => {
  test('follows NextToken until there is none', async () => {
    const asked: Array<string | undefined> = [];
    const pages: Record<string, { items: number[]; next: string | undefined }> = {
      first: { items: [1, 2], next: 'p2' },
      p2: { items: [3], next: 'p3' },
      p3: { items: [], next: undefined },
    };
    const all = await everyPage(async (token) => {
      asked.push(token);
      return pages[token ?? 'first'] ?? { items: undefined, next: undefined };
    });
    assert.deepEqual(all, [1, 2, 3]);
    assert.deepEqual(asked, [undefined, 'p2', 'p3']);
  });
});

describe('isOurs and clientToken', () => {
  test('ours only with our owner tag and our cluster tag', () => {
    const context = stubContext({}, { resource });
    assert.equal(isOurs(context, OURS), true);
    assert.equal(isOurs(context, { [OWNER_TAG]: 'VPC/default/app-vpc' }), false);
    assert.equal(isOurs(context, { ...OURS, [CLUSTER_TAG]: 'other' }), false);
    assert.equal(isOurs(context, { ...OURS, [OWNER_TAG]: 'VPC/default/other' }), false);
    assert.equal(isOurs(context, {}), false);
  });

  test('the uid, naming what it replaces when something was deleted; never over 64 characters', () => {
    assert.equal(clientToken('uid-1'), 'uid-1');
    assert.equal(clientToken('uid-1', 'nat-old'), 'uid-1-nat-old');
    assert.equal(clientToken('x'.repeat(60), 'nat-old').length, 64);
  });
});
