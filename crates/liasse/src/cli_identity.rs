//! `liasse tenant identity-provider set|list|remove|relink`: a tenant's services at
//! FranceConnect and ProConnect, from the server's command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use liasse_app::app::App;
use liasse_app::error::AppError;
use liasse_domain::journal::Actor;
use liasse_federation::providers::{self, NewProvider};
use liasse_federation::{FedError, ProviderKind, parse_kind, path_of, relink};

#[derive(Subcommand)]
pub enum IdentityProviderCommand {
    /// Register (or replace) the tenant's service at a provider. The client secret is read
    /// from a file (never from the command line, which other users may see), kept encrypted,
    /// and never shown back.
    Set {
        slug: String,
        /// franceconnect or proconnect
        provider: String,
        /// The provider's issuer URL (discovery at ISSUER/.well-known/openid-configuration).
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        /// A file holding the client secret (trailing newline ignored). Omitted: the secret
        /// already registered is kept.
        #[arg(long)]
        client_secret_file: Option<PathBuf>,
        /// The level of assurance asked: eidas1 (default), eidas2 or eidas3.
        #[arg(long)]
        acr: Option<String>,
        /// ProConnect: a SIRET allowed to log in (repeat; none = any organisation).
        #[arg(long = "allowed-siret")]
        allowed_sirets: Vec<String>,
    },
    /// List the tenant's providers (without their secrets).
    List { slug: String },
    /// Remove the tenant's service at a provider; linked accounts keep their link.
    Remove { slug: String, provider: String },
    /// Re-link an account whose identity changed at the provider: removes the old link and
    /// prints a single-use link (48 hours) to hand to the account's holder.
    Relink {
        slug: String,
        provider: String,
        #[arg(long)]
        login: String,
    },
}

fn kind(s: &str) -> Result<ProviderKind, AppError> {
    parse_kind(s).ok_or_else(|| {
        AppError::invalid(
            "invalid-provider",
            format!("unknown provider '{s}': franceconnect or proconnect"),
        )
    })
}

fn app_error(e: FedError) -> AppError {
    match e {
        FedError::App(e) => e,
        FedError::UnknownTenant => AppError::invalid("unknown-tenant", "unknown tenant"),
        FedError::NotConfigured(k) => AppError::invalid(
            "not-configured",
            format!("{} is not configured for this tenant", k.label()),
        ),
        e => AppError::invalid("identity-provider", e.to_string()),
    }
}

fn read_secret(path: &PathBuf) -> Result<String, AppError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AppError::invalid(
            "invalid-client-secret",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

pub async fn run(app: &App, cmd: IdentityProviderCommand) -> Result<ExitCode, AppError> {
    match cmd {
        IdentityProviderCommand::Set {
            slug,
            provider,
            issuer,
            client_id,
            client_secret_file,
            acr,
            allowed_sirets,
        } => {
            let kind = kind(&provider)?;
            let secret = client_secret_file.as_ref().map(read_secret).transpose()?;
            let acr = acr
                .as_deref()
                .map(|a| {
                    a.parse().map_err(|_| {
                        AppError::invalid(
                            "invalid-acr",
                            format!("unknown acr '{a}': eidas1, eidas2 or eidas3"),
                        )
                    })
                })
                .transpose()?;
            let s = providers::set(
                app,
                &slug,
                Actor::operator(),
                NewProvider {
                    kind,
                    issuer: &issuer,
                    client_id: &client_id,
                    client_secret: secret.as_deref(),
                    acr,
                    allowed_sirets,
                },
            )
            .await
            .map_err(app_error)?;
            println!(
                "{} set for {slug}: issuer {}, client id {}, acr {}",
                kind.label(),
                s.issuer,
                s.client_id,
                s.acr.as_str()
            );
            println!(
                "register these with the provider: redirect URI {}, post-logout URI {}",
                providers::redirect_uri(app, kind),
                providers::post_logout_uri(app)
            );
            Ok(ExitCode::SUCCESS)
        }
        IdentityProviderCommand::List { slug } => {
            for s in providers::list(app, &slug).await.map_err(app_error)? {
                let sirets = if s.allowed_sirets.is_empty() {
                    "any".to_owned()
                } else {
                    s.allowed_sirets.join(",")
                };
                println!(
                    "{}\tissuer={}\tclient_id={}\tacr={}\tallowed_sirets={sirets}\tsecret=(set)",
                    path_of(s.kind),
                    s.issuer,
                    s.client_id,
                    s.acr.as_str()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        IdentityProviderCommand::Remove { slug, provider } => {
            let kind = kind(&provider)?;
            if providers::remove(app, &slug, Actor::operator(), kind)
                .await
                .map_err(app_error)?
            {
                println!("{} removed from {slug}", kind.label());
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("{slug} has no {} service", kind.label());
                Ok(ExitCode::FAILURE)
            }
        }
        IdentityProviderCommand::Relink {
            slug,
            provider,
            login,
        } => {
            let kind = kind(&provider)?;
            let issued = relink::issue(app, &slug, Actor::operator(), &login, kind)
                .await
                .map_err(app_error)?;
            println!(
                "{} link(s) of {login} at {} removed; hand this single-use link (valid 48 hours) to the account's holder:",
                issued.removed,
                kind.label()
            );
            println!("{}", issued.url);
            Ok(ExitCode::SUCCESS)
        }
    }
}
