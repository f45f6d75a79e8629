/**
 * ResourceWatch against a scripted fake API server: 410 Gone, silent
 * watches, bookmarks, periodic re-lists, failed lists and stop() are each
 * made to happen on demand, which a real API server does not allow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { kubeClients, type CustomResource, type KubeConfig } from '../kube/client.js';
import { API_GROUP, API_VERSION, kindDefinition } from '../crds/index.js';
import { LIST_PAGE_SIZE, ResourceWatch, watchedObject, type WatchedObject, type WatchTimings } from './resource-watch.js';

const PATH = `/apis/${API_GROUP}/${API_VERSION}/s3buckets`;

interface ApiRequest {
  watch: boolean;
  resourceVersion: string | null;
  query: URLSearchParams;
  at: number;
}

/** One open watch response; the test decides what the server says on it and when it ends. */
class WatchStream {
  closed = false;
  constructor(
    readonly request: ApiRequest,
    private readonly res: ServerResponse,
  ) {
    res.on('close', () => {
      this.closed = true;
    });
  }

  send(type: string, object: object): void {
    this.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  end(): void {
    this.res.end();
  }
}

/** A Kubernetes API server that knows one resource collection, scripted by the test through its public fields. */
class FakeApi {
  readonly requests: ApiRequest[] = [];
  readonly watches: WatchStream[] = [];
  failLists = 0;
  /** How long a list takes to answer. */
  listDelayMs = 0;
  /** End every watch as soon as it opens, as a misbehaving proxy might. */
  closeWatchesAtOnce = false;
  /** Answer this many of the next requests with a continue token 410 Expired, as after etcd compacted the list's snapshot. */
  expireContinueTokens = 0;
  /** Called as a continue token expires: what changes between a list's attempts. */
  onExpire: () => void = () => undefined;
  private readonly server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname !== PATH) {
      res.writeHead(404).end();
      return;
    }
    const request = {
      watch: url.searchParams.get('watch') === 'true',
      resourceVersion: url.searchParams.get('resourceVersion'),
      query: url.searchParams,
      at: Date.now(),
    };
    this.requests.push(request);
    if (request.watch) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // Without this the client's fetch would not resolve until the first event.
      res.flushHeaders();
      this.watches.push(new WatchStream(request, res));
      if (this.closeWatchesAtOnce) res.end();
    } else if (this.listDelayMs > 0) {
      const delayMs = this.listDelayMs;
      this.listDelayMs = 0;
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(this.page(url.searchParams)));
      }, delayMs);
    } else if (this.failLists > 0) {
      this.failLists--;
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, reason: 'InternalError', message: 'etcd down' }));
    } else if (url.searchParams.has('continue') && this.expireContinueTokens > 0) {
      this.expireContinueTokens--;
      this.onExpire();
      res.writeHead(410, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'The provided continue parameter is too old to display a consistent list result.' }));
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(this.page(url.searchParams)));
    }
  });

  constructor(
    public items: CustomResource[],
    public resourceVersion: string,
  ) {}

  /**
   * One page of the list, as `limit` and `continue` ask: the token is the
   * offset of the next item, opaque to the client as a real server's is.
   */
  private page(query: URLSearchParams): object {
    const start = Number(query.get('continue') ?? 0);
    const limit = Number(query.get('limit') ?? 0) || this.items.length;
    const end = Math.min(this.items.length, start + limit);
    const metadata = end < this.items.length ? { resourceVersion: this.resourceVersion, continue: String(end) } : { resourceVersion: this.resourceVersion };
    return { kind: 'S3BucketList', apiVersion: `${API_GROUP}/${API_VERSION}`, metadata, items: this.items.slice(start, end) };
  }

  get lists(): ApiRequest[] {
    return this.requests.filter((r) => !r.watch);
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function bucket(name: string, resourceVersion: string): CustomResource {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: 'S3Bucket',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion },
    spec: { providerRef: { name: 'aws' }, bucketName: name },
  };
}

/** A bookmark carries only a resourceVersion. */
function bookmark(resourceVersion: string): object {
  return { kind: 'S3Bucket', apiVersion: `${API_GROUP}/${API_VERSION}`, metadata: { resourceVersion } };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}

