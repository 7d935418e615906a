// When `npm start` restarts a service that exited on its own. CommonJS, so that start.mjs can load it before any build
// and the unit tests can require it without a transform; the types are in restart-backoff.d.cts.
'use strict';

/** The producer's cluster primary restarts its workers on the same schedule. */
const DEFAULT_RESTART_POLICY = Object.freeze({ baseDelayMs: 1000, maxDelayMs: 30_000, stableAfterMs: 30_000 });

/**
 * The wait before a service that exited is started again, and its new count of failures in a row. The wait doubles
 * with each exit that comes less than `stableAfterMs` after the service started, from `baseDelayMs` up to
 * `maxDelayMs`; a service that ran that long starts again after `baseDelayMs`. No jitter: these are one machine's
 * three processes, not clients of a shared server, and whole seconds keep the log readable.
 */
function decideRestart(failures, upForMs, policy = DEFAULT_RESTART_POLICY) {
  const next = upForMs >= policy.stableAfterMs ? 1 : failures + 1;
  return { failures: next, delayMs: Math.min(policy.baseDelayMs * 2 ** (next - 1), policy.maxDelayMs) };
}

module.exports = { DEFAULT_RESTART_POLICY, decideRestart };
