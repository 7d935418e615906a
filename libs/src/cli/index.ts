/** The frame of the administration commands: exit codes, usage and help, and the MongoDB connection they run over. */
export * from './cli-command';
export * from './mongo-cli';
