//! Group commit: writes that end with one journal entry may share a transaction, and so one
//! durable commit, with the writes that arrived while the previous one was committing.
//!
//! SQLite has a single writer, and each commit waits for the disk (`synchronous = FULL`), so
//! committing every download's journal entry and every deposit alone queued them all behind
//! each other. Here a caller queues its write and then either finds it committed by another
//! caller, or takes the leader's turn and commits everything queued so far (up to
//! [`MAX_BATCH`]) in one transaction: the new rows of all of them (one multi-row INSERT per
//! table), then the steps of those that have one (a review reads its document, checks and
//! updates it), then the journal entries, chained in the order the writes were queued under
//! each tenant's head, then one commit. Inserts and journal cost a handful of statements
//! however many writes a transaction carries: under SQLite's single writer, each statement is
//! a round trip to its worker thread, which a busy machine makes slow.
//!
//! Every caller is answered only after the commit that contains its write, so "committed
//! before answered" holds for each of them, and a caller's entry exists exactly when its
//! change does.
//!
//! If a shared transaction fails (a row or a step of one write, the commit itself), nothing of
//! it was applied, and each of its writes is retried alone, so that one faulty write fails
//! alone (with its own error: a step may refuse, for example on a conflict). A step may thus
//! run more than once, each time in a fresh transaction: it must depend only on what it
//! captured.
//!
//! A write runs in a task of its own, and so does each batch: a caller that is dropped (a
//! client that disconnects) neither leaves its write waiting in the queue for the next caller
//! nor, as a leader, aborts the transaction that carries the other callers' writes. Its write
//! is committed all the same (a read is journalled even if its content is never sent).

use std::sync::{Arc, Mutex as StdMutex, PoisonError};

use futures::future::BoxFuture;
use liasse_domain::journal::{Entry, NewEntry};
use tokio::sync::{Mutex, oneshot};

use crate::db::{Db, WriteTx};
use crate::documents::{self, DocumentRow, VersionRow};
use crate::error::{Result, StoreError};
use crate::journal;

/// Writes committed together at most; the rest wait for the next turn.
pub const MAX_BATCH: usize = 64;

/// Statements run in the shared transaction that return the journal entry recording what they
/// did. Build one with [`step`].
pub type Step =
    Arc<dyn for<'t> Fn(&'t mut WriteTx) -> BoxFuture<'t, Result<NewEntry>> + Send + Sync>;

/// Wraps a closure as a [`Step`] (which helps the compiler with the closure's lifetimes).
pub fn step<F>(f: F) -> Step
where
    F: for<'t> Fn(&'t mut WriteTx) -> BoxFuture<'t, Result<NewEntry>> + Send + Sync + 'static,
{
    Arc::new(f)
}

/// The journal entry of a grouped write: given, or returned by its step.
pub enum Record {
    Entry(Box<NewEntry>),
    Step(Step),
}

/// A write that may share its transaction: new rows (documents first, then versions), and one
/// journal entry that records them, or a step that writes and returns its entry.
pub struct GroupedWrite {
    pub documents: Vec<DocumentRow>,
    pub versions: Vec<VersionRow>,
    pub tenant_id: String,
    pub at: i64,
    pub record: Record,
}

impl GroupedWrite {
    /// A journal entry alone (the record of a read, for example).
    pub fn entry(tenant_id: &str, at: i64, entry: NewEntry) -> Self {
        GroupedWrite {
            documents: Vec::new(),
            versions: Vec::new(),
            tenant_id: tenant_id.to_string(),
            at,
            record: Record::Entry(Box::new(entry)),
        }
    }

    /// A step (reads, checks, writes) and the entry it returns.
    pub fn step(tenant_id: &str, at: i64, step: Step) -> Self {
        GroupedWrite {
            documents: Vec::new(),
            versions: Vec::new(),
            tenant_id: tenant_id.to_string(),
            at,
            record: Record::Step(step),
        }
    }
}

struct Pending {
    write: GroupedWrite,
    reply: oneshot::Sender<Result<Entry>>,
}

/// The queue of writes waiting for a commit, and the leader's turn.
#[derive(Default)]
pub(crate) struct Group {
    queue: StdMutex<Vec<Pending>>,
    leader: Arc<Mutex<()>>,
    runtime: std::sync::OnceLock<Option<WriterRuntime>>,
}

