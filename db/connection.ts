import knexFactory, { type Knex } from 'knex'

/**
 * One connection per database file: SQLite serialises writers anyway, and a single connection
 * makes a knex transaction the only writer, so there is no SQLITE_BUSY inside the app.
 */
export function openDatabase(filename: string): Knex {
  return knexFactory({
    client: 'sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      // WAL: readers never block the writer. synchronous=FULL: a committed sale survives a power cut,
      // not only a crash. foreign_keys is per connection in SQLite and off unless asked for.
      afterCreate(
        connection: { exec(sql: string, done: (error: Error | null) => void): void },
        done: (error: Error | null) => void
      ) {
        connection.exec(
          'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;',
          done
        )
      }
    }
  })
}

/**
 * Read-only connections to the same file, for what the counter reads (a swipe, a quote, history).
 * WAL lets them read while the writer holds a long transaction (a full snapshot's apply), so a
 * swipe is answered from the last committed state instead of waiting for it.
 */
export function openReader(filename: string, connections = 2): Knex {
  return knexFactory({
    client: 'sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      min: 0,
      max: connections,
      afterCreate(
        connection: { exec(sql: string, done: (error: Error | null) => void): void },
        done: (error: Error | null) => void
      ) {
        connection.exec('PRAGMA query_only = ON; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;', done)
      }
    }
  })
}
