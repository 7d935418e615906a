/** Configuration shared by the services: the environment parsed with zod, failing fast on a bad variable. */
export * from './load-config';
export * from './infra-config';
