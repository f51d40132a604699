// The driving loop every controller shares: a pass on a timer, and at once when a change it
// cares about is signalled. Passes never overlap; a poke during one runs one more right after,
// and nothing runs once stopped.
import type { ChangeKind, Changes } from "../store/changes.ts";

export interface PassLoopOptions {
  pass: () => Promise<void>;
  onError: (error: unknown) => void;
  changes: Changes;
  /** The change kinds that wake the loop before its next tick. */
  wakeOn: readonly ChangeKind[];
  intervalMs: number;
}

export class PassLoop {
  private readonly options: PassLoopOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(options: PassLoopOptions) {
    this.options = options;
  }

  start(): void {
    this.timer = setInterval(() => this.poke(), this.options.intervalMs);
    this.unsubscribe = this.options.changes.onAny((change) => {
      if (this.options.wakeOn.includes(change.kind)) this.poke();
    });
    this.poke();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.running;
  }

  /** Runs a pass now, or right after the one in progress. */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.options
      .pass()
      .catch(this.options.onError)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }
}
