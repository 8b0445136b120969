//! The edge of the server, in front of every handler (pages and API): who the client is
//! (through trusted proxies only), how many of its requests run at once, how large a body may
//! be and how slowly it may arrive. Everything refused here is refused before a handler reads
//! a byte of the body, and is logged with the client's address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use ipnet::IpNet;

use crate::problem::problem;
use liasse_app::config::Config;

/// The routes whose body is a file (multipart), by method and route pattern: only these may
/// send more than `max_body_bytes`, up to `max_upload_bytes` (plus room for the form's other
/// fields). They stream the file and stop at the limit (services::upload). A new upload route
/// must be listed here, or its uploads are refused above `max_body_bytes`.
pub const UPLOAD_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/documents"),
    ("PUT", "/api/v1/documents/{id}/content"),
    ("POST", "/api/v1/citizens/{id}/documents"),
    ("POST", "/api/v1/requests/{id}/attachments/{requirement}"),
    ("POST", "/documents"),
    ("POST", "/documents/{id}/remplacer"),
    ("POST", "/agent/usagers/{id}/depot"),
    ("POST", "/demandes/{id}/deposer"),
];

/// The client's address as the edge resolved it (see [`client_address`]); read by
/// `http::auth::ClientIp`.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

/// The edge's settings and the count of requests in flight per client.
pub struct Edge {
    trusted: Vec<IpNet>,
    max_body: u64,
    max_upload: u64,
    min_rate: (u64, Duration),
    per_client: usize,
    in_flight: Mutex<HashMap<IpAddr, usize>>,
}

impl Edge {
    pub fn new(config: &Config) -> Edge {
        let trusted = config.trusted_proxies().unwrap_or_else(|e| {
            // `serve` refuses to start on this; an app opened otherwise trusts no proxy.
            tracing::error!(error = %e, "trusted_proxies ignored");
            Vec::new()
        });
        Edge {
            trusted,
            max_body: config.max_body_bytes(),
            max_upload: config
                .max_upload_bytes()
                .saturating_add(config.max_body_bytes()),
            min_rate: config.body_min_rate(),
            per_client: config.max_in_flight_per_client(),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    fn counts(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one more request of `client`, or `None` when it already has its share.
    fn admit(self: &Arc<Self>, client: IpAddr) -> Option<Ticket> {
        let mut counts = self.counts();
        let n = counts.entry(client).or_insert(0);
        if *n >= self.per_client {
            return None;
        }
        *n += 1;
        Some(Ticket {
            edge: self.clone(),
            client,
        })
    }
}

/// One request in flight; counted until its response body is done or dropped.
struct Ticket {
    edge: Arc<Edge>,
    client: IpAddr,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut counts = self.edge.counts();
        if let Some(n) = counts.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                // Only clients with requests in flight are kept: the map stays small.
                counts.remove(&self.client);
            }
        }
    }
}

/// The client of a request: the TCP peer, unless the peer is a trusted proxy; then the
/// right-most address of `Forwarded` (`for=`), or else `X-Forwarded-For`, that is not itself
/// a trusted proxy (the left part of these headers is whatever the client wrote). A hop the
/// proxies could not name (`unknown`, an obfuscated name) is answered for by the nearest
/// trusted hop.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_chain(headers).into_iter().rev() {
        match hop {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return ip,
            None => return client,
        }
    }
    client
}

/// The hops named by the proxies, left (farthest) to right (nearest); `None` for a hop that
/// is not an address. `Forwarded` wins over `X-Forwarded-For` when both are present.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: header::HeaderName| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().map(str::to_string).unwrap_or_default())
            .collect()
    };
    let forwarded = values(header::FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node_address(v))
            })
            .collect();
    }
    values(header::HeaderName::from_static("x-forwarded-for"))
        .iter()
        .flat_map(|line| line.split(','))
        .map(node_address)
        .collect()
}

/// An address out of a node: `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`,
/// `2001:db8::1`.
fn node_address(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"').trim();
    let ip = if let Some(rest) = node.strip_prefix('[') {
        rest.split_once(']')?.0.parse().ok()?
    } else if let Ok(ip) = node.parse::<IpAddr>() {
        ip
    } else {
        node.parse::<SocketAddr>().ok()?.ip()
    };
    Some(IpAddr::to_canonical(&ip))
}

fn is_upload(req: &Request) -> bool {
    let Some(path) = req.extensions().get::<MatchedPath>() else {
        return false;
    };
    UPLOAD_ROUTES
        .iter()
        .any(|(m, p)| req.method().as_str() == *m && path.as_str() == *p)
}

