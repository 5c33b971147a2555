import { mkdirSync, renameSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import initSqlJs, { Database, SqlJsStatic, SqlValue } from 'sql.js';

let sqlJs: Promise<SqlJsStatic> | undefined;

/** Loads SQLite (compiled to WebAssembly) once per process. */
function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs();
  return sqlJs;
}

/** A row as an object keyed by column name. */
export type SqlRow = Record<string, SqlValue>;

/** The statements available inside {@link SqliteDatabase.exclusive} and {@link SqliteDatabase.transaction}. */
export interface SqlSession {
  /** Runs a statement; returns the number of changed rows and the last inserted row id. */
  run(sql: string, params?: SqlValue[]): { changes: number; lastInsertRowId: number };
  /** Runs a query and returns its rows. */
  all(sql: string, params?: SqlValue[]): SqlRow[];
}

/**
 * The search index's SQLite database (sql.js: SQLite compiled to WebAssembly, so nothing
 * native to build), held in memory and, when it has a file, written to that file after every
 * change. It stands for a secondary datastore such as Elasticsearch, so it is plain SQL
 * without TypeORM; the primary database is TypeORM's (see primary-database.options.ts).
 *
 * sql.js has a single connection, so every access is serialized: no reader sees the rows of a
 * transaction before it commits.
 */
export class SqliteDatabase {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly db: Database,
    /** The file it is persisted to, or undefined when it lives in memory only. */
    readonly file: string | undefined,
  ) {}

  /** Opens `file` (created when missing), or an in-memory database when `file` is undefined. */
  static async open(file: string | undefined, schema: string): Promise<SqliteDatabase> {
    const SQL = await loadSqlJs();
    const db = new SQL.Database(file && existsSync(file) ? readFileSync(file) : undefined);
    db.exec(schema);
    const database = new SqliteDatabase(db, file);
    database.persist();
    return database;
  }

  /** Runs `work` with the database to itself; no other access interleaves, even across awaits. */
  exclusive<T>(work: (session: SqlSession) => T | Promise<T>): Promise<T> {
    const result = this.queue.then(() => {
      if (this.closed) throw new Error(`The database ${this.file ?? '(in memory)'} is closed`);
      return work(this.session());
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Runs `work` in a transaction: COMMIT (and persist) when it resolves, ROLLBACK when it
   * throws. Other accesses wait until it has finished, even if `work` awaits.
   */
  transaction<T>(work: (session: SqlSession) => T | Promise<T>): Promise<T> {
    return this.exclusive(async (session) => {
      this.db.exec('BEGIN');
      try {
        const result = await work(session);
        this.db.exec('COMMIT');
        this.persist();
        return result;
      } catch (error) {
        this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  /** Persists and closes after the accesses already queued. Idempotent. */
  close(): Promise<void> {
    return this.exclusive(() => {
      this.persist();
      this.closed = true;
      this.db.close();
    }).catch(() => undefined);
  }

  private session(): SqlSession {
    return {
      run: (sql, params = []) => {
        this.db.run(sql, params);
        const changes = this.db.getRowsModified();
        const [[lastInsertRowId]] = this.db.exec('SELECT last_insert_rowid()')[0].values as [[number]];
        return { changes, lastInsertRowId };
      },
      all: (sql, params = []) => {
        const statement = this.db.prepare(sql, params);
        try {
          const rows: SqlRow[] = [];
          while (statement.step()) rows.push(statement.getAsObject());
          return rows;
        } finally {
          statement.free();
        }
      },
    };
  }

  private persist(): void {
    if (this.file) writeFileAtomically(this.file, this.db.export());
  }
}

/** Writes `data` to a temporary file and renames it over `file`, so a crash mid-write leaves the previous file. */
export function writeFileAtomically(file: string, data: Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, file);
}
