/**
 * Registers the search attributes the workflow writes. Without them a
 * workflow's upsert would fail its task forever, so the worker makes sure
 * before it takes work. The local stack registers them too, at start.
 */
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { OperatorConfig } from '../process/config.js';
import { temporalConnectionOptions } from '../process/temporal-connection.js';
import { searchAttributes } from '../workflows/messages.js';

export async function ensureSearchAttributes(
  config: Pick<OperatorConfig, 'temporalAddress' | 'temporalNamespace' | 'temporalSecurity'>,
): Promise<void> {
  const connection = await Connection.connect(await temporalConnectionOptions(config));
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace: config.temporalNamespace });
    const missing = Object.values(searchAttributes)
      .map((key) => key.name)
      .filter((name) => !(name in (existing.customAttributes ?? {})));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace: config.temporalNamespace,
      searchAttributes: Object.fromEntries(
        missing.map((name) => [name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  } finally {
    await connection.close();
  }
}
