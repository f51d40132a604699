// Structured JSON logs (pino). Secrets are redacted here, in one place, wherever they appear.
import pino, { type Logger } from "pino";

export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-slipway-token"]',
  "token",
  "*.token",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "databaseUrl",
  "*.databaseUrl",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" }, base: { service: "slipway" } }, destination);
}
