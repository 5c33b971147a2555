// `@redstream/nestjs/testing`: helpers for end-to-end tests of an application's consumers
// against a real Redis, for any test runner. Not loaded by the root entry.
export * from './redstream-testing';
export * from './redstream-testing.errors';
