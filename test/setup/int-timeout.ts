// Integration tests talk to real Kafka, MongoDB and Redis: give each test a minute.
jest.setTimeout(60_000);
