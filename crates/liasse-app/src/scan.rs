//! Optional antivirus scan with clamd (INSTREAM), failing closed: when clamd is configured
//! but does not answer, the upload is refused rather than stored unscanned. clamd is fed from
//! the decrypting reader of the spool, a chunk at a time.

use std::io::Read;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::app::App;
use crate::error::{AppError, Result};
use crate::upload::Spooled;

/// Clear bytes per INSTREAM chunk (a few segments, wiped after use).
const CHUNK: usize = 256 * 1024;

pub async fn scan(app: &App, spooled: &Spooled) -> Result<()> {
    let Some(addr) = app.config.clamd_address.clone() else {
        return Ok(());
    };
    let clear = spooled.reader()?;
    let verdict = tokio::time::timeout(Duration::from_secs(60), instream(&addr, clear)).await;
    match verdict {
        Ok(Ok(reply)) if reply.ends_with("OK") => Ok(()),
        Ok(Ok(reply)) if reply.contains("FOUND") => Err(AppError::invalid(
            "virus-found",
            "le fichier a été détecté comme malveillant par l'antivirus",
        )),
        Ok(Ok(reply)) => {
            tracing::warn!(reply = %reply, "unexpected clamd reply");
            Err(AppError::Unavailable("antivirus".into()))
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "clamd unreachable");
            Err(AppError::Unavailable("antivirus".into()))
        }
        Err(_) => Err(AppError::Unavailable("antivirus".into())),
    }
}

async fn instream<R: Read + Send + 'static>(addr: &str, clear: R) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(b"zINSTREAM\0").await?;
    let mut next = Some((
        clear,
        zeroize::Zeroizing::new(Vec::with_capacity(CHUNK + 4)),
    ));
    while let Some((mut clear, mut buf)) = next.take() {
        // Each chunk goes as clamd frames it: its length (u32, big-endian), then its bytes.
        let (clear, buf) = tokio::task::spawn_blocking(move || {
            buf.clear();
            buf.extend_from_slice(&[0u8; 4]);
            (&mut clear).take(CHUNK as u64).read_to_end(&mut buf)?;
            let n = u32::try_from(buf.len() - 4).unwrap_or(u32::MAX);
            buf[..4].copy_from_slice(&n.to_be_bytes());
            Ok::<_, std::io::Error>((clear, buf))
        })
        .await
        .map_err(std::io::Error::other)??;
        if buf.len() == 4 {
            break;
        }
        stream.write_all(&buf).await?;
        next = Some((clear, buf));
    }
    stream.write_all(&0u32.to_be_bytes()).await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    Ok(String::from_utf8_lossy(&reply)
        .trim_end_matches('\0')
        .trim()
        .to_string())
}
