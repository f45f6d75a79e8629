/** What the benchmark scripts share. */
import { readFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { API_GROUP } from '../crds/index.js';

/** Runs `work` over `items` with at most `limit` at once. */
export async function pool<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index], index);
      }
    }),
  );
}

/** VmRSS and VmHWM (the peak RSS since the process started) in MiB, from /proc. */
export async function residentMiB(pid: number | undefined): Promise<{ rss: number; peak: number }> {
  if (pid === undefined) return { rss: NaN, peak: NaN };
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

const EventType = proto.temporal.api.enums.v1.EventType;
/** Events Temporal Cloud bills as one action each (local activities aside, see historyCounts). */
const ACTION_EVENTS = new Set([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
]);

/**
 * The API server's own request counters (apiserver_request_total) for what
 * the operator works on (our kinds, Events, Secrets), summed by verb; its
 * Lease and the API server's own housekeeping are not resources' cost.
 */
export async function apiServerRequests(cluster: { kubectl(args: string[]): Promise<string> }): Promise<Record<string, number>> {
  const text = await cluster.kubectl(['get', '--raw', '/metrics']);
  const byVerb: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const ours = line.includes(`group="${API_GROUP}"`) || /resource="(events|secrets)"/.test(line);
    if (!ours || line.includes('resource="customresourcedefinitions"')) continue;
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1] ?? '?';
    byVerb[verb] = (byVerb[verb] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return byVerb;
}

export function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}

export const sum = (values: Record<string, number>, keys?: string[]) =>
  Object.entries(values)
    .filter(([key]) => !keys || keys.includes(key))
    .reduce((total, [, value]) => total + value, 0);
export const WRITE_VERBS = ['POST', 'PUT', 'PATCH', 'DELETE'];

export interface HistoryCounts {
  events: number;
  actions: number;
  workflowTaskTimeouts: number;
}

/**
 * Events and billable actions in one workflow's current run, from `since`
 * (ms since the epoch). Actions as Temporal Cloud counts them: a start, a
 * signal, an activity scheduled, a timer, a search-attribute upsert, and the
 * local activities of one workflow task together as one.
 */
export async function historyCounts(temporal: Client, workflowId: string, since = 0): Promise<HistoryCounts> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const counts: HistoryCounts = { events: 0, actions: 0, workflowTaskTimeouts: 0 };
  let markersSinceTask = false;
  for (const event of history.events ?? []) {
    const at = Number(event.eventTime?.seconds ?? 0) * 1000;
    if (at < since) continue;
    counts.events++;
    const type = event.eventType ?? EventType.EVENT_TYPE_UNSPECIFIED;
    if (type === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) counts.workflowTaskTimeouts++;
    if (ACTION_EVENTS.has(type)) counts.actions++;
    if (type === EventType.EVENT_TYPE_MARKER_RECORDED) {
      if (!markersSinceTask) counts.actions++;
      markersSinceTask = true;
    } else if (type === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
      markersSinceTask = false;
    }
  }
  return counts;
}
