/**
 * The options both processes connect to Temporal with: address, TLS (server
 * CA, SNI name, mTLS client certificate) and an API key, from
 * `OperatorConfig.temporalSecurity`. The worker's NativeConnection and the
 * watcher's and search-attribute Connection take the same shape, so one
 * function serves all three. Node only.
 */
import { readFile } from 'node:fs/promises';
import type { TLSConfig } from '@temporalio/client';
import type { OperatorConfig, TemporalSecurity } from './config.js';

/** What `Connection.connect` and `NativeConnection.connect` both accept of ours. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

async function readConfigured(variable: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new Error(`cannot read ${variable} file ${file} (${code}); mount the Secret there or unset ${variable}`, { cause: error });
  }
}

async function apiKeyOf(source: NonNullable<TemporalSecurity['apiKey']>): Promise<string> {
  if ('value' in source) return source.value;
  const key = (await readConfigured('TEMPORAL_API_KEY_FILE', source.file)).toString('utf8').trim();
  if (!key) throw new Error(`TEMPORAL_API_KEY_FILE ${source.file} is empty`);
  return key;
}

/**
 * Connection options for `config`: plain text unless TLS is asked for or
 * implied, the client certificate pair and CA read from their files now
 * (a rotated certificate or key takes a restart of the process).
 */
export async function temporalConnectionOptions(
  config: Pick<OperatorConfig, 'temporalAddress' | 'temporalSecurity'>,
): Promise<TemporalConnectionOptions> {
  const security = config.temporalSecurity;
  const options: TemporalConnectionOptions = { address: config.temporalAddress };
  if (!security.tls) return options;
  const tls: TLSConfig = {};
  if (security.serverName) tls.serverNameOverride = security.serverName;
  if (security.serverCAPath) tls.serverRootCACertificate = await readConfigured('TEMPORAL_TLS_CA_PATH', security.serverCAPath);
  if (security.clientCertPath && security.clientKeyPath) {
    tls.clientCertPair = {
      crt: await readConfigured('TEMPORAL_TLS_CERT_PATH', security.clientCertPath),
      key: await readConfigured('TEMPORAL_TLS_KEY_PATH', security.clientKeyPath),
    };
  }
  options.tls = tls;
  if (security.apiKey) options.apiKey = await apiKeyOf(security.apiKey);
  return options;
}
