/**
 * The backend's log: lines at a level (`BFF_LOG_LEVEL`: error, warn, info, debug; default info) go
 * to a sink. The default sink, `stdoutSink`, never writes on the request's path: lines are buffered
 * and written together with one `process.stdout.write` once the current I/O turn is over
 * (setImmediate), and whatever is left when the process exits is written then. A line below the
 * level is dropped before it is formatted, so the bff-token hit path (whose success line is debug)
 * costs nothing by default.
 */

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogSink = (line: string) => void;

/** Whether a line at `level` passes the configured `threshold`. */
export function logsAt(threshold: LogLevel, level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(threshold);
}

const drop: LogSink = () => {};

/** The sink for `level` under `threshold`: `sink` itself, or one that drops the line. */
export function atLevel(sink: LogSink, threshold: LogLevel, level: LogLevel): LogSink {
  return logsAt(threshold, level) ? sink : drop;
}

/** Lines to stdout, buffered and flushed asynchronously (one write per turn of the event loop). */
export function stdoutSink(write: (text: string) => unknown = (text) => process.stdout.write(text)): LogSink {
  let buffered: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (buffered.length === 0) return;
    const text = `${buffered.join('\n')}\n`;
    buffered = [];
    write(text);
  };
  process.once('exit', flush);
  return (line) => {
    buffered.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
