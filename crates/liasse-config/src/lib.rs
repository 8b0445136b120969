//! Liasse's configuration: defaults, then a TOML file, then `LIASSE_*` environment variables, then
//! command-line flags. Secrets may be given as `*_file` paths and are never printed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the embedded default keeps its database, blobs and key file.
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    /// `sqlite://...` or `postgres://...`.
    pub database_url: Option<String>,
    pub database_url_file: Option<PathBuf>,
    pub database_max_connections: Option<u32>,
    /// A local directory (`file:///dir` or a path) or `s3://bucket[/prefix]`.
    pub blob_url: Option<String>,
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    pub s3_secret_access_key_file: Option<PathBuf>,
    /// The key ring file (generated with mode 0600 on first start when absent).
    pub key_file: Option<PathBuf>,
    /// A single master key in base64, instead of a key file (container secrets).
    pub master_key: Option<String>,
    pub master_key_file: Option<PathBuf>,
    /// `host:port` of clamd; when set, every upload is scanned and refused if clamd is down.
    pub clamd_address: Option<String>,
    /// The largest upload accepted before the document type is known.
    pub max_upload_bytes: Option<u64>,
    /// `text` or `json`.
    pub log_format: Option<String>,
    /// Base URL users reach the server at (used in links and the demo banner).
    pub public_url: Option<String>,
    /// Set `Secure` cookies even on plain HTTP (behind a TLS proxy); defaults to true.
    pub secure_cookies: Option<bool>,
    /// Mail server for notices: `smtp://host[:port]` (STARTTLS unless `smtp_starttls` is
    /// false) or `smtps://host[:port]` (TLS from the start). Without it, e-mails stay pending.
    pub smtp_url: Option<String>,
    /// Require STARTTLS on `smtp://` (default true: notices name citizens' documents).
    pub smtp_starttls: Option<bool>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub smtp_password_file: Option<PathBuf>,
    /// Sender of notices, e.g. `Ville de Nîmes <ne-pas-repondre@nimes.fr>`.
    pub mail_from: Option<String>,
    /// HTTP gateway that sends SMS: each message is POSTed as JSON `{"to", "text"}`.
    pub sms_gateway_url: Option<String>,
    /// Days before the end of validity when citizens are reminded (default 30 and 7); the day
    /// a document expires is always notified.
    pub expiry_notice_days: Option<Vec<u32>>,
    /// Seconds between two passes of the job runner inside `serve` (default 60; 0: no runner).
    pub runner_interval_secs: Option<u64>,
    /// Largest body of a request that is not an upload (JSON, forms), in bytes (default
    /// 256 KiB). A declared `Content-Length` above it is answered 413 before anything is read.
    pub max_body_bytes: Option<u64>,
    /// Seconds a client has to send a request's headers, also between two requests on a kept
    /// connection (default 10).
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds a connection may go without a byte read or written while no request is being
    /// handled (a client that stops reading a download; default 60).
    pub idle_timeout_secs: Option<u64>,
    /// A request body must bring at least `body_min_rate_bytes` in every
    /// `body_min_rate_secs` (defaults 4096 bytes in 10 s), or it is cut with 408.
    pub body_min_rate_bytes: Option<u64>,
    pub body_min_rate_secs: Option<u64>,
    /// Open connections at once (default 1024); the next ones are answered 503 and closed.
    pub max_connections: Option<usize>,
    /// Requests being handled at once for one client address (default 32); more are answered
    /// 503 with `Retry-After`.
    pub max_in_flight_per_client: Option<usize>,
    /// Addresses or CIDR ranges of the reverse proxies whose `Forwarded` / `X-Forwarded-For`
    /// name the client (e.g. `["127.0.0.1", "10.0.0.0/8"]`; environment: comma-separated).
    /// From any other peer these headers are ignored. Default: none.
    pub trusted_proxies: Option<Vec<String>>,
}

/// Every key, in the order used for the environment (`LIASSE_` + upper case) and for printing.
const KEYS: &[&str] = &[
    "data_dir",
    "listen",
    "database_url",
    "database_url_file",
    "database_max_connections",
    "blob_url",
    "s3_endpoint",
    "s3_region",
    "s3_access_key_id",
    "s3_secret_access_key",
    "s3_secret_access_key_file",
    "key_file",
    "master_key",
    "master_key_file",
    "clamd_address",
    "max_upload_bytes",
    "log_format",
    "public_url",
    "secure_cookies",
    "smtp_url",
    "smtp_starttls",
    "smtp_username",
    "smtp_password",
    "smtp_password_file",
    "mail_from",
    "sms_gateway_url",
    "expiry_notice_days",
    "runner_interval_secs",
    "max_body_bytes",
    "header_read_timeout_secs",
    "idle_timeout_secs",
    "body_min_rate_bytes",
    "body_min_rate_secs",
    "max_connections",
    "max_in_flight_per_client",
    "trusted_proxies",
];

