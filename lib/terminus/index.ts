// Health checks for `@nestjs/terminus` (`@redstream/nestjs/terminus`): a separate entry point,
// so that the root entry never loads `@nestjs/terminus`, an optional peer dependency.
export * from './interfaces/redstream-health-options.interface';
export { DEFAULT_HEALTH_TIMEOUT_MS, inspectRedstreamHealth } from './redstream-health.inspector';
export * from './redstream-health.indicator';
