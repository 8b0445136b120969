//! The archive writer: a ZIP written on a blocking thread from a bounded queue of parts, so that a slow client holds back the reading of the vault and no plaintext waits in memory for long.

use super::*;

/// Chunks waiting in each queue (decrypted chunks, archive bytes): bounds memory whatever
/// the size of the documents.
pub(super) const QUEUE: usize = 8;

/// Archive bytes gathered before they are handed to the response body.
pub(super) const OUT_CHUNK: usize = 64 * 1024;

/// ZIP entries carry a DOS time without a zone: UTC is written (the manifest has the exact
/// RFC 3339 times); instants outside 1980..2107 get the format's default.
pub(super) fn zip_time(ms: i64) -> zip::DateTime {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return zip::DateTime::default();
    };
    u16::try_from(t.year())
        .ok()
        .and_then(|year| {
            zip::DateTime::from_date_and_time(
                year,
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
            )
            .ok()
        })
        .unwrap_or_default()
}

/// What the async side asks the ZIP writer thread to do.
pub(super) enum Op {
    File {
        name: String,
        options: SimpleFileOptions,
    },
    Data(Bytes),
    Finish,
}

/// The message of a send to a writer thread that has stopped; its own error says why.
pub(super) const WRITER_STOPPED: &str = "export: the archive writer stopped";

/// A ZIP writer on a blocking thread, fed through a bounded channel.
pub(super) struct ZipSink<W> {
    tx: mpsc::Sender<Op>,
    task: tokio::task::JoinHandle<Result<(W, u64)>>,
}

impl<W> ZipSink<W> {
    pub(super) async fn send(&self, op: Op) -> Result<()> {
        self.tx
            .send(op)
            .await
            .map_err(|_| AppError::Internal(WRITER_STOPPED.into()))
    }

    pub(super) async fn text(&self, name: &str, bytes: Vec<u8>, now: i64) -> Result<()> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(zip_time(now))
            .unix_permissions(0o600);
        self.send(Op::File {
            name: name.to_string(),
            options,
        })
        .await?;
        self.send(Op::Data(Bytes::from(bytes))).await
    }
}

impl<W: Write + Send + 'static> ZipSink<W> {
    pub(super) fn start(out: W) -> Self {
        let (tx, mut rx) = mpsc::channel::<Op>(QUEUE);
        let task = tokio::task::spawn_blocking(move || {
            let shut = Arc::new(AtomicBool::new(false));
            let mut zip = ZipWriter::new_stream(Gated {
                inner: out,
                shut: Arc::clone(&shut),
            });
            let mut run = || -> Result<bool> {
                while let Some(op) = rx.blocking_recv() {
                    match op {
                        Op::File { name, options } => {
                            zip.start_file(name, options).map_err(zip_error)?
                        }
                        Op::Data(bytes) => zip.write_all(&bytes)?,
                        Op::Finish => return Ok(true),
                    }
                }
                Ok(false)
            };
            match run() {
                Ok(true) => {
                    let mut out = zip.finish().map_err(zip_error)?;
                    // A stream writer knows how much it wrote: "seeking" to the end asks it.
                    let len = out.seek(SeekFrom::End(0))?;
                    let mut out = out.into_inner().inner;
                    out.flush()?;
                    Ok((out, len))
                }
                outcome => {
                    // The producer gave up (an error, or a client that went away). Dropping
                    // a ZipWriter writes the end of the archive, which would make what was
                    // sent look complete: the gate swallows it.
                    shut.store(true, Ordering::SeqCst);
                    drop(zip);
                    outcome.and(Err(AppError::Internal("export: abandoned".into())))
                }
            }
        });
        ZipSink { tx, task }
    }

    /// Closes the archive if the producer succeeded (otherwise abandons it) and returns the
    /// writer's result.
    pub(super) async fn finish(self, produced: bool) -> Result<(W, u64)> {
        let ZipSink { tx, task } = self;
        if produced {
            // A failed send means the writer stopped; its result below says why.
            let _ = tx.send(Op::Finish).await;
        }
        drop(tx);
        task.await
            .map_err(|e| AppError::Internal(format!("export: archive writer: {e}")))?
    }
}

/// The ZIP writer's output, which discards everything once shut (see [`ZipSink::start`]).
pub(super) struct Gated<W> {
    inner: W,
    shut: Arc<AtomicBool>,
}

impl<W: Write> Write for Gated<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.shut.load(Ordering::SeqCst) {
            return Ok(data.len());
        }
        self.inner.write(data)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.shut.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.inner.flush()
    }
}

/// The ZIP writer's output when streaming: bytes gathered into chunks and handed to the
/// response body through a bounded channel (the writer thread waits while the client is
/// slow). Fails once the body is gone, which stops the export.
pub(super) struct ChannelWriter {
    pub(super) tx: mpsc::Sender<Result<Bytes>>,
    pub(super) buf: Vec<u8>,
}

impl ChannelWriter {
    pub(super) fn send_buffered(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(OUT_CHUNK),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "download dropped"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = OUT_CHUNK.saturating_sub(self.buf.len()).max(1);
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= OUT_CHUNK {
            self.send_buffered()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send_buffered()
    }
}

pub(super) fn zip_error(e: zip::result::ZipError) -> AppError {
    match e {
        zip::result::ZipError::Io(e) => AppError::from(e),
        e => AppError::Internal(format!("export: zip: {e}")),
    }
}