interface Harness {
  api: FakeApi;
  watch: ResourceWatch;
  /** What the handler saw, as `upsert default/name@rv listed|watched` and `remove default/name`. */
  events: string[];
  running: Promise<void>;
}

/** Runs `body` against a started watch, and always stops it and the server so the process can exit. */
async function scenario(
  initial: {
    items: CustomResource[];
    resourceVersion: string;
    failLists?: number;
    listDelayMs?: number;
    closeWatchesAtOnce?: boolean;
    expireContinueTokens?: number;
    onExpire?: (api: FakeApi) => void;
  },
  timings: Partial<WatchTimings>,
  body: (h: Harness) => Promise<void>,
): Promise<void> {
  const api = new FakeApi(initial.items, initial.resourceVersion);
  api.failLists = initial.failLists ?? 0;
  api.listDelayMs = initial.listDelayMs ?? 0;
  api.closeWatchesAtOnce = initial.closeWatchesAtOnce ?? false;
  api.expireContinueTokens = initial.expireContinueTokens ?? 0;
  api.onExpire = () => initial.onExpire?.(api);
  const config: KubeConfig = {
    source: 'fake',
    server: await api.listen(),
    namespace: 'default',
    tls: { rejectUnauthorized: false },
    credentials: { type: 'none' },
  };
  const events: string[] = [];
  const name = (o: WatchedObject) => `${o.ref.namespace}/${o.ref.name}`;
  const watch = new ResourceWatch(
    kubeClients(config),
    kindDefinition('S3Bucket'),
    {
      upsert: (o, listed) => events.push(`upsert ${name(o)}@${o.resourceVersion} ${listed ? 'listed' : 'watched'}`),
      remove: (o) => events.push(`remove ${name(o)}`),
    },
    { watchdogMs: 1000, relistMs: 60_000, maxBackoffMs: 200, ...timings },
  );
  const running = watch.run();
  try {
    await body({ api, watch, events, running });
  } finally {
    watch.stop();
    await running;
    await api.close();
  }
}

test('resource watch: the first list delivers every object, then watch events from the list resourceVersion', () =>
  scenario({ items: [bucket('a', '3'), bucket('b', '4')], resourceVersion: '5' }, {}, async ({ api, watch, events }) => {
    await until(() => api.watches.length === 1, 'the watch to open');
    assert.deepEqual(events, ['upsert default/a@3 listed', 'upsert default/b@4 listed']);
    const query = api.watches[0].request.query;
    assert.equal(query.get('resourceVersion'), '5');
    assert.equal(query.get('allowWatchBookmarks'), 'true');

    api.watches[0].send('ADDED', bucket('c', '6'));
    api.watches[0].send('MODIFIED', bucket('a', '7'));
    api.watches[0].send('DELETED', bucket('b', '8'));
    await until(() => events.length === 5, 'three watch events');
    assert.deepEqual(events.slice(2), ['upsert default/c@6 watched', 'upsert default/a@7 watched', 'remove default/b']);
    assert.deepEqual([...watch.cached()].map((o) => `${o.ref.name}@${o.resourceVersion}`).sort(), ['a@7', 'c@6']);
    assert.equal(api.lists.length, 1);
  }));

test('resource watch: 410 Gone re-lists and delivers what changed between the lists', () =>
  scenario({ items: [bucket('a', '3'), bucket('b', '4')], resourceVersion: '10' }, {}, async ({ api, watch, events }) => {
    await until(() => api.watches.length === 1, 'the watch to open');
    api.items = [bucket('b', '15'), bucket('c', '16')];
    api.resourceVersion = '20';
    api.watches[0].send('ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version' });

    await until(() => api.watches.length === 2, 'a watch after the re-list');
    assert.equal(api.lists.length, 2);
    assert.equal(watch.lists, 2);
    assert.deepEqual(events.slice(2), ['upsert default/b@15 listed', 'upsert default/c@16 listed', 'remove default/a']);
    assert.equal(api.watches[1].request.resourceVersion, '20');
    await until(() => api.watches[0].closed, 'the expired watch to be closed');
  }));

