// NestJS microservice transport (`@redstream/nestjs/microservices`): a separate entry point, so
// that the root entry never loads `@nestjs/microservices`, an optional peer dependency.
export * from './interfaces/redstream-client-options.interface';
export * from './interfaces/redstream-server-options.interface';
export * from './interfaces/redstream-transport-connection-options.interface';
export * from './redstream-event.context';
export * from './redstream-transport.constants';
export * from './redstream.client';
export * from './redstream.server';
