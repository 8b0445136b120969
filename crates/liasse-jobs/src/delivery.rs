//! The delivery of the outbox through SMTP (lettre) and an HTTP SMS gateway. A failing server
//! leaves the message pending with its error, and the next pass retries it; a message refused
//! for good (a bad address) is marked failed and not retried.

use std::collections::HashMap;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use liasse_app::App;
use liasse_app::error::{AppError, Result};
use liasse_store::outbox::OutboxRow;
use liasse_store::tenants;
use serde::Serialize;

/// A claimed message is the node's for this long; a node that dies mid-send leaves it to
/// be taken back after that.
pub const OUTBOX_LEASE_MS: i64 = 5 * 60 * 1000;
/// Retry delays grow from one minute to at most an hour; transient failures never give up.
const OUTBOX_RETRY_MIN_MS: i64 = 60 * 1000;
const OUTBOX_RETRY_MAX_MS: i64 = 60 * 60 * 1000;
const OUTBOX_BATCH: i64 = 20;

/// The configured ways out: an SMTP transport and an SMS gateway, when set.
pub struct Senders {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    sms: Option<(reqwest::Client, String)>,
}

impl Senders {
    pub fn from_config(app: &App) -> Result<Senders> {
        let c = &app.config;
        let bad = |m: String| AppError::Internal(format!("configuration: {m}"));
        let from: Mailbox = c
            .mail_from()
            .parse()
            .map_err(|e| bad(format!("mail_from « {} »: {e}", c.mail_from())))?;
        let smtp = match c.smtp_url.as_deref().filter(|u| !u.is_empty()) {
            None => None,
            Some(url) => {
                let (scheme, rest) = url
                    .split_once("://")
                    .ok_or_else(|| bad(format!("smtp_url « {url} » is not smtp:// or smtps://")))?;
                // Credentials belong in smtp_username / smtp_password; a userinfo part is dropped.
                let hostport = rest
                    .rsplit('@')
                    .next()
                    .unwrap_or(rest)
                    .trim_end_matches('/');
                let (host, port) = match hostport.rsplit_once(':') {
                    Some((h, p)) => (
                        h.to_string(),
                        Some(
                            p.parse::<u16>()
                                .map_err(|_| bad(format!("smtp_url port « {p} »")))?,
                        ),
                    ),
                    None => (hostport.to_string(), None),
                };
                let builder = match scheme {
                    "smtps" => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)
                        .map_err(|e| bad(format!("smtp_url: {e}")))?,
                    "smtp" if c.smtp_starttls() => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
                            .map_err(|e| bad(format!("smtp_url: {e}")))?
                    }
                    "smtp" => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host).port(25)
                    }
                    other => {
                        return Err(bad(format!("smtp_url scheme « {other} »: smtp or smtps")));
                    }
                };
                let mut builder = builder.timeout(Some(Duration::from_secs(30)));
                if let Some(port) = port {
                    builder = builder.port(port);
                }
                let password = c.smtp_password().map_err(|e| bad(e.to_string()))?;
                if let Some(user) = c.smtp_username.clone().filter(|u| !u.is_empty()) {
                    builder =
                        builder.credentials(Credentials::new(user, password.unwrap_or_default()));
                }
                Some(builder.build())
            }
        };
        let sms = c
            .sms_gateway_url
            .clone()
            .filter(|u| !u.is_empty())
            .map(|url| {
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(15))
                    .build()
                    .map(|client| (client, url))
                    .map_err(|e| bad(format!("sms gateway client: {e}")))
            })
            .transpose()?;
        Ok(Senders { smtp, from, sms })
    }

    pub fn has_email(&self) -> bool {
        self.smtp.is_some()
    }

    pub fn has_sms(&self) -> bool {
        self.sms.is_some()
    }
}

/// What a delivery pass did.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct DeliveryReport {
    pub emails_sent: usize,
    pub sms_sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// A failed send: retry later, or give up (the address or the message is refused for good).
struct SendError {
    permanent: bool,
    message: String,
}

