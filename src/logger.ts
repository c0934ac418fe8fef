/**
 * pino root logger. Subsystems take `logger.child({ subsystem })`. Secrets (cookies, authorization
 * headers, passwords, tokens) are redacted wherever they appear in a logged object.
 */
import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  '*.code_verifier',
  '*.pin',
  'password',
  'token',
  'secret',
];

/** Build the root logger from config. `destination` lets tests capture output. */
export function createLogger(config: Pick<Config, 'log'>, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.log.level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  if (destination) return pino(options, destination);
  if (config.log.pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino(options);
}
