import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { SampleConfig, sampleConfigFromEnv } from './sample-config';

/** Creates and starts the sample app; the caller closes it. */
export async function bootstrap(config: SampleConfig = sampleConfigFromEnv()): Promise<INestApplication> {
  // abortOnError: false makes a failed start throw (and the launcher stop its Redis) instead of aborting.
  const app = await NestFactory.create(AppModule.register(config), { abortOnError: false });
  try {
    await app.listen(config.port, config.host);
  } catch (error) {
    // The consumers have started by now: stop them, or their locks would linger for a ttl.
    await app.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`Port ${config.port} on ${config.host} is in use: set PORT to another one`, { cause: error });
    }
    throw error;
  }
  printWelcome(config, await app.getUrl());
  return app;
}

function printWelcome(config: SampleConfig, url: string): void {
  const base = url.replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  const json = `-H 'Content-Type: application/json'`;
  const lines = [
    `Sample app listening on ${base}`,
    `  primary database and search index: ${config.dataDir ?? 'in memory'}`,
    `  Redis namespace "${config.namespace}", delay ${config.delayMs} ms${config.demoFailure ? ', DEMO_FAILURE on: every write skips its immediate message' : ''}`,
    '',
    'Try:',
    `  curl -s -X POST ${base}/products ${json} -d '{"name":"Oak chair","description":"Solid oak, seats one","price":120}'`,
    `  curl -s '${base}/search?q=chair'`,
    `  curl -s -X PATCH ${base}/products/1 ${json} -d '{"price":99}'`,
    `  curl -s -X POST ${base}/products/bulk-update ${json} -d '{"ids":[1],"set":{"featured":true}}'`,
    `  curl -s -X DELETE ${base}/products/1`,
    `  curl -s ${base}/health`,
    '',
    `Healing demo: a write whose immediate message is skipped, as if the process died after COMMIT:`,
    `  curl -s -X POST '${base}/products?simulateCrash=true' ${json} -d '{"name":"Walnut desk","price":480}'`,
    `  curl -s '${base}/search?q=walnut'   # empty now, found after ${config.delayMs / 1000} s`,
    `  curl -s ${base}/status`,
    `  curl -s ${base}/metrics   # Prometheus text: produced, handled, lag, delay backlog`,
    '',
    `Dashboard (read-only): ${base}/redstream`,
  ];
  console.log(`\n${lines.join('\n')}\n`);
}

if (require.main === module) {
  bootstrap().then(
    (app) => app.enableShutdownHooks(),
    (error: Error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