test('resource watch: a silent watch is abandoned after watchdogMs and followed by a re-list', () =>
  scenario({ items: [bucket('a', '3')], resourceVersion: '5' }, { watchdogMs: 300 }, async ({ api }) => {
    await until(() => api.lists.length === 2, 'a re-list after the watch went silent');
    const gap = api.lists[1].at - api.watches[0].request.at;
    // Not before the watchdog allows: a silent watch is not abandoned early.
    assert.ok(gap >= 250, `re-listed ${gap} ms after the watch opened`);
    await until(() => api.watches[0].closed, 'the silent watch to be closed by the client');
    await until(() => api.watches.length === 2, 'a new watch after the re-list');
  }));

test('resource watch: bookmarks keep a quiet watch alive and a clean close resumes from the last bookmark', () =>
  scenario({ items: [bucket('a', '3')], resourceVersion: '5' }, { watchdogMs: 500 }, async ({ api, events }) => {
    await until(() => api.watches.length === 1, 'the watch to open');
    // Three watchdog periods with bookmarks well inside each one.
    for (let version = 100; version < 115; version++) {
      api.watches[0].send('BOOKMARK', bookmark(String(version)));
      await delay(100);
    }
    assert.equal(api.lists.length, 1, 'a watch with bookmarks must not be treated as stalled');
    assert.equal(api.watches[0].closed, false);

    api.watches[0].send('BOOKMARK', bookmark('200'));
    api.watches[0].end();
    await until(() => api.watches.length === 2, 'a watch after the server closed the first');
    assert.equal(api.watches[1].request.resourceVersion, '200');
    assert.equal(api.lists.length, 1, 'a clean close must not re-list');
    assert.deepEqual(events, ['upsert default/a@3 listed'], 'bookmarks are not objects');
  }));

test('resource watch: re-lists every relistMs even while the watch is healthy', () =>
  scenario({ items: [bucket('a', '3')], resourceVersion: '5' }, { watchdogMs: 10_000, relistMs: 400 }, async ({ api, events }) => {
    await until(() => api.watches.length === 1, 'the watch to open');
    api.watches[0].send('MODIFIED', bucket('a', '6'));
    api.resourceVersion = '7';
    await until(() => api.lists.length === 3, 'two periodic re-lists', 4000);
    const gap = api.lists[1].at - api.watches[0].request.at;
    assert.ok(gap >= 300, `re-listed ${gap} ms after the watch opened`);
    assert.equal(api.watches[1].request.resourceVersion, '7');
    assert.ok(api.watches[0].closed, 'the watch is replaced, not left open beside the new one');
    assert.ok(!events.some((e) => e.startsWith('remove')), `nothing was deleted: ${events.join(', ')}`);
  }));

test('resource watch: a failed list is retried after backoff and the watch then starts', () =>
  scenario({ items: [bucket('a', '3')], resourceVersion: '5', failLists: 1 }, { maxBackoffMs: 200 }, async ({ api, events }) => {
    await until(() => api.watches.length === 1, 'the watch to open after the retried list');
    assert.deepEqual(api.requests.map((r) => (r.watch ? `watch@${r.resourceVersion}` : 'list')), ['list', 'list', 'watch@5']);
    const gap = api.lists[1].at - api.lists[0].at;
    assert.ok(gap >= 150, `retried after ${gap} ms, expected a backoff of about 200 ms`);
    assert.deepEqual(events, ['upsert default/a@3 listed']);
  }));

const buckets = (count: number, resourceVersion: string) => Array.from({ length: count }, (_, i) => bucket(`b${i}`, resourceVersion));

/** The lists asked for, each as its continue token ('first' without one). */
const continueTokens = (api: FakeApi) => api.lists.map((r) => r.query.get('continue') ?? 'first');

