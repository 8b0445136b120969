//! Logging out of a session opened through a provider: Liasse's session ends first, then the
//! browser is sent to the provider's end-session endpoint.

use liasse_app::app::App;
use liasse_app::auth::{self, secret_hash};
use liasse_oidc::Client;
use liasse_store::federation;

use crate::error::Result;
use crate::{parse_kind, providers};

/// Ends the session; returns where to send the browser to end the provider's session too
/// (`None` for a password session, or when the provider cannot be reached: Liasse's session
/// is over either way).
pub async fn logout(app: &App, session: &str) -> Result<Option<String>> {
    let found = if session.len() <= 200 {
        federation::session_provider(&app.db, &secret_hash(session)).await?
    } else {
        None
    };
    auth::logout(app, session).await?;
    let Some((tenant_id, provider, Some(id_token))) = found else {
        return Ok(None);
    };
    let Some(kind) = parse_kind(&provider) else {
        return Ok(None);
    };
    let url = match providers::client(app, &tenant_id, kind).await {
        Ok((_, client)) => client.logout_url(&id_token, &Client::logout_state()).await,
        Err(e) => {
            tracing::warn!(provider = %provider, error = %e, "provider logout skipped");
            return Ok(None);
        }
    };
    match url {
        Ok(url) => Ok(url),
        Err(e) => {
            tracing::warn!(provider = %provider, error = %e, "provider logout skipped");
            Ok(None)
        }
    }
}
