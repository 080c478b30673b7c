// Runs one piece of background work at a time: a trigger while it runs asks for exactly one more run after
// it, however many triggers came (the work reads its state from the database, so one more pass sees all).
export class CoalescingRunner {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
    /** checked before each run: false stops triggering */
    private readonly enabled: () => boolean = () => true,
  ) {}

  trigger(): void {
    if (!this.enabled()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.work()
      .catch(this.onError)
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.trigger();
        }
      });
  }

  /** Resolves when the run in progress (if any) is over. */
  async idle(): Promise<void> {
    await this.running;
  }
}
