//! Configuration, read once at start: defaults, then an optional TOML file, then `GRANARY_*`
//! environment variables (and `DATABASE_URL`), then command-line flags. Every value is
//! checked here; a bad one stops start-up with a message naming the key, where it came from,
//! and what is wrong. Unknown keys are reported as warnings. Secrets never print.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A value that must never reach logs or error messages.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where documents are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// Files under a folder (by default `<data_dir>/documents`).
    Local { root: PathBuf },
    /// An S3-compatible object store.
    S3(S3Config),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub path_style: bool,
}

/// How email leaves Granary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// SMTP server; when absent, each message is written to `outbox_dir` instead (and the log
    /// says where), so a demo user can follow the links.
    pub smtp: Option<SmtpConfig>,
    /// The sender, such as `Granary <grants@example.org>`.
    pub from: String,
    pub outbox_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub starttls: bool,
}

/// Granary's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// `None` means SQLite at `<data_dir>/granary.db`.
    pub database_url: Option<Secret>,
    pub database_pool_size: u32,
    pub storage: StorageConfig,
    pub mail: MailConfig,
    /// The largest document accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The largest JSON or form body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The address people use to reach Granary, for links in the API (`source`) and emails.
    pub public_url: String,
    /// The log filter (`info`, `granary=debug,info`, ...).
    pub log: String,
    /// Problems that did not stop start-up (unknown keys).
    pub warnings: Vec<String>,
}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration key `{key}` (from {origin}): {message}")]
pub struct ConfigError {
    pub key: String,
    pub origin: String,
    pub message: String,
}

/// Settings given on the command line, which win over everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub bind: Option<String>,
    pub data_dir: Option<PathBuf>,
}

/// Every key Granary understands, with its environment variable.
const KEYS: &[(&str, &str)] = &[
    ("bind", "GRANARY_BIND"),
    ("data_dir", "GRANARY_DATA_DIR"),
    ("database_url", "GRANARY_DATABASE_URL"),
    ("database_pool_size", "GRANARY_DATABASE_POOL_SIZE"),
    ("max_upload_bytes", "GRANARY_MAX_UPLOAD_BYTES"),
    ("max_body_bytes", "GRANARY_MAX_BODY_BYTES"),
    ("public_url", "GRANARY_PUBLIC_URL"),
    ("log", "GRANARY_LOG"),
    ("storage.backend", "GRANARY_STORAGE"),
    ("storage.local.root", "GRANARY_STORAGE_LOCAL_ROOT"),
    ("storage.s3.endpoint", "GRANARY_S3_ENDPOINT"),
    ("storage.s3.region", "GRANARY_S3_REGION"),
    ("storage.s3.bucket", "GRANARY_S3_BUCKET"),
    ("storage.s3.access_key_id", "GRANARY_S3_ACCESS_KEY_ID"),
    ("storage.s3.secret_access_key", "GRANARY_S3_SECRET_ACCESS_KEY"),
    ("storage.s3.path_style", "GRANARY_S3_PATH_STYLE"),
    ("mail.from", "GRANARY_MAIL_FROM"),
    ("mail.outbox_dir", "GRANARY_MAIL_OUTBOX_DIR"),
    ("mail.smtp.host", "GRANARY_SMTP_HOST"),
    ("mail.smtp.port", "GRANARY_SMTP_PORT"),
    ("mail.smtp.username", "GRANARY_SMTP_USERNAME"),
    ("mail.smtp.password", "GRANARY_SMTP_PASSWORD"),
    ("mail.smtp.starttls", "GRANARY_SMTP_STARTTLS"),
];

/// The environment variables that are not `GRANARY_*` but are honoured.
const OTHER_ENV: &[(&str, &str)] = &[("database_url", "DATABASE_URL")];

/// Environment variables with the GRANARY_ prefix that are not configuration keys.
const NON_CONFIG_ENV: &[&str] = &["GRANARY_CONFIG", "GRANARY_TEST_DATABASE_URL", "GRANARY_TEST_S3"];

