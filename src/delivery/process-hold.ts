import { MAX_TIMER_MS, timerDelay } from './timers.js';

/**
 * Keeps the process alive while there is delivery work, for at most `budgetMs` once delivery is failing, and not
 * at all when idle: sockets, retry waits and linger timers are unref'd, and this one ref'd timer decides.
 */
export class ProcessHold {
  readonly #budgetMs: number;
  readonly #hasWork: () => boolean;
  readonly #now: () => number;
  /** Start of the first failed attempt since the last success or idle time. */
  #failingSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #onChange: ((holding: boolean) => void) | undefined;

  /**
   * @param budgetMs - how long failing work may keep the process alive, from the start of the first failed attempt.
   * @param hasWork - whether there is work now (entries unsettled).
   * @param now - the clock.
   * @param onChange - told when the hold starts (true) or ends (false): a worker thread's owner holds the process.
   */
  constructor(budgetMs: number, hasWork: () => boolean, now: () => number, onChange?: (holding: boolean) => void) {
    this.#budgetMs = budgetMs;
    this.#hasWork = hasWork;
    this.#now = now;
    this.#onChange = onChange;
  }

  /** Work arrived: hold the process, unless a failing outage has already spent its budget. */
  workArrived(): void {
    if (this.#timer === undefined && this.#failingSince === undefined) this.#refresh();
  }

  /** An attempt that started at `attemptStartedMs` failed: the budget runs from the first such start. */
  failing(attemptStartedMs: number): void {
    if (this.#failingSince !== undefined) return;
    this.#failingSince = attemptStartedMs;
    this.#refresh();
  }

  /** An attempt succeeded: the outage, if any, is over. */
  recovered(): void {
    if (this.#failingSince === undefined) return;
    this.#failingSince = undefined;
    this.#refresh();
  }

  /** Nothing is left: release the process, and start the next outage's budget afresh. */
  idle(): void {
    this.#failingSince = undefined;
    this.#refresh();
  }

  #refresh(): void {
    const wasHolding = this.#timer !== undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#hasWork()) {
      const left = this.#failingSince === undefined ? MAX_TIMER_MS : this.#failingSince + this.#budgetMs - this.#now();
      if (left > 0) this.#timer = setTimeout(() => this.#refresh(), timerDelay(left));
    }
    if (wasHolding !== (this.#timer !== undefined)) this.#onChange?.(!wasHolding);
  }
}
