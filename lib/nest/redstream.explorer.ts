import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { RedstreamConfigError } from '../engine';
import { CONSUMER_KIND, DELAYER_KIND, GROUP_CONSUMER_KIND } from './redstream-handler-kinds';
import { RedstreamDecoratorName, REQUEST_SCOPED_HANDLER, TRANSIENT_HANDLER } from './redstream.messages';
import { RedstreamMetadataAccessor } from './redstream-metadata.accessor';
import { RedstreamOrchestrator } from './redstream.orchestrator';
import { RedstreamRegistry } from './redstream.registry';
import { RedstreamWorkerFactory } from './redstream-worker.factory';
import { DiscoveredEventListener, RedstreamEventBinder } from './redstream-event.binder';

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/**
 * Finds the methods decorated with `@RedstreamConsumer()`, `@RedstreamGroupConsumer()` or
 * `@RedstreamDelayer()` on every
 * provider and controller (`useClass`, `useValue` and `useFactory` alike, inherited methods
 * included) and records them in the registry, each as the worker the factory built (which
 * validates it); the orchestrator starts them later. Then attaches the `@OnRedstreamEvent()`
 * methods to those workers (once every handler is known, so that a listener may be declared
 * before the handler it listens to).
 */
@Injectable()
export class RedstreamExplorer implements OnModuleInit {
  constructor(
    private readonly discoveryService: DiscoveryService,
    private readonly metadataScanner: MetadataScanner,
    private readonly metadataAccessor: RedstreamMetadataAccessor,
    private readonly factory: RedstreamWorkerFactory,
    private readonly registry: RedstreamRegistry,
    private readonly orchestrator: RedstreamOrchestrator,
    private readonly eventBinder: RedstreamEventBinder,
  ) {}

  async onModuleInit(): Promise<void> {
    try {
      this.explore();
    } catch (error) {
      // A failed bootstrap runs no shutdown hook: close the connections opened so far, or
      // they would keep the process alive.
      await this.orchestrator.dispose();
      throw error;
    }
  }

  explore(): void {
    const listeners: DiscoveredEventListener[] = [];
    const visited = new Map<object, Set<string>>();
    const wrappers = [...this.discoveryService.getControllers(), ...this.discoveryService.getProviders()];
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      // An alias (`useExisting`) or a provider of the same object in another module is the same handler.
      if (wrapper.isAlias || typeof instance !== 'object' || instance === null || !Object.getPrototypeOf(instance)) {
        continue;
      }
      const methods = visited.get(instance) ?? new Set<string>();
      visited.set(instance, methods);
      for (const methodName of this.metadataScanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        if (methods.has(methodName)) continue;
        methods.add(methodName);
        this.lookupHandlers(wrapper, instance, methodName);
        listeners.push(...this.lookupEventListeners(wrapper, instance, methodName));
      }
    }
    for (const listener of listeners) this.eventBinder.bind(listener);
  }

  private lookupEventListeners(
    wrapper: InstanceWrapper,
    instance: object,
    methodName: string,
  ): DiscoveredEventListener[] {
    const found = this.metadataAccessor.getEventListeners((instance as Record<string, unknown>)[methodName]);
    if (found.length === 0) return [];
    const where = this.describe(wrapper, instance, methodName);
    this.checkScope(wrapper, '@OnRedstreamEvent', where);
    return found.map((metadata) => ({ ...metadata, instance, methodName, where }));
  }

  private describe(wrapper: InstanceWrapper, instance: object, methodName: string): string {
    return `${instance.constructor?.name ?? String(wrapper.name)}.${methodName}`;
  }

  /** Handlers and listeners run on the one instance of a singleton. */
  private checkScope(wrapper: InstanceWrapper, decorator: RedstreamDecoratorName, where: string): void {
    if (!wrapper.isDependencyTreeStatic()) throw new RedstreamConfigError(REQUEST_SCOPED_HANDLER(decorator, where));
    // The static instance of a transient provider is a bare prototype its constructor never ran on.
    if (wrapper.isTransient) throw new RedstreamConfigError(TRANSIENT_HANDLER(decorator, where));
  }

  private lookupHandlers(wrapper: InstanceWrapper, instance: object, methodName: string): void {
    const method = (instance as Record<string, unknown>)[methodName];
    const consumer = this.metadataAccessor.getConsumerOptions(method);
    const groupConsumer = this.metadataAccessor.getGroupConsumerOptions(method);
    const delayer = this.metadataAccessor.getDelayerOptions(method);
    if (!consumer && !groupConsumer && !delayer) return;

    const where = this.describe(wrapper, instance, methodName);
    const decorator = consumer
      ? CONSUMER_KIND.decorator
      : groupConsumer
        ? GROUP_CONSUMER_KIND.decorator
        : DELAYER_KIND.decorator;
    this.checkScope(wrapper, decorator, where);
    const moduleKey = wrapper.host?.token;
    const found = { instance, methodName, where, moduleKey };
    if (consumer) {
      this.registry.addHandler(this.factory.createHandlerWorker(CONSUMER_KIND, { ...found, options: consumer }));
    }
    if (groupConsumer) {
      this.registry.addHandler(
        this.factory.createHandlerWorker(GROUP_CONSUMER_KIND, { ...found, options: groupConsumer }),
      );
    }
    if (delayer) {
      this.registry.addHandler(this.factory.createHandlerWorker(DELAYER_KIND, { ...found, options: delayer }));
    }
  }
}
