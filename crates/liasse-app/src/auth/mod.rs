//! Accounts, passwords, API tokens and the principal that every request acts as.

mod limiter;
pub mod second_factor;
mod sessions;
mod tokens;
mod users;

pub use limiter::*;
pub use sessions::*;
pub use tokens::*;
pub use users::*;

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use liasse_domain::clock::DAY_MS;
use liasse_domain::ids::new_id;
use liasse_domain::journal::{Actor, NewEntry};
use liasse_domain::policy::{ActorFacts, Right, Role, is_vault_account};
pub use liasse_store::accounts::AccountRow;
use liasse_store::accounts::{self, TokenInfo, TokenRow};
use liasse_store::{WriteTx, journal, staff, tenants};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::error::{AppError, Result};

/// Who is acting, as resolved from a token or a session.
#[derive(Clone, Debug)]
pub struct Principal {
    pub tenant_id: String,
    pub account_id: String,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    /// The name of the account's service, for the journal and letters (a label).
    pub service: String,
    /// The id of the account's service (empty for none): what the deposit basis compares.
    pub service_id: String,
    pub scopes: Vec<String>,
    /// Rights per domain (agents and managers).
    pub rights: Vec<(String, Right)>,
}

impl Principal {
    pub fn facts(&self) -> ActorFacts<'_> {
        ActorFacts {
            tenant_id: &self.tenant_id,
            account_id: &self.account_id,
            role: self.role,
            service_id: &self.service_id,
            rights: &self.rights,
        }
    }

    /// How this principal appears in the journal.
    pub fn actor(&self) -> Actor {
        Actor {
            kind: self.role.code().into(),
            id: self.account_id.clone(),
            label: self.display_name.clone(),
            service: self.service.clone(),
        }
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    async fn load(app: &App, a: AccountRow, scopes: &str) -> Result<Self> {
        let rights = accounts::rights(&app.db, &a.tenant_id, &a.id)
            .await?
            .into_iter()
            .filter_map(|(d, l)| Right::parse(&l).map(|r| (d, r)))
            .collect();
        let role = Role::parse(&a.role)
            .ok_or_else(|| AppError::Internal(format!("unknown role {}", a.role)))?;
        let (service, service_id) = match staff::service_of(&app.db, &a.tenant_id, &a.id).await? {
            Some(s) => (s.name, s.id),
            None => (String::new(), String::new()),
        };
        Ok(Principal {
            tenant_id: a.tenant_id,
            account_id: a.id,
            login: a.login,
            display_name: a.display_name,
            role,
            service,
            service_id,
            scopes: scopes.split_whitespace().map(String::from).collect(),
            rights,
        })
    }
}

/// SHA-256 of a bearer secret: tokens and session ids are stored only as this.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random secret with a recognisable prefix (so leaked tokens can be found by scanners).
pub fn new_secret(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!(
        "{prefix}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The name of an account of the tenant, for a page that shows who did something.
pub async fn display_name(app: &App, tenant_id: &str, account_id: &str) -> Option<String> {
    liasse_store::accounts::by_id(&app.db, tenant_id, account_id)
        .await
        .ok()
        .flatten()
        .map(|a| a.display_name)
}
