//! Notifications beyond the application: per-account preferences, the fan-out of one notice
//! to its channels (in-app, e-mail, SMS) inside the transaction of the event it tells about.
//!
//! Exactly once: every notice carries the idempotency key of its (event, recipient); the
//! in-app row and each outbox row are inserted with that key, so running the same job twice
//! records nothing new. Sending goes through the outbox (`liasse_jobs::delivery`).

use liasse_domain::clock::{date_of, rfc3339};
use liasse_domain::ids::new_id;
use liasse_domain::journal::NewEntry;
use liasse_domain::policy::{Access, Task, is_staff_account};
use liasse_store::jobs::{self as store, NewJob};
use liasse_store::notifications::NotificationRow;
use liasse_store::notifications::Prefs;
use liasse_store::outbox::{NewMessage, OutboxRow};
use liasse_store::{WriteTx, accounts, journal, tenants};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::auth::Principal;
use crate::error::{AppError, Result};

/// One notice to one account.
pub struct Notice<'a> {
    pub tenant_id: &'a str,
    pub account_id: &'a str,
    /// `document.expiring`, `document.expired`, `document.disposal`, ...
    pub kind: &'a str,
    /// The idempotency key of the (event, recipient).
    pub key: String,
    /// Title in the application, subject of the e-mail.
    pub title: String,
    /// The text, in French, without greeting or signature.
    pub text: String,
    pub object_id: Option<&'a str>,
    /// Disposal and deletion notices cannot be turned off: the citizen loses something.
    pub mandatory: bool,
}

/// What a notice turned into.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fanout {
    pub in_app: bool,
    pub email: bool,
    pub sms: bool,
}

/// Records a notice on the channels the recipient chose, inside the caller's transaction.
pub async fn notify(tx: &mut WriteTx, app: &App, n: &Notice<'_>, now: i64) -> Result<Fanout> {
    let mut out = Fanout::default();
    let prefs = liasse_store::notifications::prefs(tx.conn(), n.tenant_id, n.account_id).await?;
    if !n.mandatory && !prefs.optional && !is_request_notice(n.kind) {
        return Ok(out);
    }
    let Some(account) = accounts::by_id(&app.db, n.tenant_id, n.account_id).await? else {
        return Ok(out);
    };
    if account.disabled {
        return Ok(out);
    }
    if prefs.in_app || n.mandatory {
        out.in_app = liasse_store::notifications::notify_once(
            tx,
            &NotificationRow {
                id: new_id(),
                tenant_id: n.tenant_id.into(),
                account_id: n.account_id.into(),
                kind: n.kind.into(),
                title: n.title.clone(),
                body: n.text.clone(),
                object_id: n.object_id.map(Into::into),
                created_at: now,
                read_at: None,
            },
            &n.key,
        )
        .await?;
    }
    let tenant_name = tenants::by_id(&app.db, n.tenant_id)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let address = prefs.email_address.clone().or(account.email.clone());
    if let Some(address) = address.filter(|_| prefs.email || n.mandatory) {
        let staff = is_staff_account(&account.role);
        let held = staff && prefs.digest;
        out.email = liasse_store::outbox::insert(
            tx,
            &OutboxRow {
                state: if held { "held" } else { "pending" }.into(),
                ..OutboxRow::pending(
                    NewMessage {
                        tenant_id: n.tenant_id,
                        account_id: n.account_id,
                        idem_key: format!("{}:email", n.key),
                        channel: "email",
                        address,
                        subject: n.title.clone(),
                        body: mail_text(&account.display_name, &n.text, &tenant_name, app),
                    },
                    now,
                )
            },
        )
        .await?;
        if held && out.email {
            // One digest a day: tomorrow morning's job gathers everything held until then.
            let day = date_of(now);
            let run_at = day_start(day.next_day().unwrap_or(day)) + DIGEST_HOUR_MS;
            store::enqueue(
                tx,
                &NewJob {
                    id: &new_id(),
                    tenant_id: n.tenant_id,
                    kind: "digest",
                    key: &format!(
                        "{}:{}",
                        n.account_id,
                        liasse_domain::doctype::format_date(day)
                    ),
                    payload: &serde_json::json!({ "account_id": n.account_id }),
                    run_at,
                },
                now,
            )
            .await?;
        }
    }
    if let Some(phone) = prefs.phone.clone().filter(|_| prefs.sms) {
        out.sms = liasse_store::outbox::insert(
            tx,
            &OutboxRow::pending(
                NewMessage {
                    tenant_id: n.tenant_id,
                    account_id: n.account_id,
                    idem_key: format!("{}:sms", n.key),
                    channel: "sms",
                    address: phone,
                    subject: n.title.clone(),
                    body: sms_text(&n.title, &tenant_name),
                },
                now,
            ),
        )
        .await?;
    }
    Ok(out)
}

