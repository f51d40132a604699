// When a host counts as unreachable: it has missed several heartbeats in a row. One missed
// beat is noise (a GC pause, a slow network); several are a host that is gone.

export const HEARTBEAT_INTERVAL_MS = 2_000;
export const MISSED_HEARTBEATS_BEFORE_UNREACHABLE = 5;

export function isReachable(lastHeartbeatAt: number, now: number, intervalMs = HEARTBEAT_INTERVAL_MS): boolean {
  return now - lastHeartbeatAt <= intervalMs * MISSED_HEARTBEATS_BEFORE_UNREACHABLE;
}