/// Sends every due message of the configured channels, until none is left.
pub async fn deliver_due(app: &App, senders: &Senders, owner: &str) -> Result<DeliveryReport> {
    let mut report = DeliveryReport::default();
    if !senders.has_email() && !senders.has_sms() {
        return Ok(report);
    }
    let mut tenant_names: HashMap<String, String> = HashMap::new();
    loop {
        let now = app.now();
        let batch = liasse_store::outbox::claim(
            &app.db,
            now,
            OUTBOX_LEASE_MS,
            owner,
            OUTBOX_BATCH,
            senders.has_email(),
            senders.has_sms(),
        )
        .await?;
        if batch.is_empty() {
            return Ok(report);
        }
        for o in batch {
            if !tenant_names.contains_key(&o.tenant_id) {
                let name = tenants::by_id(&app.db, &o.tenant_id)
                    .await?
                    .map(|t| t.name)
                    .unwrap_or_default();
                tenant_names.insert(o.tenant_id.clone(), name);
            }
            let tenant = tenant_names.get(&o.tenant_id).cloned().unwrap_or_default();
            // An enrolment's link is put in only now (the queued body holds none).
            let o = match liasse_app::enrolment::delivery_body(app, &o).await? {
                Some(body) => OutboxRow { body, ..o },
                None => {
                    liasse_store::outbox::failed(
                        &app.db,
                        &o.id,
                        owner,
                        "lien d'activation remplacé, expiré ou déjà utilisé : message non envoyé",
                        None,
                    )
                    .await?;
                    report.failed += 1;
                    continue;
                }
            };
            let sent = match o.channel.as_str() {
                "email" => send_email(senders, &o, &tenant).await,
                "sms" => send_sms(senders, &o).await,
                other => Err(SendError {
                    permanent: true,
                    message: format!("canal inconnu « {other} »"),
                }),
            };
            match sent {
                Ok(()) => {
                    if !liasse_store::outbox::sent(&app.db, &o.id, owner, app.now()).await? {
                        tracing::warn!(message = %o.id, "a message was sent after its lease expired: it may go out twice");
                    }
                    if o.channel == "sms" {
                        report.sms_sent += 1;
                    } else {
                        report.emails_sent += 1;
                    }
                }
                Err(e) => {
                    let retry_at = (!e.permanent).then(|| {
                        let exp = (o.attempts - 1).clamp(0, 20) as u32;
                        let delay = OUTBOX_RETRY_MIN_MS
                            .saturating_mul(2i64.saturating_pow(exp))
                            .min(OUTBOX_RETRY_MAX_MS);
                        app.now() + delay
                    });
                    tracing::warn!(message = %o.id, channel = %o.channel, attempts = o.attempts, permanent = e.permanent, error = %e.message, "delivery failed");
                    liasse_store::outbox::failed(&app.db, &o.id, owner, &e.message, retry_at)
                        .await?;
                    if e.permanent {
                        report.failed += 1;
                    } else {
                        report.retried += 1;
                    }
                }
            }
        }
    }
}

async fn send_email(
    senders: &Senders,
    o: &OutboxRow,
    tenant: &str,
) -> std::result::Result<(), SendError> {
    let Some(smtp) = &senders.smtp else {
        return Err(SendError {
            permanent: false,
            message: "aucun serveur SMTP configuré".into(),
        });
    };
    let to: Mailbox = o.address.parse().map_err(|e| SendError {
        permanent: true,
        message: format!("adresse invalide : {e}"),
    })?;
    // The tenant signs its notices; the address is the instance's.
    let from = if tenant.is_empty() {
        senders.from.clone()
    } else {
        Mailbox::new(Some(tenant.to_string()), senders.from.email.clone())
    };
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(o.subject.clone())
        // A stable id lets a mail system drop the copy of a message sent twice after a crash.
        .message_id(Some(format!("<{}@liasse>", o.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(o.body.clone())
        .map_err(|e| SendError {
            permanent: true,
            message: format!("message invalide : {e}"),
        })?;
    smtp.send(message).await.map(|_| ()).map_err(|e| SendError {
        permanent: e.is_permanent(),
        message: format!("SMTP : {e}"),
    })
}

async fn send_sms(senders: &Senders, o: &OutboxRow) -> std::result::Result<(), SendError> {
    let Some((client, url)) = &senders.sms else {
        return Err(SendError {
            permanent: false,
            message: "aucune passerelle SMS configurée".into(),
        });
    };
    let r = client
        .post(url)
        .json(&serde_json::json!({ "to": o.address, "text": o.body, "id": o.id }))
        .send()
        .await
        .map_err(|e| SendError {
            permanent: false,
            message: format!("passerelle SMS : {e}"),
        })?;
    let status = r.status();
    if status.is_success() {
        return Ok(());
    }
    // A refusal of the request itself will not change by retrying; overload and outages will.
    let permanent = status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429;
    Err(SendError {
        permanent,
        message: format!("passerelle SMS : HTTP {status}"),
    })
}
