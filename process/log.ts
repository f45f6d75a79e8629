/**
 * One-line JSON logs for the watcher and worker processes (Node only: never
 * imported by workflow code). Callers pass
 * identifiers and error names only; no spec or Secret value is logged.
 */
type Fields = Record<string, string | number | boolean | undefined>;

function write(level: string, message: string, fields: Fields = {}): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
}

export const log = {
  info: (message: string, fields?: Fields) => write('info', message, fields),
  warn: (message: string, fields?: Fields) => write('warn', message, fields),
  error: (message: string, fields?: Fields) => write('error', message, fields),
};
