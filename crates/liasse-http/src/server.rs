//! The server loop, used by `liasse serve` and by the test app: HTTP/1 over TCP with a cap on
//! open connections, a header read timeout, an idle timeout and a graceful shutdown. A client
//! that holds a connection without finishing its headers, or without reading or sending
//! anything while no request is being handled, is cut and logged; the limits on bodies and
//! on requests in flight are in `http::edge`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use liasse_app::App;

/// How long a shutdown waits for the requests being handled.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` until `shutdown` completes, then lets the connections finish
/// their current request (up to [`SHUTDOWN_GRACE`]).
pub async fn run(
    listener: TcpListener,
    app: App,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let config = &app.config;
    if !config.secure_cookies() {
        tracing::warn!(
            "secure_cookies = false: session cookies are sent without Secure and without the __Host- prefix; use this only on a trusted internal network, never on the internet"
        );
        if config.public_url().starts_with("https://") {
            tracing::warn!(
                "public_url is https:// but secure_cookies = false: set secure_cookies = true (the default)"
            );
        }
    }
    let limits = Limits {
        header_read: config.header_read_timeout(),
        idle: config.idle_timeout(),
    };
    let max_connections = config.max_connections();
    let slots = Arc::new(Semaphore::new(max_connections));
    let refused = refusal();
    let mut refusals = Refusals::default();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, most often: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            // Written without waiting (it fits in the socket's buffer), then closed.
            let _ = stream.try_write(&refused);
            drop(stream);
            refusals.log(peer, max_connections);
            continue;
        };
        let router = router.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, router, limits, stop).await;
            drop(permit);
        });
    }
    let _ = stop_tx.send(true);
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("shutdown: some connections were still busy and were dropped");
    }
    Ok(())
}

#[derive(Clone, Copy)]
struct Limits {
    header_read: Duration,
    idle: Duration,
}

/// The answer to a connection over `max_connections`.
fn refusal() -> Vec<u8> {
    let body = serde_json::json!({
        "type": crate::problem::type_uri("too-many-connections"),
        "title": "Serveur saturé",
        "status": 503,
        "detail": "le serveur a trop de connexions ouvertes : réessayez dans un instant",
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Refused connections are logged at most once a second (with how many since the last line),
/// so that a flood does not become a flood of logs.
#[derive(Default)]
struct Refusals {
    last: Option<Instant>,
    since: u64,
}

impl Refusals {
    fn log(&mut self, peer: SocketAddr, limit: usize) {
        self.since += 1;
        if self
            .last
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(client = %peer.ip(), refused = self.since, limit, "too many open connections: refused");
            self.last = Some(Instant::now());
            self.since = 0;
        }
    }
}

/// What a connection did lately: the last byte read or written, and the requests being
/// handled (a handler that computes before answering is not idle).
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    handling: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let now = self.start.elapsed();
        now.saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// Counts a request as being handled until its response head is ready.
struct Handling(Arc<Activity>);

impl Handling {
    fn new(a: &Arc<Activity>) -> Handling {
        a.handling.fetch_add(1, Ordering::Relaxed);
        Handling(a.clone())
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.handling.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity {
        start: Instant::now(),
        last_ms: AtomicU64::new(0),
        handling: AtomicUsize::new(0),
    });
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |mut req: axum::http::Request<Incoming>| {
            // The address the handlers and the edge read (`ConnectInfo`, as axum::serve did).
            req.extensions_mut().insert(ConnectInfo(peer));
            let handling = Handling::new(&activity);
            let router = router.clone();
            async move {
                let resp = router.oneshot(req).await;
                drop(handling);
                resp
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let conn = builder.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let mut watchdog = tokio::time::interval((limits.idle / 4).max(Duration::from_millis(50)));
    let mut stopping = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    if e.is_timeout() {
                        tracing::warn!(client = %peer.ip(), timeout_secs = limits.header_read.as_secs(), "request headers not received in time: connection cut");
                    } else {
                        tracing::debug!(client = %peer.ip(), error = %e, "connection ended with an error");
                    }
                }
                return;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    // Finishes the request in progress, then closes.
                    conn.as_mut().graceful_shutdown();
                }
            }
            _ = watchdog.tick() => {
                if activity.handling.load(Ordering::Relaxed) == 0 && activity.idle_for() >= limits.idle {
                    tracing::warn!(client = %peer.ip(), idle_secs = limits.idle.as_secs(), "idle connection cut");
                    return;
                }
            }
        }
    }
}

/// A TCP stream that notes each byte read or written.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
