//! Pairwise ids: a service client never sees a citizen's internal id. It knows each citizen by
//! `pw_` + HMAC-SHA256(tenant's `pairwise` secret, client id ‖ citizen id) (url-safe base64),
//! stable for that client, different for another, and unlinkable to another client's without
//! the tenant secret; a household member likewise by `pwm_` + an HMAC under another label. The
//! secret is sealed with the tenant's other secrets (`secrets`), so `keys rotate` re-wraps it
//! and the ids do not change.
//!
//! Out: [`rewrite`] turns every citizen or household-member id in an answer for a service
//! client into the client's pairwise one (the API applies it to every JSON answer and header),
//! recording each citizen's id the first time it is handed out. In: [`citizen_named`] maps a
//! pairwise id back to its citizen, for that client only; anything else (an internal id,
//! another client's pairwise id) is "not found", exactly like an unknown citizen.

use std::collections::{BTreeSet, HashMap};

use liasse_crypto::PairwiseKey;
use liasse_domain::policy::{self, is_vault_account};
use liasse_store::members::MemberRow;
use liasse_store::pairwise as store;

use crate::app::App;
use crate::auth::Principal;
use crate::error::{AppError, Result};
use crate::secrets;

/// What a citizen's pairwise id starts with (a service client can tell it from other ids).
pub const CITIZEN_PREFIX: &str = "pw_";
/// What a household member's pairwise id starts with.
pub const MEMBER_PREFIX: &str = "pwm_";
/// The tenant's sealed secret the ids are computed under.
const SECRET: &str = "pairwise";
/// Its length in bytes.
const SECRET_LEN: usize = 32;
/// What keeps a member's HMAC apart from a citizen's: appended to the client id (the helper
/// length-prefixes it, so no citizen's input can equal a member's).
const MEMBER_LABEL: &str = "#household-member";

/// Whether `p` knows citizens by pairwise ids (a service client), as the policy says.
pub fn applies(p: &Principal) -> bool {
    policy::pseudonymous(&p.facts())
}

async fn key(app: &App, tenant_id: &str) -> Result<PairwiseKey> {
    let secret = secrets::get_or_create(app, tenant_id, SECRET, SECRET_LEN).await?;
    Ok(PairwiseKey::new(&secret))
}

fn citizen_id_for(key: &PairwiseKey, client_id: &str, citizen_id: &str) -> String {
    format!("{CITIZEN_PREFIX}{}", key.id_for(client_id, citizen_id))
}

fn member_id_for(key: &PairwiseKey, client_id: &str, member_id: &str) -> String {
    format!(
        "{MEMBER_PREFIX}{}",
        key.id_for(&format!("{client_id}{MEMBER_LABEL}"), member_id)
    )
}

/// The internal id of the citizen the caller names `id`: for a service client, the citizen
/// its pairwise id was handed out for (and still computes to); for anyone else, `id` itself.
pub async fn citizen_named(app: &App, p: &Principal, id: &str) -> Result<String> {
    if !applies(p) {
        return Ok(id.to_string());
    }
    // Only what looks like one of ours reaches the database.
    let well_formed = id.strip_prefix(CITIZEN_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if !well_formed {
        return Err(AppError::NotFound);
    }
    let citizen = store::citizen_of(&app.db, &p.tenant_id, &p.account_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The row is a cache of the HMAC: one that does not compute (copied from another client
    // or tenant) names nobody.
    let key = key(app, &p.tenant_id).await?;
    if citizen_id_for(&key, &p.account_id, &citizen) != id {
        return Err(AppError::NotFound);
    }
    Ok(citizen)
}

/// The household member, among `members`, the caller names `id` (a service client by its
/// pairwise id, anyone else by the member's id).
pub async fn member_named<'m>(
    app: &App,
    p: &Principal,
    members: &'m [MemberRow],
    id: &str,
) -> Result<Option<&'m MemberRow>> {
    if !applies(p) {
        return Ok(members.iter().find(|m| m.id == id));
    }
    if !id.starts_with(MEMBER_PREFIX) {
        return Ok(None);
    }
    let key = key(app, &p.tenant_id).await?;
    Ok(members
        .iter()
        .find(|m| member_id_for(&key, &p.account_id, &m.id) == id))
}

/// The pairwise ids of `citizens` for the service client `p`, recorded on first hand-out.
pub async fn hand_out(
    app: &App,
    p: &Principal,
    citizens: &[String],
) -> Result<HashMap<String, String>> {
    if citizens.is_empty() {
        return Ok(HashMap::new());
    }
    let key = key(app, &p.tenant_id).await?;
    let mut ids: HashMap<String, String> =
        store::recorded(&app.db, &p.tenant_id, &p.account_id, citizens)
            .await?
            .into_iter()
            .collect();
    let missing: Vec<&String> = citizens.iter().filter(|c| !ids.contains_key(*c)).collect();
    if !missing.is_empty() {
        let now = app.now();
        let mut tx = app.db.begin_write().await?;
        for c in missing {
            let id = citizen_id_for(&key, &p.account_id, c);
            store::record(&mut tx, &p.tenant_id, &p.account_id, c, &id, now).await?;
            ids.insert(c.clone(), id);
        }
        tx.commit().await?;
    }
    Ok(ids)
}

/// The length of an id in its canonical text form (`8-4-4-4-12` hexadecimal digits).
const ID_LEN: usize = 36;

/// Whether `b` is an id in its canonical text form.
fn is_id(b: &[u8]) -> bool {
    b.len() == ID_LEN
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Every id-shaped piece of `text`.
fn ids_in(text: &str, into: &mut BTreeSet<String>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i + ID_LEN <= b.len() {
        // Ids are ASCII, so a match starts and ends on character boundaries.
        if is_id(&b[i..i + ID_LEN]) {
            into.insert(text[i..i + ID_LEN].to_string());
            i += ID_LEN;
        } else {
            i += 1;
        }
    }
}

fn collect(value: &serde_json::Value, into: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::String(s) => ids_in(s, into),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect(v, into)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                ids_in(k, into);
                collect(v, into);
            }
        }
        _ => {}
    }
}

