/**
 * Work the local runtime repeats in the background, as a schedule or a notification would in
 * AWS: run, pause `intervalMs` (not at all when the work says more is waiting), run again.
 * Failures are reported and the loop carries on; stopping wakes the pause and waits for the
 * run in progress, so shutdown is prompt and never cuts a run short.
 */
export class RepeatingTask {
  private running = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private nudged = false;

  constructor(
    /** One run; true when more work is already waiting. */
    private readonly work: () => Promise<boolean | void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Stop was asked for: a long run should end at its next step. */
  get stopping(): boolean {
    return this.stopped;
  }

  start(): void {
    this.running = true;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** Something for the work arrived (a doorbell): run again now, or right after the run in progress. */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let more = false;
      this.nudged = false;
      try {
        more = (await this.work()) === true;
      } catch (error) {
        this.onError(error);
      }
      if (more || this.nudged || !this.running) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.intervalMs);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }
}