/// Folds the e-mails held for an agent's daily digest into one message (the `digest` job,
/// inside its transaction); returns whether there was anything to send.
pub async fn digest(
    tx: &mut WriteTx,
    app: &App,
    tenant_id: &str,
    account_id: &str,
    now: i64,
) -> Result<bool> {
    let held = liasse_store::outbox::held(tx, tenant_id, account_id, now).await?;
    if held.is_empty() {
        return Ok(false);
    }
    let Some(account) = accounts::by_id(&app.db, tenant_id, account_id).await? else {
        return Ok(false);
    };
    let prefs = liasse_store::notifications::prefs(tx.conn(), tenant_id, account_id).await?;
    let tenant_name = tenants::by_id(&app.db, tenant_id)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let ids: Vec<String> = held.iter().map(|o| o.id.clone()).collect();
    let address = prefs
        .email_address
        .clone()
        .or(account.email.clone())
        .or_else(|| held.last().map(|o| o.address.clone()))
        .unwrap_or_default();
    let mut text = format!("Voici les {} avis de la journée :\n", held.len());
    for o in &held {
        text.push_str(&format!("\n- {}\n", o.subject));
    }
    liasse_store::outbox::insert(
        tx,
        &OutboxRow::pending(
            NewMessage {
                tenant_id,
                account_id,
                // Named after its first message: the same set of held messages is sent once.
                idem_key: format!("digest:{account_id}:{}:email", ids[0]),
                channel: "email",
                address,
                subject: format!("Récapitulatif du porte-documents : {} avis", held.len()),
                body: mail_text(&account.display_name, text.trim_end(), &tenant_name, app),
            },
            now,
        ),
    )
    .await?;
    liasse_store::outbox::digested(tx, &ids, now).await?;
    Ok(true)
}

/// Digests go out at 06:00 UTC, before the working day.
const DIGEST_HOUR_MS: i64 = 6 * 3_600_000;

/// Midnight UTC of a day, in milliseconds.
pub fn day_start(day: time::Date) -> i64 {
    day.midnight().assume_utc().unix_timestamp() * 1000
}

/// The e-mail template: greeting, text, link, the tenant's signature.
fn mail_text(name: &str, text: &str, tenant: &str, app: &App) -> String {
    let signature = if tenant.is_empty() { "Liasse" } else { tenant };
    format!(
        "Bonjour {name},\n\n{text}\n\nVotre porte-documents : {url}/\n\n{signature}\n\n--\n\
         Message automatique envoyé par le porte-documents de {signature} ; merci de ne pas y répondre.\n\
         Vous pouvez choisir comment recevoir ces avis dans vos préférences de notification.\n",
        url = app.config.public_url().trim_end_matches('/'),
    )
}

/// SMS are short: the title and who sends it.
fn sms_text(title: &str, tenant: &str) -> String {
    let text = if tenant.is_empty() {
        title.to_string()
    } else {
        format!("{tenant} : {title}")
    };
    text.chars().take(300).collect()
}

// ----------------------------------------------------------------------------- preferences

#[derive(Debug, Serialize)]
pub struct Channels {
    pub email: bool,
    pub sms: bool,
    pub in_app: bool,
}

