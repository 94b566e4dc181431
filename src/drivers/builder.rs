//! [`BuilderDriver`]: `builders:`, remote Nix builders, and the steps builds use on them:
//! [`provision`] (run `provision.create`/`destroy` as argv), [`probe`] (`nix store ping` over SSH
//! with the pinned host key: reachable, the right machine, Nix answering, and before builds, its
//! `nix-store` started with the options that make it trust the builds' caches: [`store_uri`]).
//!
//! A lasting builder is provisioned (when it has `provision`) and probed when applied, and
//! destroyed when deleted. An `ephemeral: true` builder is not made here: the builds that need it
//! create it, build, and destroy it again, also when the builds fail (`drivers::build`).

use std::time::Duration;

use super::command_spec::CommandSpec;
use super::process;
use super::ssh::{SshOptions, SshTarget, nix_ssh_opts};
use super::{BoxFuture, Driver, DriverContext, DriverError, Outputs};
use crate::apply::EventSink;
use crate::model::{BuilderSpec, ResourceId, ResourceSpec};
use crate::nix::substituters::Substituters;
use crate::nix::{runner, store};
use crate::plan::Desired;
use crate::state::ResourceState;

/// How long `provision.create` or `provision.destroy` may run (Terraform takes minutes).
const PROVISION_TIMEOUT: Duration = Duration::from_secs(3600);

/// The driver for builders.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BuilderDriver;

impl BuilderDriver {
    /// Create and update alike: provision a lasting builder, then probe it.
    async fn converge(
        context: &DriverContext,
        events: &EventSink,
        address: &ResourceId,
        desired: &Desired,
    ) -> Result<Outputs, DriverError> {
        let ResourceSpec::Builder(spec) = &*desired.spec else {
            return Err(DriverError::wrong_kind(address, &desired.spec));
        };
        let mut outputs = Outputs::new();
        if spec.ephemeral {
            events.progress("ephemeral: created by the builds that need it and destroyed after them");
            outputs.insert("ephemeral".to_owned(), serde_json::Value::Bool(true));
            return Ok(outputs);
        }
        if let Some(provision) = &spec.provision {
            self::provision(context, events, address, &provision.create, "create").await?;
            outputs.insert("provisioned".to_owned(), serde_json::Value::Bool(true));
        }
        probe(context, address, spec, &Substituters::default()).await?;
        Ok(outputs)
    }
}

impl Driver for BuilderDriver {
    fn replace_attributes(&self) -> &'static [&'static str] {
        // Another address is another machine.
        &["ssh", "port"]
    }

    fn create<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(Self::converge(context, events, address, desired))
    }

    fn delete<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            let spec: Option<BuilderSpec> =
                serde_json::to_value(&recorded.attributes).ok().and_then(|value| serde_json::from_value(value).ok());
            match spec {
                Some(BuilderSpec { provision: Some(provision), ephemeral: false, .. }) => {
                    self::provision(context, events, address, &provision.destroy, "destroy").await
                }
                _ => Ok(()),
            }
        })
    }
}

/// Runs `provision.STEP` (`argv`) of `address` in the file's directory, its output captured and
/// shown when it fails.
pub(crate) async fn provision(
    context: &DriverContext,
    events: &EventSink,
    address: &ResourceId,
    argv: &[String],
    step: &str,
) -> Result<(), DriverError> {
    let command = provision_command(&context.base_dir, address, argv, step)?;
    events.progress(format!("provision.{step}: {command}"));
    process::run(&command, Some(events)).await.map_err(|error| {
        let error = DriverError::from(error);
        DriverError { summary: format!("`{address}`: `provision.{step}` failed: {}", error.summary), ..error }
    })?;
    Ok(())
}

/// `provision.STEP` as a command: the argv as written, run in the file's directory `base_dir`.
fn provision_command(
    base_dir: &std::path::Path,
    address: &ResourceId,
    argv: &[String],
    step: &str,
) -> Result<CommandSpec, DriverError> {
    let Some((program, arguments)) = argv.split_first() else {
        return Err(DriverError::new(format!("`{address}`: `provision.{step}` is an empty command")));
    };
    Ok(CommandSpec::new(program.clone())
        .args(arguments.iter().cloned())
        .cwd(std::path::absolute(base_dir).unwrap_or_else(|_| base_dir.to_path_buf()))
        .timeout(PROVISION_TIMEOUT))
}