const SECRETS: &[&str] = &[
    "s3_secret_access_key",
    "master_key",
    "database_url",
    "smtp_url",
    "smtp_password",
    // Gateways often carry their API key in the URL.
    "sms_gateway_url",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("configuration file {0}: {1}")]
    Parse(PathBuf, String),
    #[error("environment variable {0}: {1}")]
    Env(String, String),
    #[error("cannot read secret file {0}: {1}")]
    Secret(PathBuf, std::io::Error),
    #[error("setting {0}: {1}")]
    Invalid(&'static str, String),
}

impl Config {
    /// Loads the layers. `file` is the explicit `--config`; otherwise `LIASSE_CONFIG`, otherwise
    /// `./liasse.toml` when it exists.
    pub fn load(file: Option<&Path>, flags: Config) -> Result<Config, ConfigError> {
        let explicit = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("LIASSE_CONFIG").map(PathBuf::from));
        let path = explicit.clone().or_else(|| {
            let p = PathBuf::from("liasse.toml");
            p.exists().then_some(p)
        });
        let mut cfg = Config::default();
        if let Some(p) = path {
            let text = std::fs::read_to_string(&p).map_err(|e| ConfigError::Read(p.clone(), e))?;
            let from_file: Config = toml::from_str(&text)
                .map_err(|e| ConfigError::Parse(p.clone(), e.message().to_string()))?;
            cfg.overlay(from_file);
        }
        cfg.overlay(Config::from_env()?);
        cfg.overlay(flags);
        Ok(cfg)
    }

    fn from_env() -> Result<Config, ConfigError> {
        let mut table = toml::Table::new();
        for key in KEYS {
            let var = format!("LIASSE_{}", key.to_uppercase());
            if let Ok(v) = std::env::var(&var) {
                let value = match *key {
                    "database_max_connections" | "max_upload_bytes" | "runner_interval_secs" => v
                        .parse::<i64>()
                        .map(toml::Value::Integer)
                        .map_err(|_| ConfigError::Env(var.clone(), "expected a number".into()))?,
                    "max_body_bytes"
                    | "header_read_timeout_secs"
                    | "idle_timeout_secs"
                    | "body_min_rate_bytes"
                    | "body_min_rate_secs"
                    | "max_connections"
                    | "max_in_flight_per_client" => v
                        .parse::<i64>()
                        .map(toml::Value::Integer)
                        .map_err(|_| ConfigError::Env(var.clone(), "expected a number".into()))?,
                    "trusted_proxies" => toml::Value::Array(
                        v.split(',')
                            .map(str::trim)
                            .filter(|a| !a.is_empty())
                            .map(|a| toml::Value::String(a.to_string()))
                            .collect(),
                    ),
                    "expiry_notice_days" => v
                        .split(',')
                        .map(str::trim)
                        .filter(|d| !d.is_empty())
                        .map(|d| d.parse::<i64>().map(toml::Value::Integer))
                        .collect::<Result<Vec<_>, _>>()
                        .map(toml::Value::Array)
                        .map_err(|_| {
                            ConfigError::Env(
                                var.clone(),
                                "expected days separated by commas, e.g. 30,7".into(),
                            )
                        })?,
                    "secure_cookies" | "smtp_starttls" => {
                        v.parse::<bool>().map(toml::Value::Boolean).map_err(|_| {
                            ConfigError::Env(var.clone(), "expected true or false".into())
                        })?
                    }
                    _ => toml::Value::String(v),
                };
                table.insert((*key).to_string(), value);
            }
        }
        table.try_into().map_err(|e: toml::de::Error| {
            ConfigError::Env("LIASSE_*".into(), e.message().to_string())
        })
    }

    /// Fields set in `other` win.
    fn overlay(&mut self, other: Config) {
        macro_rules! take {
            ($($f:ident),*) => { $( if other.$f.is_some() { self.$f = other.$f; } )* };
        }
        take!(
            data_dir,
            listen,
            database_url,
            database_url_file,
            database_max_connections,
            blob_url,
            s3_endpoint,
            s3_region,
            s3_access_key_id,
            s3_secret_access_key,
            s3_secret_access_key_file,
            key_file,
            master_key,
            master_key_file,
            clamd_address,
            max_upload_bytes,
            log_format,
            public_url,
            secure_cookies,
            smtp_url,
            smtp_starttls,
            smtp_username,
            smtp_password,
            smtp_password_file,
            mail_from,
            sms_gateway_url,
            expiry_notice_days,
            runner_interval_secs,
            max_body_bytes,
            header_read_timeout_secs,
            idle_timeout_secs,
            body_min_rate_bytes,
            body_min_rate_secs,
            max_connections,
            max_in_flight_per_client,
            trusted_proxies
        );
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("liasse-data"))
    }

    pub fn listen(&self) -> String {
        self.listen
            .clone()
            .unwrap_or_else(|| "127.0.0.1:8080".into())
    }

    pub fn database_url(&self) -> Result<String, ConfigError> {
        if let Some(url) = read_secret(&self.database_url, &self.database_url_file)? {
            return Ok(url);
        }
        Ok(format!(
            "sqlite://{}?mode=rwc",
            self.data_dir().join("liasse.db").display()
        ))
    }

    pub fn blob_url(&self) -> String {
        self.blob_url
            .clone()
            .unwrap_or_else(|| self.data_dir().join("blobs").display().to_string())
    }

    pub fn key_file(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir().join("keys.json"))
    }

    pub fn s3_secret(&self) -> Result<Option<String>, ConfigError> {
        read_secret(&self.s3_secret_access_key, &self.s3_secret_access_key_file)
    }

    pub fn master_key(&self) -> Result<Option<String>, ConfigError> {
        read_secret(&self.master_key, &self.master_key_file)
    }

    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_bytes.unwrap_or(64 * 1024 * 1024)
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen()))
    }

    pub fn smtp_password(&self) -> Result<Option<String>, ConfigError> {
        read_secret(&self.smtp_password, &self.smtp_password_file)
    }

    pub fn smtp_starttls(&self) -> bool {
        self.smtp_starttls.unwrap_or(true)
    }

    pub fn mail_from(&self) -> String {
        self.mail_from
            .clone()
            .unwrap_or_else(|| "Liasse <ne-pas-repondre@localhost>".into())
    }

    /// Reminder delays before the end of validity, largest first, without duplicates; the
    /// day itself (0) is not part of the list.
    pub fn expiry_notice_days(&self) -> Vec<u32> {
        let mut days: Vec<u32> = self
            .expiry_notice_days
            .clone()
            .unwrap_or_else(|| vec![30, 7])
            .into_iter()
            .filter(|d| *d > 0 && *d <= 366)
            .collect();
        days.sort_unstable_by(|a, b| b.cmp(a));
        days.dedup();
        days
    }

    pub fn runner_interval_secs(&self) -> u64 {
        self.runner_interval_secs.unwrap_or(60)
    }

    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or(true)
    }

    pub fn max_body_bytes(&self) -> u64 {
        self.max_body_bytes.unwrap_or(256 * 1024)
    }

    pub fn header_read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.header_read_timeout_secs.unwrap_or(10).max(1))
    }

    pub fn idle_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.idle_timeout_secs.unwrap_or(60).max(1))
    }

    /// (bytes, period): the least a request body must bring in each period.
    pub fn body_min_rate(&self) -> (u64, std::time::Duration) {
        (
            self.body_min_rate_bytes.unwrap_or(4096),
            std::time::Duration::from_secs(self.body_min_rate_secs.unwrap_or(10).max(1)),
        )
    }

    pub fn max_connections(&self) -> usize {
        self.max_connections.unwrap_or(1024).max(1)
    }

    pub fn max_in_flight_per_client(&self) -> usize {
        self.max_in_flight_per_client.unwrap_or(32).max(1)
    }

    /// The trusted proxies as networks; a single address is a /32 (or /128).
    pub fn trusted_proxies(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .flatten()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::Invalid(
                            "trusted_proxies",
                            format!("{entry:?} is neither an IP address nor a CIDR range"),
                        )
                    })
            })
            .collect()
    }

    /// The effective configuration as TOML, with secrets replaced by `"<redacted>"`.
    pub fn redacted_toml(&self) -> String {
        let mut effective = self.clone();
        effective.data_dir = Some(self.data_dir());
        effective.listen = Some(self.listen());
        effective.blob_url = Some(self.blob_url());
        effective.key_file = Some(self.key_file());
        if effective.database_url.is_none() && effective.database_url_file.is_none() {
            effective.database_url = self.database_url().ok();
        }
        effective.max_upload_bytes = Some(self.max_upload_bytes());
        // The edge's limits, so that check-config shows what applies.
        effective.secure_cookies = Some(self.secure_cookies());
        effective.max_body_bytes = Some(self.max_body_bytes());
        effective.header_read_timeout_secs = Some(self.header_read_timeout().as_secs());
        effective.idle_timeout_secs = Some(self.idle_timeout().as_secs());
        let (min_bytes, period) = self.body_min_rate();
        effective.body_min_rate_bytes = Some(min_bytes);
        effective.body_min_rate_secs = Some(period.as_secs());
        effective.max_connections = Some(self.max_connections());
        effective.max_in_flight_per_client = Some(self.max_in_flight_per_client());
        let mut table = toml::Table::try_from(&effective).unwrap_or_default();
        for key in SECRETS {
            if let Some(v) = table.get_mut(*key) {
                *v = toml::Value::String(redact_value(key, v.as_str().unwrap_or_default()));
            }
        }
        let mut out = String::new();
        for key in KEYS {
            if let Some(v) = table.get(*key) {
                out.push_str(&format!("{key} = {v}\n"));
            }
        }
        out
    }
}