#[derive(Debug, Serialize)]
pub struct PrefsView {
    pub channels: Channels,
    /// Receive reminders that are not mandatory (expiry); disposal notices always come.
    pub optional: bool,
    /// One e-mail a day instead of one per event (agents).
    pub digest: bool,
    /// Where e-mails go when it is not the account's address.
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The account's own address, used when `email` is empty.
    pub account_email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelsInput {
    pub email: Option<bool>,
    pub sms: Option<bool>,
    pub in_app: Option<bool>,
}

/// A change of preferences: absent fields keep their value; an empty `email` or `phone`
/// clears it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefsInput {
    #[serde(default)]
    pub channels: ChannelsInput,
    pub optional: Option<bool>,
    pub digest: Option<bool>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

async fn prefs_view(app: &App, p: &Principal, prefs: Prefs) -> Result<PrefsView> {
    let account = accounts::by_id(&app.db, &p.tenant_id, &p.account_id).await?;
    Ok(PrefsView {
        channels: Channels {
            email: prefs.email,
            sms: prefs.sms,
            in_app: prefs.in_app,
        },
        optional: prefs.optional,
        digest: prefs.digest,
        email: prefs.email_address,
        phone: prefs.phone,
        account_email: account.and_then(|a| a.email),
    })
}

pub async fn preferences(app: &App, p: &Principal) -> Result<PrefsView> {
    let prefs =
        liasse_store::notifications::prefs(app.db.pool(), &p.tenant_id, &p.account_id).await?;
    prefs_view(app, p, prefs).await
}

pub fn check_email(s: &str) -> Result<String> {
    let s = s.trim();
    if s.len() > 254 || s.parse::<lettre::Address>().is_err() {
        return Err(AppError::invalid(
            "invalid-email",
            "adresse électronique invalide",
        ));
    }
    Ok(s.to_string())
}

/// A mobile number in international form (`+33612345678`); French numbers may be written
/// `06 12 34 56 78`.
fn check_phone(s: &str) -> Result<String> {
    let compact: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    let international = match compact.strip_prefix('0') {
        Some(rest) if compact.len() == 10 && !rest.starts_with('0') => format!("+33{rest}"),
        _ => compact,
    };
    let digits = international.strip_prefix('+').unwrap_or_default();
    let ok = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(international)
    } else {
        Err(AppError::invalid(
            "invalid-phone",
            "numéro de téléphone invalide : format attendu +33612345678 ou 06 12 34 56 78",
        ))
    }
}