/// The builder's SSH target, its pinned key written where ssh reads it.
pub(crate) fn target(
    context: &DriverContext,
    address: &ResourceId,
    spec: &BuilderSpec,
) -> Result<(SshOptions, SshTarget), DriverError> {
    let target = SshTarget::of_builder(address, spec, &context.base_dir)?;
    if let Some(identity) = target.identity.as_ref().filter(|path| path.to_string_lossy().contains(char::is_whitespace))
    {
        // Nix reads the key's path from a machines file and `NIX_SSHOPTS`, both split on whitespace.
        return Err(DriverError::new(format!(
            "`{address}`: the path of `ssh_key` (`{}`) has a space in it, which nix cannot pass to ssh",
            identity.display()
        ))
        .with_detail("move the key to a path without spaces"));
    }
    let options = SshOptions::for_work_dir(&context.work_dir);
    options.prepare(&target)?;
    Ok((options, target))
}

/// The builder's store as nix reaches it: `ssh://USER@HOST`, its `nix-store` told to substitute
/// from `substituters` and to trust their keys, so that with `builders-use-substitutes` it
/// fetches a build's inputs from the caches the build is pushed to (`cache::substituters`).
pub(crate) fn store_uri(target: &SshTarget, substituters: &Substituters) -> String {
    substituters.on_remote(&format!("ssh://{}", target.destination()))
}

/// `nix store ping --store ssh://user@host` (its [`store_uri`] with `substituters`) with the
/// pinned key: the builder is reachable, is the declared machine, and its Nix answers (also with
/// those options). Names the builder when it is not, before nix's own "unable to start any
/// build" could.
pub(crate) async fn probe(
    context: &DriverContext,
    address: &ResourceId,
    spec: &BuilderSpec,
    substituters: &Substituters,
) -> Result<(), DriverError> {
    let (options, target) = target(context, address, spec)?;
    let ssh_opts = nix_ssh_opts(&options, Some(&target));
    let command = store::ping_command(&store_uri(&target, substituters), Some(&ssh_opts));
    runner::run(format!("reaching builder `{address}` (`{}`)", target.destination()), &command, None).await.map_err(
        |error| {
            DriverError::from(error).with_detail(format!(
                "check that `{}` is up, that its host key is `host_key`, and that it runs Nix",
                target.destination()
            ))
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_key_path_with_a_space_is_refused_before_nix_splits_it() {
        let spec: BuilderSpec = serde_json::from_value(serde_json::json!({
            "ssh": "root@192.0.2.9", "ssh_key": "file:my keys/builder", "host_key": "ssh-ed25519 AAAA",
        }))
        .unwrap();
        let context = DriverContext { base_dir: "/srv/infra".into(), ..DriverContext::default() };
        let error = target(&context, &"builder.b".parse().unwrap(), &spec).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`builder.b`: the path of `ssh_key` (`/srv/infra/my keys/builder`) has a space in it, which nix cannot pass to ssh\n  move the key to a path without spaces"
        );
    }

    #[test]
    fn provision_commands_run_as_written_in_the_file_directory() {
        let address: ResourceId = "builder.burst-1".parse().unwrap();
        let argv = ["terraform", "-chdir=infra/builders", "apply", "-auto-approve"].map(String::from);
        let command = provision_command(Path::new("/srv/infra"), &address, &argv, "create").unwrap();
        insta::assert_snapshot!(command, @"cd /srv/infra && terraform -chdir=infra/builders apply -auto-approve");
        assert_eq!(command.timeout, Some(PROVISION_TIMEOUT));
        let empty = provision_command(Path::new("/srv/infra"), &address, &[], "destroy").unwrap_err();
        assert_eq!(empty.summary, "`builder.burst-1`: `provision.destroy` is an empty command");
    }
}
