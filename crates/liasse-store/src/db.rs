//! The database handle: one pool for either backend, migrations, and write transactions.

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{Result, StoreError};

/// The schema's migrations, embedded in the binary, in order. Listed by hand rather than with
/// `sqlx::migrate!`, whose proc-macro builds sqlx and both of its drivers a second time, for
/// the compiler (a minute of every fresh build); sqlx records the same version, description
/// (the file name's, with spaces) and SHA-384 of the SQL either way, so databases migrated by
/// the macro see no difference. A test checks this list against `migrations/`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        20261126000001,
        "init",
        include_str!("../migrations/20261126000001_init.sql"),
    ),
    (
        20261126000002,
        "agents",
        include_str!("../migrations/20261126000002_agents.sql"),
    ),
    (
        20261126000003,
        "requests",
        include_str!("../migrations/20261126000003_requests.sql"),
    ),
    (
        20261126000004,
        "jobs",
        include_str!("../migrations/20261126000004_jobs.sql"),
    ),
    (
        20261203000002,
        "services",
        include_str!("../migrations/20261203000002_services.sql"),
    ),
    (
        20261203000003,
        "digests",
        include_str!("../migrations/20261203000003_digests.sql"),
    ),
    (
        20261205000014,
        "federation",
        include_str!("../migrations/20261205000014_federation.sql"),
    ),
    (
        20261205000016,
        "second factor",
        include_str!("../migrations/20261205000016_second_factor.sql"),
    ),
    (
        20261205000018,
        "signups",
        include_str!("../migrations/20261205000018_signups.sql"),
    ),
];

/// The version of the newest migration this build knows: the schema a backup records, and
/// the newest one a restore accepts.
pub fn latest_schema() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// [`MIGRATIONS`] as a source for sqlx's migrator.
#[derive(Debug)]
struct Embedded;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> BoxFuture<'s, std::result::Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(
                "database URL must start with sqlite:// or postgres://".into(),
            ))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time; queueing writers here, in-process, avoids the
    /// immediate `SQLITE_BUSY` that a deferred transaction gets when it upgrades to a write.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// SQLite: the queue of the writers other than the group commit, in front of the writer
    /// slot. At most one of them waits for the slot beside the group commit's leader, so the
    /// two take turns: the grouped writes (downloads' journal entries, deposits) wait for at
    /// most one other transaction, not for every review queued before them.
    sqlite_gate: Option<Arc<Mutex<()>>>,
    /// SQLite: the one connection that write transactions use, so that the writer never waits
    /// for a pooled connection (readers may hold them all) nor pings one while it holds the
    /// write lock, and its prepared write statements stay cached.
    writer_pool: Option<AnyPool>,
    /// Writes that may share one transaction and its durable commit.
    group: Arc<crate::group::Group>,
}

/// A write transaction. On SQLite it also holds the process's writer slot.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    // Dropped in this order: the transaction, the writer slot, then the gate.
    _writer: Option<OwnedMutexGuard<()>>,
    _gate: Option<OwnedMutexGuard<()>>,
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl WriteTx {
    /// The connection to run statements on.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

fn sqlite_pragmas(
    conn: &mut sqlx::AnyConnection,
) -> BoxFuture<'_, std::result::Result<(), sqlx::Error>> {
    Box::pin(async move {
        // WAL lets readers run beside the writer; synchronous=FULL makes every commit survive a
        // power cut, which is what "acknowledged data is never lost" needs.
        conn.execute("PRAGMA journal_mode = WAL").await?;
        conn.execute("PRAGMA synchronous = FULL").await?;
        conn.execute("PRAGMA foreign_keys = ON").await?;
        conn.execute("PRAGMA busy_timeout = 15000").await?;
        Ok(())
    })
}

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let mut opts = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(std::time::Duration::from_secs(30));
        if backend == Backend::Sqlite {
            // A connection to a local file does not go stale: no ping before each use (one
            // more round trip to SQLite's worker thread on every query).
            opts = opts
                .after_connect(|conn, _meta| sqlite_pragmas(conn))
                .test_before_acquire(false);
        }
        let pool = opts.connect(url).await?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let writer_pool = if backend == Backend::Sqlite && !in_memory {
            Some(
                AnyPoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .acquire_timeout(std::time::Duration::from_secs(30))
                    .test_before_acquire(false)
                    .after_connect(|conn, _meta| sqlite_pragmas(conn))
                    .connect(url)
                    .await?,
            )
        } else {
            None
        };
        Ok(Db {
            pool,
            backend,
            sqlite_writer: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            sqlite_gate: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            writer_pool,
            group: Arc::default(),
        })
    }

    pub(crate) fn group(&self) -> &Arc<crate::group::Group> {
        &self.group
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn migrate(&self) -> Result<()> {
        Migrator::new(Embedded).await?.run(&self.pool).await?;
        Ok(())
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), which also waits properly for other processes such as a CLI
    /// command running beside the server.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        self.begin(false).await
    }

    /// [`Db::begin_write`] for the group commit, which goes past the other writers' queue
    /// (see `sqlite_gate`).
    pub(crate) async fn begin_write_grouped(&self) -> Result<WriteTx> {
        self.begin(true).await
    }

    async fn begin(&self, grouped: bool) -> Result<WriteTx> {
        match &self.sqlite_writer {
            Some(lock) => {
                let gate = match (&self.sqlite_gate, grouped) {
                    (Some(gate), false) => Some(gate.clone().lock_owned().await),
                    _ => None,
                };
                let guard = lock.clone().lock_owned().await;
                let pool = self.writer_pool.as_ref().unwrap_or(&self.pool);
                let tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx {
                    tx,
                    _writer: Some(guard),
                    _gate: gate,
                })
            }
            None => Ok(WriteTx {
                tx: self.pool.begin().await?,
                _writer: None,
                _gate: None,
            }),
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(w) = &self.writer_pool {
            w.close().await;
        }
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::MIGRATIONS;

    /// Every file of `migrations/` is embedded, under the version and description sqlx would
    /// have given it, and nothing else is.
    #[test]
    fn embedded_migrations_match_the_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<(i64, String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .map(|p| {
                let name = p.file_stem().unwrap().to_str().unwrap().to_owned();
                let (version, description) = name.split_once('_').unwrap();
                let sql = std::fs::read_to_string(&p).unwrap();
                assert!(
                    !sql.starts_with("-- no-transaction"),
                    "{name}: no-transaction migrations are not supported by the embedded list"
                );
                (version.parse().unwrap(), description.replace('_', " "), sql)
            })
            .collect();
        files.sort();
        let embedded: Vec<(i64, String, String)> = MIGRATIONS
            .iter()
            .map(|&(v, d, s)| (v, d.to_owned(), s.to_owned()))
            .collect();
        assert_eq!(
            embedded, files,
            "crates/liasse-store/src/db.rs MIGRATIONS must list migrations/ in order"
        );
    }
}
