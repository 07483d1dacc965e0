import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

/** The root logger; modules take a child (`logger.child({ module })`). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = { level, base: { service: 'stx-cinder-proxy' }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