test('resource watch: lists in pages of LIST_PAGE_SIZE, following continue tokens, then watches from the resourceVersion', () =>
  scenario({ items: buckets(2 * LIST_PAGE_SIZE + 1, '3'), resourceVersion: '9' }, {}, async ({ api, watch, events }) => {
    await until(() => api.watches.length === 1, 'the watch to open');
    assert.deepEqual(continueTokens(api), ['first', String(LIST_PAGE_SIZE), String(2 * LIST_PAGE_SIZE)]);
    assert.ok(api.lists.every((r) => r.query.get('limit') === String(LIST_PAGE_SIZE)), 'every page asks for the limit');
    assert.equal(events.length, 2 * LIST_PAGE_SIZE + 1);
    assert.ok(events.every((e) => e.endsWith('listed')));
    assert.equal(watch.lists, 1, 'three pages are one list');
    assert.equal(api.watches[0].request.resourceVersion, '9');
  }));

test('resource watch: a re-list in pages removes only what none of its pages held', () =>
  scenario({ items: buckets(LIST_PAGE_SIZE + 2, '3'), resourceVersion: '9' }, {}, async ({ api, events }) => {
    await until(() => api.watches.length === 1, 'the watch to open');
    // b1 from the first page and the last object, from the second, are gone.
    api.items = api.items.filter((item) => item.metadata?.name !== 'b1' && item.metadata?.name !== `b${LIST_PAGE_SIZE + 1}`);
    api.resourceVersion = '20';
    api.watches[0].send('ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version' });
    await until(() => api.watches.length === 2, 'a watch after the re-list');
    assert.deepEqual(events.filter((e) => e.startsWith('remove')), ['remove default/b1', `remove default/b${LIST_PAGE_SIZE + 1}`]);
    assert.equal(api.watches[1].request.resourceVersion, '20');
  }));

test('resource watch: an expired continue token (410) lists again from the first page, and removes what went meanwhile', () => {
  const items = buckets(LIST_PAGE_SIZE + 1, '3');
  // Gone between the first attempt's first page and the restart: only a fresh snapshot shows it.
  const gone = items[0].metadata?.name;
  const expired = (api: FakeApi) => {
    api.items = api.items.slice(1);
    api.resourceVersion = '12';
  };
  return scenario({ items, resourceVersion: '9', expireContinueTokens: 1, onExpire: expired }, {}, async ({ api, watch, events }) => {
    await until(() => api.watches.length === 1, 'the watch to open after the restarted list');
    // One object fewer: the restarted list fits in one page.
    assert.deepEqual(continueTokens(api), ['first', String(LIST_PAGE_SIZE), 'first']);
    assert.equal(watch.lists, 1, 'the expired attempt is not a list');
    assert.deepEqual(events.filter((e) => e.startsWith('remove')), [`remove default/${gone}`]);
    assert.equal(api.watches[0].request.resourceVersion, '12', 'the watch starts from the restarted list');
  });
});

test('resource watch: continue tokens that keep expiring fail the list, which is retried after backoff', () =>
  scenario({ items: buckets(LIST_PAGE_SIZE + 1, '3'), resourceVersion: '9', expireContinueTokens: 3 }, { maxBackoffMs: 200 }, async ({ api, watch }) => {
    await until(() => api.watches.length === 1, 'the watch to open once a list completes');
    // Three attempts cut short at their second page, then, after the backoff, a complete list.
    const attempt = ['first', String(LIST_PAGE_SIZE)];
    assert.deepEqual(continueTokens(api), [...attempt, ...attempt, ...attempt, ...attempt]);
    const gap = api.lists[6].at - api.lists[5].at;
    assert.ok(gap >= 150, `listed again after ${gap} ms, expected a backoff of about 200 ms`);
    assert.equal(watch.lists, 1);
  }));

test('resource watch: stop() ends run() and closes the watch', () =>
  scenario({ items: [], resourceVersion: '5' }, { watchdogMs: 10_000 }, async ({ api, watch, running }) => {
    await until(() => api.watches.length === 1, 'the watch to open');
    watch.stop();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      running.then(() => 'resolved'),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('still running'), 1000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(outcome, 'resolved');
    await until(() => api.watches[0].closed, 'the watch connection to close');
    assert.equal(api.requests.length, 2, 'no request after stop()');
  }));

