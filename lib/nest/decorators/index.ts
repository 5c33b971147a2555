export * from './redstream-consumer.decorator';
export * from './redstream-delayer.decorator';
export * from './redstream-group-consumer.decorator';
export * from './redstream-handler-method.type';
export * from './on-redstream-event.decorator';
