// End-to-end tests start processes and stop and start Kafka: give each test two minutes.
jest.setTimeout(120_000);
