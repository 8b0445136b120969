//! The few calls of Liasse's HTTP API the benchmarks make.

use std::time::Duration;

use bytes::Bytes;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::Result;

/// An answer: the status and the JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// A short description of a failed answer: status, problem type and detail.
    pub fn describe(&self) -> String {
        let field = |k: &str| self.body.get(k).and_then(Value::as_str).unwrap_or("");
        format!(
            "HTTP {} {} {}",
            self.status.as_u16(),
            field("type"),
            field("detail")
        )
        .trim()
        .to_string()
    }

    pub fn str_field(&self, k: &str) -> Option<String> {
        self.body.get(k).and_then(Value::as_str).map(String::from)
    }
}

#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    /// `base` is `http://HOST:PORT`. `timeout` bounds each whole request.
    pub fn new(base: &str, timeout: Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .build()?;
        Ok(Api {
            client,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn finish(resp: reqwest::Response) -> Result<Reply> {
        let status = resp.status();
        let bytes = resp.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply { status, body })
    }

    pub async fn get(&self, token: &str, path: &str) -> Result<Reply> {
        let resp = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await?;
        Self::finish(resp).await
    }

    pub async fn send_json(
        &self,
        method: Method,
        token: &str,
        path: &str,
        body: &Value,
    ) -> Result<Reply> {
        let resp = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(body)?)
            .send()
            .await?;
        Self::finish(resp).await
    }

    /// Deposits a document: `type` first (so the server applies the type's size limit while
    /// the file arrives), then the file.
    pub async fn upload(
        &self,
        token: &str,
        type_code: &str,
        title: &str,
        file: Part,
    ) -> Result<Reply> {
        let form = Form::new()
            .text("type", type_code.to_string())
            .text("title", title.to_string())
            .part("file", file);
        let resp = self
            .client
            .post(self.url("/api/v1/documents"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await?;
        Self::finish(resp).await
    }

    /// Downloads a document's content, feeding every chunk to `sink`; returns the status and
    /// the byte count.
    pub async fn download(
        &self,
        token: &str,
        id: &str,
        mut sink: impl FnMut(&[u8]),
    ) -> Result<(StatusCode, u64)> {
        let mut resp = self
            .client
            .get(self.url(&format!("/api/v1/documents/{id}/content")))
            .bearer_auth(token)
            .send()
            .await?;
        let status = resp.status();
        let mut n = 0u64;
        while let Some(chunk) = resp.chunk().await? {
            n += chunk.len() as u64;
            sink(&chunk);
        }
        Ok((status, n))
    }
}

/// A file part from memory (cheap to clone: `Bytes` is reference-counted).
pub fn pdf_part(content: Bytes, name: &str) -> Result<Part> {
    Ok(
        Part::stream_with_length(reqwest::Body::from(content.clone()), content.len() as u64)
            .file_name(name.to_string())
            .mime_str("application/pdf")?,
    )
}

/// A file part streamed from disk, a MiB at a time.
pub async fn file_part(path: &std::path::Path, name: &str) -> Result<Part> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path).await?;
    let len = file.metadata().await?.len();
    let stream = futures::stream::try_unfold(file, |mut f| async move {
        let mut buf = vec![0u8; 1 << 20];
        let n = f.read(&mut buf).await?;
        if n == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), f)))
    });
    Ok(
        Part::stream_with_length(reqwest::Body::wrap_stream(stream), len)
            .file_name(name.to_string())
            .mime_str("application/pdf")?,
    )
}
