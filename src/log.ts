import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * The root logger; modules take a child (`logger.child({ module })`). JSON lines, except with `pretty`
 * (the composition root asks for it only when stdout is a terminal): the same records, readable.
 */
export function createLogger(level: string, destination?: DestinationStream | { pretty: boolean }): Logger {
  const options: LoggerOptions = { level, base: { service: 'stx-cinder-proxy' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (destination && 'pretty' in destination) {
    if (!destination.pretty) return pino(options);
    return pino(options, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', sync: true }));
  }
  return destination ? pino(options, destination) : pino(options);
}

/** Readable logs only for a person at a terminal: never when stdout is a pipe or file, never in CI. */
export function wantsPrettyLogs(stdoutIsTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return stdoutIsTTY === true && !env.CI && env.NODE_ENV !== 'test' && !env.VITEST;
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Anything that can hand out a logger when one is needed. */
export interface LoggerSource {
  readonly logger: Logger;
}

/**
 * A child logger made on first use: most requests log nothing at the configured level, and a pino child
 * per request is a measurable cost. A class on purpose (a getter on the prototype): with an object
 * literal holding its own `get logger()` per request, each request's whole object graph survived
 * young-generation GCs and was promoted (measured with --trace-gc-nvp; most likely each such literal
 * gets a V8 map of its own, in old space, that reaches the getter's closure).
 */
export class LazyChildLogger implements LoggerSource {
  private child: Logger | undefined;

  constructor(protected readonly parent: LoggerSource, private readonly bindings: Record<string, unknown>) {}

  get logger(): Logger {
    return (this.child ??= this.parent.logger.child(this.bindings));
  }
}
