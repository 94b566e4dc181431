//! [`CacheDriver`]: `caches:`, and [`push`], which sends store paths to named caches for builds,
//! host systems and VM runners.
//!
//! A cache is not created by rave: applying one checks what can be checked before anything is
//! pushed (a signing key that does not match the declared public key), and deleting one forgets
//! it without emptying it. Pushing: `type: nix-store` with `nix copy --to URI`, signed with
//! `secret_key` (through the URI for binary caches, by `nix store sign` before an SSH copy), after
//! asking the cache which paths it already has, so nothing is sent twice; `type: cachix` with
//! `cachix push` when the CLI is installed, else an error saying what is missing.

use std::path::PathBuf;

use super::ssh::{SshOptions, SshTarget, nix_ssh_opts};
use super::{BoxFuture, Driver, DriverContext, DriverError, Outputs};
use crate::apply::EventSink;
use crate::model::{CacheSpec, CacheType, Name, ResourceId, ResourceKind, ResourceSpec, SecretRef};
use crate::nix::runner;
use crate::nix::substituters::{Substituters, is_reachable_elsewhere};
use crate::nix::{cachix, store};
use crate::plan::Desired;
use crate::state::ResourceState;

/// The driver for caches.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CacheDriver;

impl CacheDriver {
    /// Create and update alike: check the signing key against the public key, report the cache.
    async fn converge(
        context: &DriverContext,
        address: &ResourceId,
        desired: &Desired,
    ) -> Result<Outputs, DriverError> {
        let ResourceSpec::Cache(spec) = &*desired.spec else {
            return Err(DriverError::wrong_kind(address, &desired.spec));
        };
        if let (Some(secret_key), Some(public_key)) = (&spec.secret_key, &spec.public_key) {
            let secret = secret_key.resolve(&context.base_dir).map_err(|error| {
                DriverError::new(format!("`{address}`: cannot read `secret_key` (`{secret_key}`): {error}"))
            })?;
            let command = store::public_key_command(secret.expose().as_bytes());
            let output = runner::run(format!("checking the signing key of `{address}`"), &command, None).await?;
            let derived = output.stdout.trim();
            if derived != public_key.trim() {
                return Err(DriverError::new(format!(
                    "`{address}`: `secret_key` signs as `{derived}`, but `public_key` is `{public_key}`"
                ))
                .with_detail("machines that trust `public_key` would refuse what rave pushes: fix one of the two"));
            }
        }
        let mut outputs = Outputs::new();
        outputs.insert("uri".to_owned(), serde_json::Value::from(substituter(spec)));
        if let Some(key) = &spec.public_key {
            outputs.insert("public_key".to_owned(), serde_json::Value::from(key.clone()));
        }
        Ok(outputs)
    }
}

impl Driver for CacheDriver {
    fn replace_attributes(&self) -> &'static [&'static str] {
        // Another type, Cachix name or store URI is another cache.
        &["type", "name", "uri"]
    }

    fn create<'a>(
        &'a self,
        context: &'a DriverContext,
        _events: &'a EventSink,
        address: &'a ResourceId,
        desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(Self::converge(context, address, desired))
    }

    fn delete<'a>(
        &'a self,
        _context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        _recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            events.progress(format!("`{address}` is forgotten; what it holds stays where it is"));
            Ok(())
        })
    }
}

/// Where machines substitute from: the store URI, or the Cachix cache's address.
pub(crate) fn substituter(spec: &CacheSpec) -> String {
    match spec.cache_type {
        CacheType::NixStore => spec.uri.clone().unwrap_or_default(),
        CacheType::Cachix => format!("https://{}.cachix.org", spec.name.as_deref().unwrap_or_default()),
    }
}

/// Which machine substitutes from the caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Machine {
    /// The one rave runs on.
    Here,
    /// Another: a host rave deploys to, a remote builder.
    Elsewhere,
}