/// `text` with each id of `map` replaced by its pairwise id.
fn replace_in(text: &str, map: &HashMap<String, String>) -> String {
    let mut found = BTreeSet::new();
    ids_in(text, &mut found);
    let mut out = text.to_string();
    for id in found {
        if let Some(to) = map.get(&id) {
            out = out.replace(&id, to);
        }
    }
    out
}

fn replace(value: &mut serde_json::Value, map: &HashMap<String, String>) {
    match value {
        serde_json::Value::String(s) => *s = replace_in(s, map),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| replace(v, map)),
        serde_json::Value::Object(obj) => {
            let entries = std::mem::take(obj);
            for (k, mut v) in entries {
                replace(&mut v, map);
                obj.insert(replace_in(&k, map), v);
            }
        }
        _ => {}
    }
}

/// The pairwise id of each citizen and household member among `ids`, for `p`.
async fn mapping(
    app: &App,
    p: &Principal,
    ids: BTreeSet<String>,
) -> Result<HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<String> = ids.into_iter().collect();
    let (accounts, members) = store::people_among(&app.db, &p.tenant_id, &ids).await?;
    let citizens: Vec<String> = accounts
        .into_iter()
        .filter(|(_, role)| is_vault_account(role))
        .map(|(id, _)| id)
        .collect();
    let mut map = hand_out(app, p, &citizens).await?;
    if !members.is_empty() {
        let key = key(app, &p.tenant_id).await?;
        for m in members {
            let id = member_id_for(&key, &p.account_id, &m);
            map.insert(m, id);
        }
    }
    Ok(map)
}

/// An answer as a service client sees it: every citizen's and household member's id in it
/// (in any string or key, whole or inside a longer text) replaced by the client's pairwise
/// one. Unchanged for anyone else.
pub async fn rewrite(app: &App, p: &Principal, value: &mut serde_json::Value) -> Result<()> {
    if !applies(p) {
        return Ok(());
    }
    let mut ids = BTreeSet::new();
    collect(value, &mut ids);
    let map = mapping(app, p, ids).await?;
    if !map.is_empty() {
        replace(value, &map);
    }
    Ok(())
}

/// A text (a header's value) as a service client sees it; `None` when unchanged.
pub async fn rewrite_text(app: &App, p: &Principal, text: &str) -> Result<Option<String>> {
    if !applies(p) {
        return Ok(None);
    }
    let mut ids = BTreeSet::new();
    ids_in(text, &mut ids);
    let map = mapping(app, p, ids).await?;
    let out = replace_in(text, &map);
    Ok((out != text).then_some(out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn finds_ids_inside_texts_and_replaces_only_those_mapped() {
        let a = "0190b8a2-7c3e-7d41-9a7f-3c2d1e0f4a5b";
        let b = "0190b8a2-7c3e-7d41-9a7f-3c2d1e0f4a5c";
        let mut found = BTreeSet::new();
        ids_in(&format!("account {a}, then {b}x and 0190b8a2"), &mut found);
        assert_eq!(found.into_iter().collect::<Vec<_>>(), [a, b]);
        let map = HashMap::from([(a.to_string(), "pw_A".to_string())]);
        let mut v =
            serde_json::json!({ "citizen_id": a, "other": b, a: [format!("/citizens/{a}")] });
        replace(&mut v, &map);
        assert_eq!(
            v,
            serde_json::json!({ "citizen_id": "pw_A", "other": b, "pw_A": ["/citizens/pw_A"] })
        );
    }

    #[test]
    fn member_ids_differ_from_citizen_ids_for_the_same_input() {
        let key = PairwiseKey::new(b"tenant secret of thirty-two bytes!");
        let c = citizen_id_for(&key, "client", "0190b8a2-7c3e-7d41-9a7f-3c2d1e0f4a5b");
        let m = member_id_for(&key, "client", "0190b8a2-7c3e-7d41-9a7f-3c2d1e0f4a5b");
        assert!(c.starts_with(CITIZEN_PREFIX) && m.starts_with(MEMBER_PREFIX));
        assert_ne!(c[CITIZEN_PREFIX.len()..], m[MEMBER_PREFIX.len()..]);
        assert_eq!(c.len(), CITIZEN_PREFIX.len() + 43);
    }
}
