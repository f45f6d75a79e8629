import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { KubeClients } from '../kube/client.js';
import { LeaderElection, holderIsGone, holderIdentity, microTime } from './leader.js';

/** The Lease API as the API server keeps it: one object, replaced only at its current resourceVersion. */
function fakeLeaseApi() {
  let stored: { metadata: { resourceVersion: string }; spec: Record<string, unknown> } | undefined;
  let version = 0;
  let down = false;
  const failure = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });
  const custom = {
    async getNamespacedCustomObject() {
      if (down) throw new Error('connect ECONNREFUSED');
      if (!stored) throw failure(404);
      return structuredClone(stored);
    },
    async createNamespacedCustomObject({ body }: { body: { spec: Record<string, unknown> } }) {
      if (down) throw new Error('connect ECONNREFUSED');
      if (stored) throw failure(409);
      stored = { ...body, metadata: { resourceVersion: String(++version) } };
      return stored;
    },
    async replaceNamespacedCustomObject({ body }: { body: { metadata?: { resourceVersion?: string }; spec: Record<string, unknown> } }) {
      if (down) throw new Error('connect ECONNREFUSED');
      if (!stored || body.metadata?.resourceVersion !== stored.metadata.resourceVersion) throw failure(409);
      stored = { ...body, metadata: { resourceVersion: String(++version) } };
      return stored;
    },
  };
  return {
    clients: { custom } as unknown as KubeClients,
    holder: () => stored?.spec.holderIdentity,
    setDown: (value: boolean) => {
      down = value;
    },
  };
}

const fast = { namespace: 'ops', name: 'watcher', durationMs: 600, renewMs: 100, renewDeadlineMs: 300, retryMs: 50 };

function elect(clients: KubeClients, identity: string) {
  const events: string[] = [];
  const election = new LeaderElection(clients, { ...fast, identity }, { started: () => events.push('started'), stopped: () => events.push('stopped') });
  const running = election.run();
  return { election, events, running };
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('one of two candidates leads; a graceful stop hands the Lease over at once', async () => {
  const api = fakeLeaseApi();
  const a = elect(api.clients, 'pod-a_1');
  await until('a leads', () => a.election.isLeader());
  const b = elect(api.clients, 'pod-b_1');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(b.election.isLeader(), false, 'b stands by while a renews');
  assert.ok(b.election.reachable, 'a standby that reaches the API server is ready');
  const stopped = Date.now();
  await a.election.stop();
  await a.running;
  await until('b leads', () => b.election.isLeader());
  assert.ok(Date.now() - stopped < 400, `released, not run out: took ${Date.now() - stopped} ms`);
  assert.deepEqual(a.events, ['started', 'stopped']);
  await b.election.stop();
  await b.running;
  assert.equal(api.holder(), '', 'the last holder leaves it free');
});

test('a holder that stops renewing (killed) is taken over once its Lease runs out, not before', async () => {
  const api = fakeLeaseApi();
  // A leader that renews through a client which, once "killed", never answers again.
  let killed = false;
  const dying = {
    custom: new Proxy(api.clients.custom, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (...args: unknown[]) => (killed ? new Promise(() => {}) : (value as (...a: unknown[]) => unknown).apply(target, args)) : value;
      },
    }),
  } as unknown as KubeClients;
  const a = elect(dying, 'pod-a_1');
  await until('a leads', () => a.election.isLeader());
  const b = elect(api.clients, 'pod-b_1');
  await new Promise((resolve) => setTimeout(resolve, 150));
  killed = true;
  const killedAt = Date.now();
  await until('b takes over', () => b.election.isLeader());
  const took = Date.now() - killedAt;
  assert.ok(took >= 600 - 150, `not before the Lease ran out: took ${took} ms`);
  assert.ok(took < 600 + 400, `soon after it ran out: took ${took} ms`);
  assert.equal(api.holder(), 'pod-b_1');
  assert.deepEqual(a.events, ['started', 'stopped'], 'the old leader, unable to renew, stopped leading first');
  await a.election.stop();
  await b.election.stop();
  await b.running;
});

test('a leader that cannot renew for the renew deadline stops leading, and leads again when it can', async () => {
  const api = fakeLeaseApi();
  const a = elect(api.clients, 'pod-a_1');
  await until('a leads', () => a.election.isLeader());
  api.setDown(true);
  await until('a stops leading', () => !a.election.isLeader());
  assert.equal(a.election.reachable, false);
  api.setDown(false);
  await until('a leads again (the Lease still names it)', () => a.election.isLeader());
  assert.deepEqual(a.events, ['started', 'stopped', 'started']);
  await a.election.stop();
  await a.running;
});

test('a holder of this pod whose process is gone is taken over at once', () => {
  const self = holderIdentity('pod-a');
  assert.equal(self, `pod-a_${process.pid}`);
  const gone = spawnSync(process.execPath, ['-e', '']).pid;
  assert.equal(holderIsGone(`pod-a_${gone}`, self), true, 'a process that exited');
  assert.equal(holderIsGone(`pod-a_${process.pid}`, self), false, 'ourselves');
  assert.equal(holderIsGone(`pod-b_${gone}`, self), false, 'another pod: its process IDs mean nothing here');
  assert.equal(holderIsGone('garbage', self), false);
});

test('Lease times are MicroTime, with six fractional digits', () => {
  assert.equal(microTime(new Date('2025-01-02T03:04:05.678Z')), '2025-01-02T03:04:05.678000Z');
});
