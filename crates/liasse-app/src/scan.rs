//! Optional antivirus scan with clamd (INSTREAM), failing closed: when clamd is configured
//! but does not answer, the upload is refused rather than stored unscanned.

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::app::App;
use crate::error::{AppError, Result};
use crate::upload::Spooled;

const CHUNK: usize = 64 * 1024;

pub async fn scan(app: &App, spooled: &Spooled) -> Result<()> {
    let Some(addr) = app.config.clamd_address.clone() else {
        return Ok(());
    };
    let file = spooled.file.try_clone()?;
    let verdict = tokio::time::timeout(Duration::from_secs(60), instream(&addr, file)).await;
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

async fn instream(addr: &str, mut file: std::fs::File) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(b"zINSTREAM\0").await?;
    file.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        stream.write_all(&(n as u32).to_be_bytes()).await?;
        stream.write_all(&buf[..n]).await?;
    }
    stream.write_all(&0u32.to_be_bytes()).await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    Ok(String::from_utf8_lossy(&reply)
        .trim_end_matches('\0')
        .trim()
        .to_string())
}
