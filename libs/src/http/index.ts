/** Outbound HTTP: the address policy, URL checks and the guarded client that enforces them. */
export * from './address-policy';
export * from './outbound-url';
export * from './guarded-http-client';
export * from './retry-after';
