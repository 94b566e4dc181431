//! Secret references: `env:NAME` or `file:PATH`. The file holds where a secret is, never the secret.
//!
//! Resolving a reference reads the secret at the last moment; the value is wrapped in
//! [`SecretValue`], whose `Debug` hides it, and is never printed or stored. State keeps a salted
//! digest so a plan can say `(sensitive value changed)`.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum SecretRef {
    /// An environment variable of the process running rave.
    Env(String),
    /// A file, relative to the desired-state file when relative.
    File(PathBuf),
}

/// A resolved secret. Its `Debug` and `Display` never show the value.
pub(crate) struct SecretValue(String);

impl SecretValue {
    /// The value itself, for handing on to what needs it (a program's environment, a connection
    /// URL); never on a command line, in a log or in state.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// A digest that changes when the secret changes, salted with the state lineage so equal
    /// secrets in different projects do not match.
    pub(crate) fn digest(&self, salt: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"rave-secret-v1\0");
        hasher.update(salt.as_bytes());
        hasher.update(b"\0");
        hasher.update(self.0.as_bytes());
        format!("sha256:{:x}", hasher.finalize())
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(..)")
    }
}

/// Why a secret could not be read.
#[derive(Debug)]
pub(crate) enum SecretError {
    /// The environment variable is not set (or not UTF-8).
    EnvMissing {
        /// The variable's name.
        name: String,
    },
    /// The file could not be read.
    FileUnreadable {
        /// The resolved path.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EnvMissing { name } => write!(f, "environment variable `{name}` is not set"),
            Self::FileUnreadable { path, source } => {
                write!(f, "cannot read secret file `{}`: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for SecretError {}

impl SecretRef {
    /// Parses `env:NAME` or `file:PATH`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if let Some(name) = text.strip_prefix("env:") {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("`{text}`: an environment variable name holds letters, digits and `_`"));
            }
            return Ok(Self::Env(name.to_owned()));
        }
        if let Some(path) = text.strip_prefix("file:") {
            if path.is_empty() {
                return Err(format!("`{text}`: name the file after `file:`"));
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        Err("a secret is a reference, `env:NAME` or `file:PATH`; never write the secret itself in the file".to_owned())
    }

    /// Reads the secret. Relative files are taken from `base_dir`, the desired-state file's directory.
    /// A single trailing newline in a file is dropped, as `echo secret > file` adds one.
    pub(crate) fn resolve(&self, base_dir: &Path) -> Result<SecretValue, SecretError> {
        match self {
            Self::Env(name) => {
                std::env::var(name).map(SecretValue).map_err(|_| SecretError::EnvMissing { name: name.clone() })
            }
            Self::File(path) => {
                let path = base_dir.join(path);
                let mut text = std::fs::read_to_string(&path)
                    .map_err(|source| SecretError::FileUnreadable { path: path.clone(), source })?;
                if text.ends_with('\n') {
                    text.pop();
                }
                Ok(SecretValue(text))
            }
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(name) => write!(f, "env:{name}"),
            Self::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

impl Serialize for SecretRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SecretRef::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for SecretRef {
    fn schema_name() -> Cow<'static, str> {
        "SecretRef".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A reference to a secret: `env:NAME` or `file:PATH` (relative to the file).",
            "type": "string",
            "pattern": "^(env:[A-Za-z0-9_]+|file:.+)$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse() {
        assert_eq!(SecretRef::parse("env:TOKEN").unwrap(), SecretRef::Env("TOKEN".into()));
        assert_eq!(SecretRef::parse("file:keys/a").unwrap(), SecretRef::File("keys/a".into()));
        assert!(SecretRef::parse("hunter2").unwrap_err().contains("never write the secret"));
        assert!(SecretRef::parse("env:").is_err());
    }

    #[test]
    fn values_never_show_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s"), "hunter2\n").unwrap();
        let value = SecretRef::File("s".into()).resolve(dir.path()).unwrap();
        assert_eq!(value.0, "hunter2");
        assert!(!format!("{value:?}").contains("hunter2"));
        assert_ne!(value.digest("a"), value.digest("b"));
    }
}
