import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { join } from 'node:path';
import { Product } from '../products/product.entity';
import { SimulatedCrashSubscriber } from '../products/simulated-crash.subscriber';
import type { SampleConfig } from '../sample-config';
import { writeFileAtomically } from './sqlite-database';

/**
 * The primary database (the source of truth): sql.js through TypeORM, in `primary.sqlite` of
 * the data folder, or in memory.
 */
export function primaryDatabaseOptions(config: SampleConfig): TypeOrmModuleOptions {
  const file = config.dataDir && join(config.dataDir, 'primary.sqlite');
  return {
    type: 'sqljs',
    entities: [Product],
    // Before the RedstreamSubscriber, which RedstreamTypeOrmModule appends once this DataSource is initialized.
    subscribers: [SimulatedCrashSubscriber],
    synchronize: true,
    // A database file either opens or it does not; retrying would only delay the error.
    retryAttempts: 0,
    ...(file
      ? {
          // Loaded at start; autoSave writes it after every commit, through a temporary file and a
          // rename instead of TypeORM's plain writeFile, so a crash mid-write leaves the previous file.
          location: file,
          autoSave: true,
          autoSaveCallback: (data: Uint8Array) => writeFileAtomically(file, data),
        }
      : {}),
  };
}