/// Database URLs keep their scheme, host and database visible; only the password goes.
fn redact_value(key: &str, v: &str) -> String {
    if (key == "database_url" || key == "smtp_url")
        && let Ok((user, _, had_password, rest)) = url_parts(v)
    {
        return if had_password {
            format!("{user}:<redacted>@{rest}")
        } else {
            v.to_string()
        };
    }
    "<redacted>".into()
}

/// Splits `scheme://user:password@rest` into (scheme://user, password, had_password, rest).
fn url_parts(v: &str) -> Result<(String, String, bool, String), ()> {
    let (scheme, rest) = v.split_once("://").ok_or(())?;
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, pw)) => Ok((
                format!("{scheme}://{user}"),
                pw.to_string(),
                true,
                host.to_string(),
            )),
            None => Ok((
                format!("{scheme}://{userinfo}"),
                String::new(),
                false,
                host.to_string(),
            )),
        },
        None => Ok((
            format!("{scheme}:/"),
            String::new(),
            false,
            rest.to_string(),
        )),
    }
}

fn read_secret(
    value: &Option<String>,
    file: &Option<PathBuf>,
) -> Result<Option<String>, ConfigError> {
    if let Some(v) = value {
        return Ok(Some(v.clone()));
    }
    match file {
        Some(p) => std::fs::read_to_string(p)
            .map(|s| Some(s.trim().to_string()))
            .map_err(|e| ConfigError::Secret(p.clone(), e)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let cfg = Config {
            database_url: Some("postgres://liasse:hunter2@db/liasse".into()),
            s3_secret_access_key: Some("s3cr3t".into()),
            master_key: Some("bWFzdGVy".into()),
            ..Config::default()
        };
        let out = cfg.redacted_toml();
        assert!(!out.contains("hunter2"), "{out}");
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(!out.contains("bWFzdGVy"), "{out}");
        assert!(
            out.contains("postgres://liasse:<redacted>@db/liasse"),
            "{out}"
        );
    }

    #[test]
    fn mail_secrets_are_redacted() {
        let cfg = Config {
            smtp_url: Some("smtp://relay:s3cr3t@mail.example.org:587".into()),
            smtp_password: Some("hunter2".into()),
            sms_gateway_url: Some("https://sms.example.org/send?key=k3y".into()),
            expiry_notice_days: Some(vec![7, 30, 30, 0]),
            ..Config::default()
        };
        let out = cfg.redacted_toml();
        for secret in ["s3cr3t", "hunter2", "k3y"] {
            assert!(!out.contains(secret), "{out}");
        }
        assert!(out.contains("mail.example.org:587"), "{out}");
        assert_eq!(cfg.expiry_notice_days(), vec![30, 7]);
        assert_eq!(Config::default().expiry_notice_days(), vec![30, 7]);
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let cfg = Config {
            trusted_proxies: Some(vec![
                "127.0.0.1".into(),
                " 10.0.0.0/8 ".into(),
                "2001:db8::/32".into(),
                "::1".into(),
            ]),
            ..Config::default()
        };
        let nets = cfg.trusted_proxies().unwrap();
        assert_eq!(nets.len(), 4);
        assert!(nets[0].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(!nets[0].contains(&"127.0.0.2".parse::<std::net::IpAddr>().unwrap()));
        assert!(nets[1].contains(&"10.20.30.40".parse::<std::net::IpAddr>().unwrap()));
        assert!(Config::default().trusted_proxies().unwrap().is_empty());
        // check-config shows them, and the edge's limits in effect.
        let out = cfg.redacted_toml();
        assert!(
            out.contains(r#"trusted_proxies = ["127.0.0.1", " 10.0.0.0/8 ""#),
            "{out}"
        );
        for line in [
            "max_body_bytes = 262144",
            "header_read_timeout_secs = 10",
            "max_in_flight_per_client = 32",
            "secure_cookies = true",
        ] {
            assert!(out.contains(line), "{line}: {out}");
        }
        for bad in ["10.0.0.0/33", "proxy.local", ""] {
            let cfg = Config {
                trusted_proxies: Some(vec![bad.into()]),
                ..Config::default()
            };
            assert!(cfg.trusted_proxies().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn later_layers_win() {
        let mut a = Config {
            listen: Some("a".into()),
            data_dir: Some("d".into()),
            ..Config::default()
        };
        a.overlay(Config {
            listen: Some("b".into()),
            ..Config::default()
        });
        assert_eq!(a.listen(), "b");
        assert_eq!(a.data_dir(), PathBuf::from("d"));
    }
}
