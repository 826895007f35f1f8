/** One JSON object per event (listening, request, refused, reload); the sidecar's main writes it as a line. */
export type SidecarLog = (entry: Record<string, unknown>) => void;

/** A log writer for a stream: one JSON line per entry, timestamped. */
export function jsonLineLog(write: (line: string) => void, now: () => Date = () => new Date()): SidecarLog {
  return (entry) => write(JSON.stringify({ time: now().toISOString(), ...entry }) + '\n');
}
