/**
 * Registers the search attributes the workflow and the watcher write
 * (`searchAttributes` in workflows/messages.ts: ResourceKind,
 * ResourceNamespace, ResourceName, ResourcePhase, AwsAccount, AwsRegion).
 * Without them a workflow's upsert would fail its task forever, so the
 * worker makes sure before it takes work. The local stack registers them
 * too, at start.
 */
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { OperatorConfig } from '../process/config.js';
import { temporalConnectionOptions } from '../process/temporal-connection.js';
import { searchAttributes } from '../workflows/messages.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;

/** The attributes `existing` lacks, each with the type it is registered as. */
export function missingSearchAttributes(existing: Record<string, unknown>): Record<string, proto.temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(
    Object.values(searchAttributes)
      .filter((key) => !(key.name in existing))
      .map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]),
  );
}

export async function ensureSearchAttributes(
  config: Pick<OperatorConfig, 'temporalAddress' | 'temporalNamespace' | 'temporalSecurity'>,
): Promise<void> {
  const connection = await Connection.connect(await temporalConnectionOptions(config));
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace: config.temporalNamespace });
    const missing = missingSearchAttributes(existing.customAttributes ?? {});
    if (Object.keys(missing).length === 0) return;
    await connection.operatorService.addSearchAttributes({ namespace: config.temporalNamespace, searchAttributes: missing });
  } finally {
    await connection.close();
  }
}
