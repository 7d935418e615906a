/** Three kinds of tests, co-located with the code: *.unit.test.ts (pure), *.int.test.ts (real Kafka, MongoDB,
 * Redis), *.e2e.test.ts (the three services as processes, driven over HTTP). */
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.check.json' }] },
  moduleNameMapper: {
    '^@jobline/libs$': '<rootDir>/libs/src/index.ts',
    // Each subpath of @jobline/libs (package.json "exports", and testing) is the index.ts of its folder.
    '^@jobline/libs/([a-z-]+)$': '<rootDir>/libs/src/$1/index.ts',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/**/src/**/*.unit.test.ts', '<rootDir>/test/**/*.unit.test.ts'],
    },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/**/src/**/*.int.test.ts', '<rootDir>/test/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/setup/int-timeout.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/setup/e2e-timeout.ts'],
    },
  ],
};
