import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsProxy } from './aws-proxy.js';
import { rewriteItemState, slowState, type SlowStateOptions } from './slow-state.js';

const rds = { itemTag: 'DBInstance', idTag: 'DBInstanceIdentifier', statusTag: 'DBInstanceStatus' };
const cache = { itemTag: 'CacheCluster', idTag: 'CacheClusterId', statusTag: 'CacheClusterStatus' };

const describeDb = `<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances>
<DBInstance><DBInstanceIdentifier>db-1</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus><Endpoint><Port>5432</Port></Endpoint></DBInstance>
<DBInstance><DBInstanceIdentifier>db-2</DBInstanceIdentifier><Engine>postgres</Engine><DBInstanceStatus>available</DBInstanceStatus></DBInstance>
</DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>`;

test('slow state: only the named item reads the held state', () => {
  const rewritten = rewriteItemState(describeDb, rds, 'db-2', 'creating');
  assert.match(rewritten, /<DBInstanceIdentifier>db-1<\/DBInstanceIdentifier><DBInstanceStatus>available</);
  assert.match(rewritten, /<DBInstanceIdentifier>db-2<\/DBInstanceIdentifier><Engine>postgres<\/Engine><DBInstanceStatus>creating</);
});

test('slow state: identifiers match case-insensitively and unknown ones change nothing', () => {
  assert.match(rewriteItemState(describeDb, rds, 'DB-1', 'modifying'), /db-1<\/DBInstanceIdentifier><DBInstanceStatus>modifying</);
  assert.equal(rewriteItemState(describeDb, rds, 'db-9', 'creating'), describeDb);
  assert.equal(rewriteItemState(describeDb, rds, 'db', 'creating'), describeDb);
});

test('slow state: the item shape is the caller’s (ElastiCache)', () => {
  const body = '<CacheClusters><CacheCluster><CacheClusterId>c-1</CacheClusterId><CacheClusterStatus>available</CacheClusterStatus></CacheCluster></CacheClusters>';
  assert.match(rewriteItemState(body, cache, 'c-1', 'creating'), /<CacheClusterStatus>creating</);
  assert.equal(rewriteItemState(body, rds, 'c-1', 'creating'), body);
});

/** A stand-in AWS answering the three calls with `available`, or 400 for a create of `taken`. */
async function fakeRds(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const id = form.get('DBInstanceIdentifier') ?? 'db-1';
      if (id === 'taken') {
        response.writeHead(400).end('<ErrorResponse><Error><Code>DBInstanceAlreadyExists</Code></Error></ErrorResponse>');
        return;
      }
      response.writeHead(200).end(`<R><DBInstance><DBInstanceIdentifier>${id}</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus></DBInstance></R>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function call(proxy: AwsProxy, action: string, id: string): Promise<{ status: number; body: string }> {
  const response = await fetch(proxy.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Action: action, DBInstanceIdentifier: id }).toString(),
  });
  return { status: response.status, body: await response.text() };
}

const statusOf = (body: string): string | undefined => /<DBInstanceStatus>([^<]*)</.exec(body)?.[1];

test('slow state through the proxy: create and modify holds, then the real state; refused calls start no hold', async () => {
  const upstream = await fakeRds();
  const proxy = new AwsProxy(upstream.url);
  await proxy.start();
  const options: SlowStateOptions = {
    ...rds,
    createOperations: ['CreateDBInstance'],
    modifyOperations: ['ModifyDBInstance'],
    describeOperation: 'DescribeDBInstances',
    createState: 'creating',
    modifyState: 'modifying',
    createMs: 400,
    modifyMs: 400,
  };
  const slow = slowState(proxy, options);
  try {
    assert.equal(statusOf((await call(proxy, 'CreateDBInstance', 'db-1')).body), 'creating');
    assert.equal(statusOf((await call(proxy, 'DescribeDBInstances', 'db-1')).body), 'creating');
    assert.ok(slow.heldUntil('DB-1'));
    assert.equal(slow.rewrites, 1);
    await waitFor(() => slow.heldUntil('db-1') === undefined);
    assert.equal(statusOf((await call(proxy, 'DescribeDBInstances', 'db-1')).body), 'available');

    assert.equal(statusOf((await call(proxy, 'ModifyDBInstance', 'db-1')).body), 'modifying');
    assert.equal(statusOf((await call(proxy, 'DescribeDBInstances', 'db-1')).body), 'modifying');

    assert.equal((await call(proxy, 'CreateDBInstance', 'taken')).status, 400);
    assert.equal(slow.heldUntil('taken'), undefined);

    slow.hold('db-7', 'backing-up', 1000);
    assert.equal(statusOf((await call(proxy, 'DescribeDBInstances', 'db-7')).body), 'backing-up');
    slow.stop();
    assert.equal(statusOf((await call(proxy, 'DescribeDBInstances', 'db-7')).body), 'available');
  } finally {
    slow.stop();
    await proxy.stop();
    await upstream.close();
  }
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