/// Which of `caches` (what a build, host system or VM runner is pushed to) `machine` substitutes
/// from while working for it, with the keys it trusts for them: those with a `public_key`, but not
/// SSH stores (nix would reach them with another machine's `NIX_SSHOPTS`), and for another machine
/// only those it can reach as this one does (`substituters::is_reachable_elsewhere`).
pub(crate) fn substituters(context: &DriverContext, caches: &[Name], machine: Machine) -> Substituters {
    let mut substituters = Substituters::default();
    for name in caches {
        let Ok((_, spec)) = cache(context, name) else { continue };
        let uri = substituter(spec);
        let is_reachable = match machine {
            Machine::Here => !store::is_ssh_store(&uri),
            Machine::Elsewhere => is_reachable_elsewhere(&uri),
        };
        if let Some(key) = spec.public_key.as_ref().filter(|_| is_reachable) {
            substituters.add(&uri, key);
        }
    }
    substituters
}

/// The declared cache named `name`.
pub(crate) fn cache<'a>(context: &'a DriverContext, name: &Name) -> Result<(ResourceId, &'a CacheSpec), DriverError> {
    let address = ResourceId::new(ResourceKind::Cache, name.clone());
    match context.caches.get(&address) {
        Some(spec) => Ok((address, spec)),
        None => Err(DriverError::new(format!("cache `{address}` is not in the plan: declare it under `caches:`"))),
    }
}

/// Pushes `paths` (and their closures) to each of `caches`, in order; says what it did per cache,
/// as in "cache.lan: 1 path sent". For builds, host systems and VM runners with `push:`.
pub(crate) async fn push(
    context: &DriverContext,
    events: &EventSink,
    paths: &[String],
    caches: &[Name],
) -> Result<Vec<String>, DriverError> {
    let mut done = Vec::new();
    for name in caches {
        let (address, spec) = cache(context, name)?;
        let summary = match spec.cache_type {
            CacheType::NixStore => push_to_store(context, events, &address, spec, paths).await?,
            CacheType::Cachix => push_to_cachix(context, events, &address, spec, paths).await?,
        };
        events.progress(format!("{address}: {summary}"));
        done.push(format!("{address}: {summary}"));
    }
    Ok(done)
}

/// `nix copy` to a `type: nix-store` cache, of the paths it does not have yet.
async fn push_to_store(
    context: &DriverContext,
    events: &EventSink,
    address: &ResourceId,
    spec: &CacheSpec,
    paths: &[String],
) -> Result<String, DriverError> {
    let Some(uri) = &spec.uri else {
        return Err(DriverError::new(format!("`{address}` has no `uri` to push to")));
    };
    let ssh_opts = store::is_ssh_store(uri).then(|| ssh_opts_for(context, uri));
    let query = store::path_info_command(Some(uri), paths, ssh_opts.as_deref());
    let present = runner::run(format!("asking `{address}` which paths it has"), &query, None).await?;
    let present = store::parse_valid_paths(&present.stdout)?;
    let missing: Vec<String> = paths.iter().filter(|path| !present.contains(*path)).cloned().collect();
    if missing.is_empty() {
        return Ok("already there, nothing sent".to_owned());
    }
    let secret_key = spec.secret_key.as_ref().map(|key| key_file(context, address, key)).transpose()?;
    let to = match &secret_key {
        Some(key) if store::is_ssh_store(uri) => {
            let sign = store::sign_command(key, &missing);
            runner::run(format!("signing paths for `{address}`"), &sign, Some(events)).await?;
            uri.clone()
        }
        Some(key) => store::signing_uri(uri, key),
        None => uri.clone(),
    };
    let copy = store::copy_command(&to, &missing, ssh_opts.as_deref());
    runner::run(format!("pushing to `{address}`"), &copy, Some(events)).await?;
    let signed = if secret_key.is_some() { ", signed" } else { "" };
    Ok(format!("{} sent{signed}", plural(missing.len())))
}