/// The middleware: resolves the client, caps its requests in flight, limits and times the
/// body. Applied with `Router::layer`, so the route is known (uploads get their own limit).
pub async fn guard(State(edge): State<Arc<Edge>>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let mut ticket = None;
    if let Some(peer) = peer {
        let client = client_address(peer, req.headers(), &edge.trusted);
        req.extensions_mut().insert(ClientAddr(client));
        match edge.admit(client) {
            Some(t) => ticket = Some(t),
            None => {
                tracing::warn!(client = %client, limit = edge.per_client, "too many requests in flight: refused");
                let mut resp = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too-many-requests-in-flight",
                    "Trop de requêtes simultanées",
                    "trop de requêtes de votre adresse sont en cours : réessayez dans un instant",
                );
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return resp;
            }
        }
    }
    // For the log lines below ("-" when the peer is unknown, e.g. a router called in-process).
    let client = req
        .extensions()
        .get::<ClientAddr>()
        .map_or_else(|| "-".to_string(), |c| c.0.to_string());
    let limit = if is_upload(&req) {
        edge.max_upload
    } else {
        edge.max_body
    };
    // A declared length (Content-Length) is known before the body is read.
    if http_body::Body::size_hint(req.body()).lower() > limit {
        tracing::warn!(client = %client, declared = http_body::Body::size_hint(req.body()).lower(), limit, "request body too large: refused before reading");
        return too_large(limit);
    }
    let stalled = Arc::new(AtomicBool::new(false));
    let (min_bytes, period) = edge.min_rate;
    let req = req.map(|body| {
        let body = if min_bytes > 0 {
            Body::new(MinRate {
                inner: body,
                min_bytes,
                period,
                got: 0,
                deadline: None,
                stalled: stalled.clone(),
            })
        } else {
            body
        };
        // A chunked body (no declared length) is cut at the limit.
        Body::new(http_body_util::Limited::new(
            body,
            usize::try_from(limit).unwrap_or(usize::MAX),
        ))
    });
    let resp = next.run(req).await;
    let mut resp = if stalled.load(Ordering::Relaxed) {
        tracing::warn!(client = %client, min_bytes, period_secs = period.as_secs(), "request body too slow: cut");
        let mut r = problem(
            StatusCode::REQUEST_TIMEOUT,
            "body-too-slow",
            "Envoi trop lent",
            format!(
                "le corps de la requête arrive trop lentement (moins de {min_bytes} octets en {} s) : l'envoi a été interrompu, rien n'a été enregistré",
                period.as_secs()
            ),
        );
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        r
    } else {
        resp
    };
    if let Some(ticket) = ticket {
        resp = resp.map(|body| {
            Body::new(Held {
                inner: body,
                _ticket: ticket,
            })
        });
    }
    resp
}

fn too_large(limit: u64) -> Response {
    let mut resp = problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request-too-large",
        "Requête trop volumineuse",
        format!("le corps de la requête dépasse la taille autorisée ({limit} octets)"),
    );
    // The body is not read: the connection cannot carry another request.
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Sends `Strict-Transport-Security` on every response (only installed when `public_url` is
/// `https://`: over plain HTTP the header would be meaningless, and on an intranet harmful).
pub const HSTS: &str = "max-age=31536000";

#[derive(Debug)]
struct TooSlow;

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body too slow")
    }
}

impl std::error::Error for TooSlow {}

/// A request body that must bring `min_bytes` in every `period` while the handler waits for
/// it. The window starts when the handler first waits, and starts again each time the
/// minimum is reached, so a slow upload that keeps moving goes through.
struct MinRate {
    inner: Body,
    min_bytes: u64,
    period: Duration,
    got: u64,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    stalled: Arc<AtomicBool>,
}

impl http_body::Body for MinRate {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.got = this.got.saturating_add(data.len() as u64);
                }
                if this.got >= this.min_bytes {
                    this.got = 0;
                    this.deadline = None;
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        let period = this.period;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(period)));
        if deadline.as_mut().poll(cx).is_ready() {
            this.stalled.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(TooSlow))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps its request counted in flight until it is sent (downloads and
/// exports stream long after the handler returned).
struct Held {
    inner: Body,
    _ticket: Ticket,
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_are_the_client() {
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=198.51.100.8"),
        ]);
        assert_eq!(
            client_address(ip("203.0.113.9"), &h, &[]),
            ip("203.0.113.9")
        );
        let proxies = ["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_address(ip("203.0.113.9"), &h, &proxies),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_proxies_name_the_client() {
        let proxies: Vec<IpNet> = vec![
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.1/32".parse().unwrap(),
        ];
        let peer = ip("127.0.0.1");
        // The client wrote a fake left part; the nearest untrusted hop is the client.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.1.2.3")]);
        assert_eq!(client_address(peer, &h, &proxies), ip("198.51.100.7"));
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(client_address(peer, &h, &proxies), ip("198.51.100.7"));
        // Forwarded wins, with ports, quotes and IPv6.
        let h = headers(&[
            ("x-forwarded-for", "192.0.2.1"),
            (
                "forwarded",
                "for=192.0.2.60;proto=https, for=\"[2001:db8:cafe::17]:4711\"",
            ),
        ]);
        assert_eq!(client_address(peer, &h, &proxies), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "For=\"192.0.2.43:47011\"")]);
        assert_eq!(client_address(peer, &h, &proxies), ip("192.0.2.43"));
        // Nothing forwarded, or an unknown hop: the nearest trusted hop answers for it.
        assert_eq!(client_address(peer, &HeaderMap::new(), &proxies), peer);
        let h = headers(&[("forwarded", "for=unknown, for=10.0.0.5")]);
        assert_eq!(client_address(peer, &h, &proxies), ip("10.0.0.5"));
        let h = headers(&[("x-forwarded-for", "garbage")]);
        assert_eq!(client_address(peer, &h, &proxies), peer);
        // An IPv4 peer seen through an IPv6 socket is the same address.
        assert_eq!(
            client_address(
                ip("::ffff:127.0.0.1"),
                &headers(&[("x-forwarded-for", "198.51.100.7")]),
                &proxies
            ),
            ip("198.51.100.7")
        );
    }
}
