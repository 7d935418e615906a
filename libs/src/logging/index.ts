/** The services' structured logger. */
export * from './logger';
