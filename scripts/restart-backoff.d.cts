export interface RestartPolicy {
  /** The wait before the first restart after a failure; it doubles with each failure in a row. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A service that ran this long before exiting counts as having recovered: its backoff starts afresh. */
  stableAfterMs: number;
}

export declare const DEFAULT_RESTART_POLICY: Readonly<RestartPolicy>;

export interface RestartDecision {
  /** Exits in a row that came soon after a start, this one included; pass it to the next decision. */
  failures: number;
  delayMs: number;
}

/**
 * `failures` is the previous decision's count (0 before the first exit), `upForMs` how long the process that exited
 * ran.
 */
export declare function decideRestart(failures: number, upForMs: number, policy?: RestartPolicy): RestartDecision;
