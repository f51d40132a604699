// A horizontal bar for a value out of the largest one shown, with its label beside it.
import type { Tone } from "../../lib/tones.ts";

export function Bar({ fraction, tone, label }: { fraction: number; tone: Tone; label: string }) {
  const width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return (
    <span className="bar-cell">
      <span className="bar" aria-hidden="true">
        <span className={`bar-fill tone-${tone}`} style={{ width }} />
      </span>
      <span className="bar-label mono">{label}</span>
    </span>
  );
}
