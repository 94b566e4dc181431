//! The connection URL: parsed into the client's configuration, and described for messages
//! without its password.
//!
//! The URL comes from a secret reference (`url: env:RAVE_PG_URL`) and usually holds a password,
//! so it is never printed: messages name the database by the parsed user, hosts and database only.

use std::time::Duration;

use crate::state::backend::StateError;

/// How long a connection attempt may take when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A parsed connection URL (either `postgresql://…` or `host=… dbname=…`).
#[derive(Clone)]
pub(crate) struct ConnectionUrl {
    /// The client's configuration.
    pub(crate) config: tokio_postgres::Config,
}

impl std::fmt::Debug for ConnectionUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl ConnectionUrl {
    /// Parses `url`; the error never repeats the URL itself.
    pub(crate) fn parse(url: &str) -> Result<Self, StateError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|error: tokio_postgres::Error| {
            StateError::Database { action: "read the PostgreSQL connection URL".to_owned(), detail: error.to_string() }
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("rave");
        }
        Ok(Self { config })
    }

    /// `` `rave` on 127.0.0.1:5432 as `postgres` ``: enough to tell which database, and no secret.
    pub(crate) fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(index, host)| {
                let host = match host {
                    tokio_postgres::config::Host::Tcp(name) => name.clone(),
                    tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
                };
                match self.config.get_ports().get(index).or_else(|| self.config.get_ports().first()) {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                }
            })
            .collect();
        let hosts = if hosts.is_empty() { "the default host".to_owned() } else { hosts.join(",") };
        let database = self.config.get_dbname().or(self.config.get_user()).unwrap_or("postgres");
        match self.config.get_user() {
            Some(user) => format!("database `{database}` on {hosts} as `{user}`"),
            None => format!("database `{database}` on {hosts}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_never_show_the_password() {
        for (url, expected) in [
            ("postgresql://rave:s3cr3t@db.example:5433/state", "database `state` on db.example:5433 as `rave`"),
            ("postgres://rave:s3cr3t@127.0.0.1/rave?sslmode=disable", "database `rave` on 127.0.0.1:5432 as `rave`"),
            ("host=/run/pg port=5432 user=ci password=s3cr3t dbname=x", "database `x` on /run/pg:5432 as `ci`"),
            ("postgresql:///state", "database `state` on the default host"),
        ] {
            let parsed = ConnectionUrl::parse(url).unwrap();
            assert_eq!(parsed.describe(), expected);
            assert!(!format!("{parsed:?}").contains("s3cr3t"));
        }
    }

    #[test]
    fn a_bad_url_is_refused_without_repeating_it() {
        let error = ConnectionUrl::parse("postgresql://rave:s3cr3t@db/x?nonsense=s3cr3t").unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("failed to read the PostgreSQL connection URL: "), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }
}
