/**
 * Which work is paused, as the runner knows it: a tenant as a whole, or one job type of a tenant. Paused work stays
 * `pending` (or waits once due) without holding an execution slot, and starts when its pause is lifted.
 */
export interface PauseState {
  /** Whether jobs of `type` for `tenantId` must not start now (their tenant is paused, or that type of it). */
  isPaused(tenantId: string, type: string): boolean;
  /** Calls `listener` after every change of what is paused; returns the function that stops the calls. */
  onChange(listener: () => void): () => void;
}

/** Nothing paused, ever: the state of a runner that reads no pauses. */
export const NOTHING_PAUSED: PauseState = {
  isPaused: () => false,
  onChange: () => () => undefined,
};
