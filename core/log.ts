import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One structured logger per process. Asynchronous destination: a log line never blocks the
 * hot path. Secrets are redacted by key wherever they appear.
 */
export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.LUCIOLE_LOG_LEVEL ?? 'info',
      name: opts.name ?? 'luciole',
      redact: {
        paths: ['password', '*.password', 'secret', '*.secret', 'token', '*.token', 'authorization', '*.authorization'],
        censor: '[redacted]',
      },
    },
    pino.destination({ sync: false }),
  );
}

/** A logger that writes nothing: tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Logs a repeated condition at most once per `intervalMs` per key, with the number of
 * occurrences suppressed in between (an invalid payload flood must not flood the log).
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  warn(key: string, obj: Record<string, unknown>, msg: string): void {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    this.log.warn({ ...obj, suppressed: entry?.suppressed ?? 0 }, msg);
    this.last.set(key, { at: t, suppressed: 0 });
  }
}