/// `cachix push NAME PATH…`.
async fn push_to_cachix(
    context: &DriverContext,
    events: &EventSink,
    address: &ResourceId,
    spec: &CacheSpec,
    paths: &[String],
) -> Result<String, DriverError> {
    let Some(name) = &spec.name else {
        return Err(DriverError::new(format!("`{address}` has no Cachix `name` to push to")));
    };
    let token = match &spec.auth_token {
        Some(reference) => Some(reference.resolve(&context.base_dir).map_err(|error| {
            DriverError::new(format!("`{address}`: cannot read `auth_token` (`{reference}`): {error}"))
        })?),
        None => None,
    };
    let token = token.as_ref().map(|token| token.expose().to_owned());
    let command = cachix::push_command(name, paths, token.as_deref());
    runner::run(format!("pushing to `{address}` with cachix"), &command, Some(events)).await.map_err(|error| {
        let missing = matches!(error, crate::nix::NixError::NotInstalled { .. });
        let error = DriverError::from(error);
        if missing {
            DriverError {
                summary: format!("cannot push to `{address}`: the `cachix` CLI is not installed or not on PATH"),
                ..error
            }
        } else {
            error
        }
    })?;
    Ok(format!("{} pushed with cachix", plural(paths.len())))
}

/// The signing key's file: nix reads keys from files, so only `file:` references work.
fn key_file(context: &DriverContext, address: &ResourceId, key: &SecretRef) -> Result<PathBuf, DriverError> {
    match key {
        SecretRef::File(path) => Ok(context.base_dir.join(path)),
        SecretRef::Env(_) => Err(DriverError::new(format!(
            "`{address}`: `secret_key` must be a `file:` reference, as nix reads signing keys from files"
        ))),
    }
}

/// `NIX_SSHOPTS` for an SSH store: pinned to the declared host or builder it is on, when there
/// is one with that `user@host`; otherwise the shared options (and the user's known hosts).
fn ssh_opts_for(context: &DriverContext, uri: &str) -> String {
    let destination = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let destination = destination.split(['?', '/']).next().unwrap_or(destination);
    let options = SshOptions::for_work_dir(&context.work_dir);
    let hosts =
        context.hosts.iter().filter_map(|(address, spec)| SshTarget::of_host(address, spec, &context.base_dir).ok());
    let builders = context
        .builders
        .iter()
        .filter_map(|(address, spec)| SshTarget::of_builder(address, spec, &context.base_dir).ok());
    let target = hosts.chain(builders).find(|target| target.destination() == destination);
    match target {
        Some(target) if options.prepare(&target).is_ok() => nix_ssh_opts(&options, Some(&target)),
        _ => nix_ssh_opts(&options, None),
    }
}

/// `1 path`, `3 paths`.
fn plural(count: usize) -> String {
    if count == 1 { "1 path".to_owned() } else { format!("{count} paths") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> DriverContext {
        let cache = |json: serde_json::Value| serde_json::from_value::<CacheSpec>(json).unwrap();
        let caches = [
            ("cache.lan", cache(serde_json::json!({"type": "nix-store", "uri": "file:///c", "public_key": "lan-1:a"}))),
            ("cache.team", cache(serde_json::json!({"type": "cachix", "name": "team", "public_key": "team-1:b"}))),
            (
                "cache.box",
                cache(serde_json::json!({"type": "nix-store", "uri": "ssh://root@b", "public_key": "box-1:c"})),
            ),
            ("cache.open", cache(serde_json::json!({"type": "nix-store", "uri": "https://open"}))),
        ];
        DriverContext {
            caches: caches.into_iter().map(|(address, spec)| (address.parse().unwrap(), spec)).collect(),
            ..DriverContext::default()
        }
    }

    #[test]
    fn machines_substitute_from_the_caches_with_keys_they_can_reach() {
        let names: Vec<Name> =
            ["lan", "team", "box", "open", "lan", "missing"].map(|name| Name::new(name).unwrap()).into();
        let here = substituters(&context(), &names, Machine::Here);
        assert_eq!(here.uris, ["file:///c", "https://team.cachix.org"]);
        assert_eq!(here.public_keys, ["lan-1:a", "team-1:b"]);
        let elsewhere = substituters(&context(), &names, Machine::Elsewhere);
        assert_eq!(elsewhere.uris, ["https://team.cachix.org"]);
        assert_eq!(elsewhere.public_keys, ["team-1:b"]);
    }

    #[test]
    fn an_undeclared_cache_is_named() {
        let error = cache(&context(), &Name::new("nope").unwrap()).unwrap_err();
        assert_eq!(error.summary, "cache `cache.nope` is not in the plan: declare it under `caches:`");
    }
}
