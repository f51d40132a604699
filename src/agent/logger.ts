// The agent's structured logs: JSON lines (pino) on stderr, with the server token redacted
// wherever it appears. The agent never imports the server's logger (layer boundary).
import pino, { type Logger } from "pino";

export type { Logger };

const REDACTED_PATHS = ["token", "*.token", "authorization", "*.authorization", "headers.authorization", "*.headers.authorization"];

export function createAgentLogger(level: string, destination: pino.DestinationStream = pino.destination({ dest: 2, sync: true })): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" }, base: { component: "agent" } }, destination);
}