/// A runtime with one thread of its own that runs the batches (SQLite only): between two
/// statements, the batch's task continues at once instead of waiting its turn behind the
/// request tasks of the main runtime while it holds the single writer.
struct WriterRuntime(Option<tokio::runtime::Runtime>);

impl Drop for WriterRuntime {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which is not allowed inside another runtime's task.
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Group {
    fn handle(&self, sqlite: bool) -> Option<tokio::runtime::Handle> {
        if !sqlite {
            return None;
        }
        self.runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("liasse-writer")
                    .enable_all()
                    .build()
                    .ok()
                    .map(|rt| WriterRuntime(Some(rt)))
            })
            .as_ref()
            .and_then(|w| w.0.as_ref().map(|rt| rt.handle().clone()))
    }

    fn push(&self, p: Pending) {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(p);
    }

    fn take(&self) -> Vec<Pending> {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let n = q.len().min(MAX_BATCH);
        q.drain(..n).collect()
    }
}

fn abandoned() -> StoreError {
    StoreError::Io(std::io::Error::other(
        "the grouped commit carrying this write stopped before answering",
    ))
}

impl Db {
    /// Commits `write` durably, possibly in one transaction with other writes queued at the
    /// same time, and returns its journal entry once that transaction is committed.
    pub async fn commit_grouped(&self, write: GroupedWrite) -> Result<Entry> {
        let db = self.clone();
        tokio::spawn(async move { db.queue_and_wait(write).await })
            .await
            .unwrap_or_else(|_| Err(abandoned()))
    }

    async fn queue_and_wait(&self, write: GroupedWrite) -> Result<Entry> {
        let (reply, mut rx) = oneshot::channel();
        let group = self.group().clone();
        group.push(Pending { write, reply });
        loop {
            let turn = tokio::select! {
                biased;
                answer = &mut rx => return answer.unwrap_or_else(|_| Err(abandoned())),
                turn = group.leader.clone().lock_owned() => turn,
            };
            let batch = group.take();
            if batch.is_empty() {
                // Another leader committed this write; its answer is waiting.
                drop(turn);
                continue;
            }
            let db = self.clone();
            // The turn is released when the batch has answered everyone in it.
            let job = async move {
                db.run_batch(batch).await;
                drop(turn);
            };
            let _ = match group.handle(self.backend() == crate::db::Backend::Sqlite) {
                Some(h) => h.spawn(job).await,
                None => tokio::spawn(job).await,
            };
        }
    }

    async fn run_batch(&self, batch: Vec<Pending>) {
        if batch.len() > 1 {
            let writes: Vec<&GroupedWrite> = batch.iter().map(|p| &p.write).collect();
            match self.commit_writes(&writes).await {
                Ok(entries) => {
                    for (p, e) in batch.into_iter().zip(entries) {
                        let _ = p.reply.send(Ok(e));
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        writes = batch.len(),
                        "a grouped commit failed; committing its writes one by one"
                    );
                }
            }
        }
        for p in batch {
            let r = self.commit_writes(&[&p.write]).await.and_then(|entries| {
                entries
                    .into_iter()
                    .next()
                    .ok_or_else(|| StoreError::Corrupt("no journal entry appended".into()))
            });
            let _ = p.reply.send(r);
        }
    }

    async fn commit_writes(&self, writes: &[&GroupedWrite]) -> Result<Vec<Entry>> {
        let mut tx = self.begin_write_grouped().await?;
        let docs: Vec<&DocumentRow> = writes.iter().flat_map(|w| &w.documents).collect();
        if !docs.is_empty() {
            documents::insert_many(&mut tx, &docs).await?;
        }
        let versions: Vec<&VersionRow> = writes.iter().flat_map(|w| &w.versions).collect();
        if !versions.is_empty() {
            documents::insert_versions_many(&mut tx, &versions).await?;
        }
        let mut stepped = Vec::new();
        for w in writes {
            if let Record::Step(step) = &w.record {
                stepped.push(step(&mut tx).await?);
            }
        }
        let mut stepped = stepped.iter();
        let mut entries: Vec<(&str, i64, &NewEntry)> = Vec::with_capacity(writes.len());
        for w in writes {
            let e = match &w.record {
                Record::Entry(e) => &**e,
                Record::Step(_) => stepped
                    .next()
                    .ok_or_else(|| StoreError::Corrupt("a step returned no entry".into()))?,
            };
            entries.push((w.tenant_id.as_str(), w.at, e));
        }
        let appended = journal::append_group(&mut tx, &entries).await?;
        tx.commit().await?;
        Ok(appended)
    }
}