pub async fn set_preferences(app: &App, p: &Principal, input: PrefsInput) -> Result<PrefsView> {
    let mut prefs =
        liasse_store::notifications::prefs(app.db.pool(), &p.tenant_id, &p.account_id).await?;
    if let Some(v) = input.channels.email {
        prefs.email = v;
    }
    if let Some(v) = input.channels.sms {
        prefs.sms = v;
    }
    if let Some(v) = input.channels.in_app {
        prefs.in_app = v;
    }
    if let Some(v) = input.optional {
        prefs.optional = v;
    }
    if let Some(v) = input.digest {
        if v && !p.allows(&Access::Digest) {
            return Err(AppError::invalid(
                "digest-staff-only",
                "le récapitulatif quotidien est réservé aux agents",
            ));
        }
        prefs.digest = v;
    }
    if let Some(e) = input.email {
        prefs.email_address = if e.trim().is_empty() {
            None
        } else {
            Some(check_email(&e)?)
        };
    }
    if let Some(ph) = input.phone {
        prefs.phone = if ph.trim().is_empty() {
            None
        } else {
            Some(check_phone(&ph)?)
        };
    }
    if prefs.sms && prefs.phone.is_none() {
        return Err(AppError::invalid(
            "phone-required",
            "indiquez un numéro de téléphone mobile pour recevoir les avis par SMS",
        ));
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    liasse_store::notifications::set_prefs(&mut tx, &p.tenant_id, &p.account_id, &prefs, now)
        .await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &NewEntry {
            actor: p.actor(),
            action: "preferences.update".into(),
            object_kind: "account".into(),
            object_id: p.account_id.clone(),
            citizen_id: p.role.has_vault().then(|| p.account_id.clone()),
            basis_kind: "owner".into(),
            basis_id: String::new(),
            // Choices only: addresses and numbers stay out of the append-only journal.
            details: serde_json::json!({
                "email": prefs.email, "sms": prefs.sms, "in_app": prefs.in_app,
                "optional": prefs.optional, "digest": prefs.digest,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    prefs_view(app, p, prefs).await
}

/// A message as its recipient (or, without its content, the tenant's admin) sees it.
#[derive(Debug, Serialize)]
pub struct DeliveryView {
    pub id: String,
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// The caller's e-mails and SMS with their state; for a tenant admin, the tenant's messages
/// that are not delivered (pending or failed), without their content.
pub async fn deliveries(app: &App, p: &Principal) -> Result<Vec<DeliveryView>> {
    if p.allows(&Access::Administer(Task::Outbox)) {
        let mut rows = liasse_store::outbox::by_state(&app.db, &p.tenant_id, "failed", 500).await?;
        rows.extend(liasse_store::outbox::by_state(&app.db, &p.tenant_id, "pending", 500).await?);
        rows.extend(liasse_store::outbox::by_state(&app.db, &p.tenant_id, "sending", 500).await?);
        return Ok(rows.into_iter().map(|o| delivery_view(o, false)).collect());
    }
    Ok(
        liasse_store::outbox::for_account(&app.db, &p.tenant_id, &p.account_id, 500)
            .await?
            .into_iter()
            .map(|o| delivery_view(o, true))
            .collect(),
    )
}

fn delivery_view(o: OutboxRow, own: bool) -> DeliveryView {
    DeliveryView {
        id: o.id,
        channel: o.channel,
        subject: own.then_some(o.subject),
        address: own.then_some(o.address),
        state: o.state,
        attempts: o.attempts,
        last_error: o.last_error,
        created_at: rfc3339(o.created_at),
        sent_at: o.sent_at.map(rfc3339),
    }
}

// -------------------------------------------------------------------------------- delivery

// ------------------------------------------------------------------------ request notices

/// A request's state notices are not reminders: "optional" (reminders) does not silence
/// them; the chosen channels still apply.
fn is_request_notice(kind: &str) -> bool {
    kind.starts_with("request.state.")
}

/// A change of a request's state, as the citizen is told about it.
pub struct RequestChange<'a> {
    pub request: &'a liasse_store::requests::RequestRow,
    pub procedure_title: &'a str,
    /// The state before the change (`complement` → `submitted` is a complement received).
    pub previous: &'a str,
    pub reason: Option<&'a str>,
    /// Labels of the documents asked for in a complement request.
    pub asked: &'a [String],
}

/// Tells the citizen of a request's new state, on the channels of their preferences, with
/// what to do next and a link to the request; inside the transaction of the change.
pub async fn notify_request_state(
    tx: &mut WriteTx,
    app: &App,
    c: &RequestChange<'_>,
    now: i64,
) -> Result<Fanout> {
    let r = c.request;
    let link = format!(
        "{}/demandes/{}",
        app.config.public_url().trim_end_matches('/'),
        r.id
    );
    let what = format!("votre demande « {} » n° {}", c.procedure_title, r.number);
    let reason = c.reason.unwrap_or_default();
    let (title, text) = match (c.previous, r.state.as_str()) {
        ("complement", "submitted") => (
            format!("Demande {} : complément reçu", r.number),
            format!(
                "Le complément de {what} a bien été reçu. Le service reprend l'instruction ; vous n'avez rien d'autre à faire pour l'instant."
            ),
        ),
        (_, "submitted") => (
            format!("Demande {} reçue", r.number),
            format!(
                "Nous avons bien reçu {what}. Elle va être examinée par le service ; vous serez prévenu à chaque étape. Vous n'avez rien à faire pour l'instant."
            ),
        ),
        (_, "in_progress") => (
            format!("Demande {} prise en charge", r.number),
            format!(
                "Un agent a pris en charge {what}. Vous n'avez rien à faire pour l'instant : s'il manque quelque chose, le service vous le demandera."
            ),
        ),
        (_, "complement") => (
            format!("Demande {} : un complément vous est demandé", r.number),
            format!(
                "Le service vous demande de compléter {what}.\n\nMotif : {reason}\n\nPièces à fournir : {}.\n\nOuvrez votre demande, joignez ces pièces puis renvoyez-la.",
                c.asked.join(", ")
            ),
        ),
        (_, "completed") => (
            format!("Demande {} acceptée", r.number),
            format!(
                "Bonne nouvelle : {what} a été acceptée.{} Si le service vous adresse un courrier, il arrivera dans votre porte-documents.",
                if reason.is_empty() {
                    String::new()
                } else {
                    format!("\n\nMessage du service : {reason}\n")
                }
            ),
        ),
        (_, "rejected") => (
            format!("Demande {} refusée", r.number),
            format!(
                "{} a été refusée.\n\nMotif : {reason}\n\nSi vous pensez qu'il s'agit d'une erreur, répondez au service depuis votre demande ; vous pouvez aussi refaire la démarche avec les pièces qui conviennent.",
                crate::text::capitalise(&what).trim_end_matches('.')
            ),
        ),
        (_, "closed") => (
            format!("Demande {} close", r.number),
            format!(
                "{} est close. Le service n'a plus accès à vos pièces par cette demande ; elles restent dans votre porte-documents.",
                crate::text::capitalise(&what).trim_end_matches('.')
            ),
        ),
        _ => return Ok(Fanout::default()),
    };
    let kind = format!("request.state.{}", r.state);
    notify(
        tx,
        app,
        &Notice {
            tenant_id: &r.tenant_id,
            account_id: &r.citizen_id,
            kind: &kind,
            // Each change is its own event, written once with it (the same state can come
            // back, within the same millisecond on a simulated clock).
            key: format!("request:{}:{}:{}", r.id, r.state, new_id()),
            title,
            text: format!("{text}\n\nVotre demande : {link}"),
            object_id: Some(&r.id),
            mandatory: false,
        },
        now,
    )
    .await
}
