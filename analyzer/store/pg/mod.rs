//! The PostgreSQL backend: the same result tables as SQLite in a server
//! database that many machines share, plus the job queue their workers
//! lease from ([`queue`]). Synchronous client (`postgres`), TLS by rustls.
//!
//! Connection settings follow libpq: a URL or `key=value` string, and for
//! whatever it leaves out the `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
//! `PGDATABASE` and `PGSSLMODE` variables ([`Target::resolve`]).

pub mod backend;
pub mod export;
pub mod queue;
pub mod reports;
mod rows;
pub mod schema;
pub mod tls;

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use postgres::config::SslMode;
use postgres::types::ToSql;
use postgres::{Client, Config, Row, Statement};

use super::{Error, Result};

/// Where a fleet's database is: the connection settings, resolved once.
#[derive(Clone)]
pub struct Target {
    config: Config,
    verify: tls::Verify,
    root_cert: Option<std::path::PathBuf>,
    /// What the user gave, without a password, for messages.
    shown: String,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl Target {
    /// Settings from `spec` (a `postgres://` URL or libpq `key=value`
    /// string; may be empty) completed from the `PG*` environment variables.
    pub fn resolve(spec: &str) -> Result<Target> {
        Target::resolve_with(spec, |k| std::env::var(k).ok())
    }

    /// [`Target::resolve`] with the environment given (for tests).
    pub fn resolve_with(spec: &str, env: impl Fn(&str) -> Option<String>) -> Result<Target> {
        // The crate knows only disable / prefer / require: the verifying
        // modes are read here and given to it as "require".
        let (spec, mode) = take_sslmode(spec);
        let mode = mode.or_else(|| env("PGSSLMODE"));
        let mut config: Config = if spec.trim().is_empty() {
            Config::new()
        } else {
            spec.parse().map_err(|e: postgres::Error| Error::PgConfig(e.to_string()))?
        };
        let (ssl, verify) = match mode.as_deref() {
            None | Some("prefer") | Some("allow") => (SslMode::Prefer, tls::Verify::No),
            Some("disable") => (SslMode::Disable, tls::Verify::No),
            Some("require") => (SslMode::Require, tls::Verify::No),
            Some("verify-ca") | Some("verify-full") => (SslMode::Require, tls::Verify::Yes),
            Some(other) => return Err(Error::PgConfig(format!("sslmode {other:?} is not supported"))),
        };
        config.ssl_mode(ssl);
        if config.get_hosts().is_empty() {
            config.host(&env("PGHOST").unwrap_or_else(|| "localhost".into()));
        }
        if config.get_ports().is_empty() {
            if let Some(port) = env("PGPORT") {
                let port =
                    port.parse().map_err(|_| Error::PgConfig(format!("PGPORT {port:?} is not a port")))?;
                config.port(port);
            }
        }
        if config.get_user().is_none() {
            let user = env("PGUSER").or_else(|| env("USER")).unwrap_or_else(|| "postgres".into());
            config.user(&user);
        }
        if config.get_password().is_none() {
            if let Some(password) = env("PGPASSWORD") {
                config.password(password);
            }
        }
        if config.get_dbname().is_none() {
            if let Some(db) = env("PGDATABASE") {
                config.dbname(&db);
            }
        }
        config.connect_timeout(Duration::from_secs(10));
        // A machine that vanishes mid-job must not hold its connection (and
        // its advisory locks) for the kernel's two-hour default.
        config.keepalives_idle(Duration::from_secs(30));
        config.application_name("appvet");
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|h| match h {
                postgres::config::Host::Tcp(name) => name.clone(),
                postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let shown = format!(
            "postgres://{}@{}:{}/{}",
            config.get_user().unwrap_or(""),
            hosts.join(","),
            config.get_ports().first().copied().unwrap_or(5432),
            config.get_dbname().or(config.get_user()).unwrap_or("")
        );
        Ok(Target { config, verify, root_cert: env("PGSSLROOTCERT").map(Into::into), shown })
    }

    /// The same server, another database (tests create and drop their own).
    pub fn with_dbname(&self, name: &str) -> Target {
        let mut t = self.clone();
        t.config.dbname(name);
        t.shown = match self.shown.rsplit_once('/') {
            Some((head, _)) => format!("{head}/{name}"),
            None => name.to_string(),
        };
        t
    }

    /// One connection. TLS as `sslmode` asks (`prefer` by default: TLS
    /// when the server offers it), server certificates checked against the
    /// Mozilla roots.
    pub fn connect(&self) -> Result<Conn> {
        let client = match self.config.get_ssl_mode() {
            SslMode::Disable => self.config.connect(postgres::NoTls)?,
            _ => self.config.connect(tls::connector(self.verify, self.root_cert.as_deref())?)?,
        };
        let mut client = client;
        // The server should notice a vanished worker soon, also while it
        // waits on a lock or holds one (a dead machine's advisory lock would
        // otherwise block the app it held until TCP gives up, hours later).
        // Each setting is best effort: older servers lack the first.
        //
        // Commits do not wait for the WAL flush: a job's transaction is
        // small and its flush was most of the queue's cost per job (4-6 ms
        // against 0.5-1 ms without, benches/fleet.sh). A server crash can
        // then lose the last fraction of a second of commits, each whole:
        // results and the job's "done" go together, so those jobs are
        // simply leased and done again; nothing is half-written.
        for setting in [
            "SET synchronous_commit = off",
            "SET client_connection_check_interval = '5s'",
            "SET tcp_keepalives_idle = 30",
            "SET tcp_keepalives_interval = 10",
            "SET tcp_keepalives_count = 3",
        ] {
            let _ = client.batch_execute(setting);
        }
        Ok(Conn { client, statements: HashMap::new() })
    }
}

/// `spec` without its `sslmode` setting, and that setting.
fn take_sslmode(spec: &str) -> (String, Option<String>) {
    let Some(at) = spec.find("sslmode=") else { return (spec.to_string(), None) };
    let value_at = at + "sslmode=".len();
    let end = spec[value_at..].find(['&', ' ']).map_or(spec.len(), |e| value_at + e);
    let mode = spec[value_at..end].to_string();
    // Drop the setting and one separator next to it.
    let (head, tail) = (&spec[..at], &spec[end..]);
    let rest = match (head.chars().last(), tail.chars().next()) {
        (Some('?'), Some('&')) => format!("{head}{}", &tail[1..]),
        (Some('?' | '&' | ' '), _) => format!("{}{tail}", &head[..head.len() - 1]),
        _ => format!("{head}{tail}"),
    };
    (rest, Some(mode))
}

/// A connection with its prepared statements (each statement is parsed by
/// the server once per connection instead of once per use: a round trip
/// saved on every row written).
pub struct Conn {
    pub client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql)?;
        self.statements.insert(sql, st.clone());
        Ok(st)
    }