test('resource watch: stop() during a list opens no watch afterwards', () =>
  scenario({ items: [bucket('a', '3')], resourceVersion: '5', listDelayMs: 300 }, { watchdogMs: 10_000 }, async ({ api, watch, running }) => {
    await until(() => api.lists.length === 1, 'the list to be asked for');
    watch.stop();
    await running;
    await delay(100);
    assert.equal(api.watches.length, 0, 'a watch was opened after stop()');
  }));

test('resource watch: watches the server ends at once, empty, are reopened with backoff, not in a tight loop', () =>
  scenario({ items: [], resourceVersion: '5', closeWatchesAtOnce: true }, { maxBackoffMs: 200 }, async ({ api }) => {
    await until(() => api.watches.length >= 2, 'the watch to be reopened');
    await delay(1000);
    // Backoff of 0.5 s, capped at 0.2 s here: about five reopenings a second, where a tight loop makes hundreds.
    assert.ok(api.watches.length <= 12, `${api.watches.length} watches in about a second`);
    assert.equal(api.lists.length, 1, 'a clean close keeps the resourceVersion: no re-list');
  }));

/** A bucket as the API server returns it: about 20 KiB of managedFields, a spec, our annotations and others', a status. */
function heavyBucket(name: string, resourceVersion: string): CustomResource {
  const fields = Array.from({ length: 200 }, (_, i) => ({
    manager: `kubectl-client-side-apply-${i}`,
    operation: 'Update',
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    time: '2026-12-01T12:00:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': { 'f:annotations': { '.': {} } } },
  }));
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: 'S3Bucket',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      resourceVersion,
      generation: 3,
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(2000),
        'aws-infra-operator.runner.codes/paused': 'true',
      },
      managedFields: fields,
    },
    spec: { providerRef: { name: 'aws' }, bucketName: name, tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`tag${i}`, 'v'.repeat(40)])) },
    status: { ready: true, arn: `arn:aws:s3:::${name}`, lastSyncTime: '2026-12-01T12:00:00Z', conditions: [{ type: 'Ready', status: 'True', reason: 'Available', lastTransitionTime: 't' }] },
  };
}

test('resource watch: a cached entry keeps only what the diff and the dispatcher need, well under 1 KiB', () => {
  const object = heavyBucket('a', '3');
  assert.ok(JSON.stringify(object.metadata?.managedFields).length > 20_000, 'the fixture carries 20 KiB of managedFields');
  const entry = watchedObject(kindDefinition('S3Bucket'), object);
  const json = JSON.stringify(entry);
  assert.ok(json.length < 1024, `${json.length} bytes: ${json}`);
  assert.ok(!json.includes('managedFields') && !json.includes('kubectl'), json);
  assert.ok(!('spec' in entry) && !json.includes('tag0'), 'no spec beyond its references');
  assert.deepEqual(entry, {
    ref: { kind: 'S3Bucket', namespace: 'default', name: 'a' },
    uid: 'uid-a',
    resourceVersion: '3',
    generation: 3,
    deleting: false,
    annotations: { 'aws-infra-operator.runner.codes/paused': 'true' },
    statusFingerprint: JSON.stringify({ ready: true, arn: 'arn:aws:s3:::a', conditions: [{ type: 'Ready', status: 'True', reason: 'Available' }] }),
    references: [{ kind: 'AWSProvider', namespace: 'default', name: 'aws' }],
  });
});

test('resource watch: a spec too broken to read references from is kept with none', () => {
  // A null spec: what an object written before its CRD had a schema can hold.
  const object = { ...bucket('a', '3'), spec: null as unknown as Record<string, unknown> };
  assert.deepEqual(watchedObject(kindDefinition('S3Bucket'), object).references, []);
});

test('resource watch: what the list and the watch cache is the slim entry, not the object', () =>
  scenario({ items: [heavyBucket('a', '3')], resourceVersion: '5' }, {}, async ({ api, watch }) => {
    await until(() => api.watches.length === 1, 'the watch to open');
    api.watches[0].send('ADDED', heavyBucket('b', '6'));
    await until(() => [...watch.cached()].length === 2, 'the watched object to be cached');
    for (const entry of watch.cached()) {
      const json = JSON.stringify(entry);
      assert.ok(json.length < 1024 && !json.includes('managedFields'), json);
    }
  }));
