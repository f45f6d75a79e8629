/** Where the local stack's binaries are: the stack's cache, else PATH. */
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const cacheDirectory = process.env.INFRA_CACHE ?? path.join(os.homedir(), '.cache', 'infra-operator');

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Path of a binary installed by stack/install.sh, or found on PATH. */
export async function stackBinary(name: string): Promise<string> {
  const cached = path.join(cacheDirectory, 'bin', name);
  if (await executable(cached)) return cached;
  for (const directory of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(directory, name);
    if (directory && (await executable(candidate))) return candidate;
  }
  throw new Error(`${name} not found in ${path.join(cacheDirectory, 'bin')} or PATH; run bash stack/install.sh`);
}

export const temporalBinary = () => stackBinary('temporal');
export const helmBinary = () => stackBinary('helm');
