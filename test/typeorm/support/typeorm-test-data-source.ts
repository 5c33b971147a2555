import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { TEST_ENTITIES } from './typeorm-test-entities';

/** The PostgreSQL the suite uses when it is reachable (trust auth). */
export const POSTGRES_URL = process.env.REDSTREAM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let postgresReachable: boolean | undefined;

/**
 * Whether PostgreSQL answers, decided synchronously (jest's `describe` cannot await) by a
 * child process that runs `select 1`. Logs why PostgreSQL tests are skipped when it does not.
 */
/** The databases a spec runs against: sql.js always, PostgreSQL when one answers. */
export function testDatabaseKinds(): readonly ('sqljs' | 'postgres')[] {
  return postgresAvailable() ? ['sqljs', 'postgres'] : ['sqljs'];
}

export function postgresAvailable(): boolean {
  if (postgresReachable === undefined) {
    const probe = spawnSync(
      process.execPath,
      [
        '-e',
        `const { Client } = require('pg');
         const client = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 2000 });
         client.connect().then(() => client.query('select 1')).then(() => client.end()).then(
           () => process.exit(0), (error) => { console.error(error.message); process.exit(1); });`,
        POSTGRES_URL,
      ],
      { encoding: 'utf8', timeout: 10_000, cwd: __dirname },
    );
    postgresReachable = probe.status === 0;
    if (!postgresReachable) {
      console.warn(
        `PostgreSQL is not reachable at ${POSTGRES_URL} (${probe.stderr.trim() || 'no answer'}): ` +
          'skipping the PostgreSQL tests (set REDSTREAM_TEST_POSTGRES_URL to run them)',
      );
    }
  }
  return postgresReachable;
}

/** A test database: an in-memory SQLite (sql.js) or a schema of its own in PostgreSQL. */
export interface TestDatabase {
  readonly dataSource: DataSource;
  /** PostgreSQL schema name (undefined for SQLite). */
  readonly schema?: string;
  /** Closes the DataSource and drops the schema. */
  close(): Promise<void>;
}

/** Options for connecting to an existing test schema (the crash test's child process). */
export function postgresOptions(schema: string): DataSourceOptions {
  return { type: 'postgres', url: POSTGRES_URL, schema, entities: TEST_ENTITIES, logging: false };
}

export async function openTestDatabase(kind: 'sqljs' | 'postgres'): Promise<TestDatabase> {
  if (kind === 'sqljs') {
    const dataSource = await new DataSource({
      type: 'sqljs',
      entities: TEST_ENTITIES,
      synchronize: true,
      logging: false,
    }).initialize();
    return { dataSource, close: () => dataSource.destroy() };
  }
  const schema = `redstream_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const dataSource = await new DataSource({ ...postgresOptions(schema), synchronize: true }).initialize();
  return {
    dataSource,
    schema,
    close: async () => {
      await dataSource.destroy();
      const cleanup = new Client({ connectionString: POSTGRES_URL });
      await cleanup.connect();
      await cleanup.query(`DROP SCHEMA ${schema} CASCADE`);
      await cleanup.end();
    },
  };
}
