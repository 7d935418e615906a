export * from './wait-for';
export * from './test-namespace';
export * from './event-tap';
export * from './http';
