/**
 * jest in ESM mode (NestJS 12 is ESM-only): run through `node --experimental-vm-modules`.
 * @swc/jest compiles TypeScript with legacy decorators and their metadata, as tsc does.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2023',
      keepClassNames: true,
    },
    sourceMaps: 'inline',
  },
];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': swc, '^.+\\.js$': swc },
  // CommonJS dependencies that require() ESM-only packages need those packages compiled for jest.
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie|file-type|strtok3|token-types|@tokenizer|uint8array-extras|@apidevtools/json-schema-ref-parser)/)'],
};

export default {
  // Per project it is ignored: e2e specs start servers and PostgreSQL databases.
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/src', '<rootDir>/bench'], testMatch: ['**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