    pub fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let st = self.statement(sql)?;
        Ok(self.client.execute(&st, params)?)
    }

    pub fn query(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let st = self.statement(sql)?;
        Ok(self.client.query(&st, params)?)
    }

    pub fn query_opt(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let st = self.statement(sql)?;
        Ok(self.client.query_opt(&st, params)?)
    }

    pub fn begin(&mut self) -> Result<()> {
        Ok(self.client.batch_execute("BEGIN")?)
    }

    pub fn commit(&mut self) -> Result<()> {
        Ok(self.client.batch_execute("COMMIT")?)
    }

    /// Ends a transaction without keeping it (nothing to do on a dead connection).
    pub fn rollback(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK");
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// A client error with the server's message (the crate's own text for a
/// server error is just "db error").
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

/// Whether an error means the connection is gone (reconnect and retry)
/// rather than a statement that failed.
pub fn is_connection_error(e: &Error) -> bool {
    match e {
        Error::Postgres(e) => {
            e.is_closed()
                || e.code().is_some_and(|c| {
                    c.code().starts_with("08") // connection exception
                        || *c == postgres::error::SqlState::ADMIN_SHUTDOWN
                        || *c == postgres::error::SqlState::CRASH_SHUTDOWN
                        || *c == postgres::error::SqlState::CANNOT_CONNECT_NOW
                })
                || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_url_then_the_environment() {
        let env = |k: &str| match k {
            "PGHOST" => Some("db.example".to_string()),
            "PGPORT" => Some("6543".to_string()),
            "PGUSER" => Some("vet".to_string()),
            "PGPASSWORD" => Some("secret".to_string()),
            "PGDATABASE" => Some("fleet".to_string()),
            "PGSSLMODE" => Some("require".to_string()),
            _ => None,
        };
        let t = Target::resolve_with("", env).unwrap();
        assert_eq!(t.to_string(), "postgres://vet@db.example:6543/fleet");
        assert_eq!(t.config.get_password(), Some(&b"secret"[..]));
        assert!(matches!(t.config.get_ssl_mode(), SslMode::Require));
        let t = Target::resolve_with("postgres://other@h2:5433/x?sslmode=disable", env).unwrap();
        assert_eq!(t.to_string(), "postgres://other@h2:5433/x");
        assert!(matches!(t.config.get_ssl_mode(), SslMode::Disable));
        assert!(!t.to_string().contains("secret"), "passwords are never shown");
        assert!(Target::resolve_with("", |k| (k == "PGSSLMODE").then(|| "bogus".into())).is_err());
        let t =
            Target::resolve_with("postgres://h/x?sslmode=verify-full&application_name=a", |_| None).unwrap();
        assert_eq!(t.verify, tls::Verify::Yes);
        assert!(matches!(t.config.get_ssl_mode(), SslMode::Require));
        assert_eq!(
            take_sslmode("host=h sslmode=require dbname=x"),
            ("host=h dbname=x".into(), Some("require".into()))
        );
        assert_eq!(
            take_sslmode("postgres://h/x?sslmode=disable"),
            ("postgres://h/x".into(), Some("disable".into()))
        );
        assert!(Target::resolve_with("postgres://h:notaport/x", |_| None).is_err());
    }
}