#[derive(Debug, Clone)]
struct Raw {
    value: String,
    origin: String,
}

type RawMap = BTreeMap<String, Raw>;

fn flatten_toml(prefix: &str, table: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten_toml(&key, t, out),
            other => out.push((key, other.clone())),
        }
    }
}

impl Config {
    /// Loads configuration from the process environment and an optional file.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(overrides, &env)
    }

    /// Loads configuration from the given environment (for tests) and an optional file.
    pub fn load_from(overrides: &Overrides, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let mut raw = RawMap::new();
        let mut warnings = Vec::new();
        let known = |k: &str| KEYS.iter().any(|(key, _)| *key == k);

        let file = overrides.config_file.clone().or_else(|| {
            env.iter()
                .find(|(k, _)| k == "GRANARY_CONFIG")
                .map(|(_, v)| PathBuf::from(v))
        });
        if let Some(path) = file {
            let origin = format!("config file {}", path.display());
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                key: "config".into(),
                origin: origin.clone(),
                message: format!("cannot read the file: {e}"),
            })?;
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError {
                key: "config".into(),
                origin: origin.clone(),
                message: format!("not valid TOML: {}", e.message()),
            })?;
            let mut flat = Vec::new();
            flatten_toml("", &table, &mut flat);
            for (key, value) in flat {
                if !known(&key) {
                    warnings.push(format!("unknown configuration key `{key}` in {origin} is ignored"));
                    continue;
                }
                let value = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    other => {
                        return Err(ConfigError {
                            key,
                            origin,
                            message: format!("expected a string, number or true/false, found {}", other.type_str()),
                        });
                    }
                };
                raw.insert(
                    key,
                    Raw {
                        value,
                        origin: origin.clone(),
                    },
                );
            }
        }
        for (key, var) in OTHER_ENV.iter().chain(KEYS.iter()) {
            if let Some((_, v)) = env.iter().find(|(k, _)| k == var) {
                raw.insert(
                    (*key).to_string(),
                    Raw {
                        value: v.clone(),
                        origin: (*var).to_string(),
                    },
                );
            }
        }
        for (k, _) in env {
            if k.starts_with("GRANARY_")
                && !KEYS.iter().any(|(_, var)| var == k)
                && !NON_CONFIG_ENV.contains(&k.as_str())
            {
                warnings.push(format!("unknown environment variable {k} is ignored"));
            }
        }
        if let Some(b) = &overrides.bind {
            raw.insert(
                "bind".into(),
                Raw {
                    value: b.clone(),
                    origin: "--bind".into(),
                },
            );
        }
        if let Some(d) = &overrides.data_dir {
            raw.insert(
                "data_dir".into(),
                Raw {
                    value: d.display().to_string(),
                    origin: "--data-dir".into(),
                },
            );
        }
        Self::from_raw(raw, warnings)
    }

    fn from_raw(raw: RawMap, warnings: Vec<String>) -> Result<Config, ConfigError> {
        let get = |key: &str| raw.get(key);
        let err = |key: &str, message: String| ConfigError {
            key: key.to_string(),
            origin: raw
                .get(key)
                .map(|r| r.origin.clone())
                .unwrap_or_else(|| "not set".into()),
            message,
        };
        let text = |key: &str| get(key).map(|r| r.value.trim().to_string()).filter(|s| !s.is_empty());

        let bind_text = text("bind").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            err(
                "bind",
                format!("{bind_text:?} is not an address and port such as 127.0.0.1:8080"),
            )
        })?;

        let data_dir = PathBuf::from(text("data_dir").unwrap_or_else(|| "granary-data".into()));

        let database_url = match text("database_url") {
            None => None,
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") || u.starts_with("sqlite:") => {
                Some(Secret::new(u))
            }
            Some(_) => {
                return Err(err(
                    "database_url",
                    "must start with postgres:// (or postgresql://) or sqlite:".into(),
                ));
            }
        };

        let number = |key: &str, default: u64, min: u64, max: u64| -> Result<u64, ConfigError> {
            match text(key) {
                None => Ok(default),
                Some(s) => {
                    let cleaned: String = s.chars().filter(|c| *c != '_').collect();
                    match cleaned.parse::<u64>() {
                        Ok(n) if (min..=max).contains(&n) => Ok(n),
                        Ok(_) => Err(err(key, format!("must be between {min} and {max}"))),
                        Err(_) => Err(err(key, format!("{s:?} is not a whole number"))),
                    }
                }
            }
        };
        let database_pool_size = u32::try_from(number("database_pool_size", 16, 1, 1000)?).unwrap_or(16);
        let max_upload_bytes = number("max_upload_bytes", 50 * 1024 * 1024, 1024, 5 * 1024 * 1024 * 1024)?;
        let max_body_bytes =
            usize::try_from(number("max_body_bytes", 1024 * 1024, 1024, 64 * 1024 * 1024)?).unwrap_or(1024 * 1024);

        let public_url = text("public_url").unwrap_or_else(|| format!("http://{bind}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(err("public_url", "must start with http:// or https://".into()));
        }
        let public_url = public_url.trim_end_matches('/').to_string();
        // sqlx reports PostgreSQL notices ("already exists, skipping") at info; they are not news.
        let log = text("log").unwrap_or_else(|| "info,sqlx=warn".into());
        if tracing_subscriber::EnvFilter::try_new(&log).is_err() {
            return Err(err(
                "log",
                format!("{log:?} is not a log filter such as info or granary=debug,info"),
            ));
        }

        let boolean = |key: &str, default: bool| -> Result<bool, ConfigError> {
            match text(key).map(|s| s.to_ascii_lowercase()) {
                None => Ok(default),
                Some(s) if ["true", "1", "yes", "on"].contains(&s.as_str()) => Ok(true),
                Some(s) if ["false", "0", "no", "off"].contains(&s.as_str()) => Ok(false),
                Some(s) => Err(err(key, format!("{s:?} is not true or false"))),
            }
        };
        let storage = match text("storage.backend").as_deref().unwrap_or("local") {
            "local" => StorageConfig::Local {
                root: text("storage.local.root")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("documents")),
            },
            "s3" => {
                let required =
                    |key: &str| text(key).ok_or_else(|| err(key, "is required when storage.backend is s3".into()));
                let endpoint = text("storage.s3.endpoint");
                if let Some(e) = &endpoint
                    && !(e.starts_with("http://") || e.starts_with("https://"))
                {
                    return Err(err("storage.s3.endpoint", "must start with http:// or https://".into()));
                }
                StorageConfig::S3(S3Config {
                    endpoint,
                    region: text("storage.s3.region").unwrap_or_else(|| "us-east-1".into()),
                    bucket: required("storage.s3.bucket")?,
                    access_key_id: required("storage.s3.access_key_id")?,
                    secret_access_key: Secret::new(required("storage.s3.secret_access_key")?),
                    path_style: boolean("storage.s3.path_style", true)?,
                })
            }
            other => {
                return Err(err("storage.backend", format!("{other:?} is not local or s3")));
            }
        };

        let smtp = match text("mail.smtp.host") {
            None => None,
            Some(host) => Some(SmtpConfig {
                host,
                port: u16::try_from(number("mail.smtp.port", 587, 1, 65_535)?).unwrap_or(587),
                username: text("mail.smtp.username"),
                password: text("mail.smtp.password").map(Secret::new),
                starttls: boolean("mail.smtp.starttls", true)?,
            }),
        };
        let mail = MailConfig {
            smtp,
            from: text("mail.from").unwrap_or_else(|| "Granary <no-reply@localhost>".into()),
            outbox_dir: text("mail.outbox_dir")
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("outbox")),
        };
        Ok(Config {
            mail,
            bind,
            data_dir,
            database_url,
            database_pool_size,
            storage,
            max_upload_bytes,
            max_body_bytes,
            public_url,
            log,
            warnings,
        })
    }

    /// The database URL to open: the configured one, or SQLite under the data folder.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(s) => s.expose().to_string(),
            None => granary_core::db::sqlite_url(&self.data_dir.join("granary.db")),
        }
    }

    /// Where the SQLite file lives, when SQLite is the default.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.database_url {
            None => Some(self.data_dir.join("granary.db")),
            Some(s) => s
                .expose()
                .strip_prefix("sqlite://")
                .map(|p| Path::new(p.split('?').next().unwrap_or(p)).to_path_buf()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_need_no_configuration() {
        let c = Config::load_from(&Overrides::default(), &[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("granary-data"));
        assert!(c.database_url.is_none());
        assert_eq!(
            c.storage,
            StorageConfig::Local {
                root: PathBuf::from("granary-data/documents")
            }
        );
        assert_eq!(c.max_upload_bytes, 50 * 1024 * 1024);
        assert!(
            c.effective_database_url()
                .starts_with("sqlite://granary-data/granary.db")
        );
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("granary.toml");
        std::fs::write(
            &file,
            "bind = \"0.0.0.0:9000\"\ndata_dir = \"/srv/granary\"\ncolour = \"blue\"\n[storage]\nbackend = \"s3\"\n[storage.s3]\nbucket = \"docs\"\naccess_key_id = \"AK\"\nsecret_access_key = \"from-file\"\nendpoint = \"http://127.0.0.1:9001\"\n",
        )
        .unwrap();
        let o = Overrides {
            config_file: Some(file),
            bind: None,
            data_dir: Some(PathBuf::from("/tmp/flag")),
        };
        let c = Config::load_from(
            &o,
            &env(&[
                ("GRANARY_BIND", "127.0.0.1:7000"),
                ("DATABASE_URL", "postgres://u:pw@db/granary"),
                ("GRANARY_S3_SECRET_ACCESS_KEY", "from-env"),
                ("GRANARY_COLOUR", "red"),
            ]),
        )
        .unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:7000", "env beats file");
        assert_eq!(c.data_dir, PathBuf::from("/tmp/flag"), "flag beats file");
        let StorageConfig::S3(s3) = &c.storage else {
            panic!("s3 expected")
        };
        assert_eq!(s3.secret_access_key.expose(), "from-env");
        assert!(s3.path_style);
        assert_eq!(c.effective_database_url(), "postgres://u:pw@db/granary");
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        let printed = format!("{c:?}");
        assert!(
            !printed.contains("from-env") && !printed.contains("pw@"),
            "secrets never print: {printed}"
        );
    }

    #[test]
    fn bad_values_name_the_key_and_origin() {
        let e = Config::load_from(&Overrides::default(), &env(&[("GRANARY_BIND", "localhost")])).unwrap_err();
        assert_eq!(e.key, "bind");
        assert_eq!(e.origin, "GRANARY_BIND");
        assert!(e.to_string().contains("not an address"), "{e}");

        let e = Config::load_from(&Overrides::default(), &env(&[("DATABASE_URL", "mysql://x")])).unwrap_err();
        assert_eq!((e.key.as_str(), e.origin.as_str()), ("database_url", "DATABASE_URL"));

        let e = Config::load_from(&Overrides::default(), &env(&[("GRANARY_STORAGE", "s3")])).unwrap_err();
        assert_eq!(e.key, "storage.s3.bucket");

        let e = Config::load_from(&Overrides::default(), &env(&[("GRANARY_MAX_UPLOAD_BYTES", "lots")])).unwrap_err();
        assert_eq!(e.key, "max_upload_bytes");

        let o = Overrides {
            bind: Some("nope".into()),
            ..Default::default()
        };
        let e = Config::load_from(&o, &[]).unwrap_err();
        assert_eq!(e.origin, "--bind");
    }

    #[test]
    fn database_url_is_hidden_in_debug() {
        let c = Config::load_from(
            &Overrides::default(),
            &env(&[("DATABASE_URL", "postgres://a:topsecret@h/d")]),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("topsecret"));
    }
}
