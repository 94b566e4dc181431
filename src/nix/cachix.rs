//! Cachix: `cachix push NAME PATH…` with the auth token in the environment. Pure command lines;
//! the cachix CLI is only needed when a `type: cachix` cache is pushed to.

use std::time::Duration;

use crate::drivers::command_spec::CommandSpec;

/// How long one push may take.
pub(crate) const PUSH_TIMEOUT: Duration = Duration::from_secs(3600);

/// `CACHIX_AUTH_TOKEN=… cachix push NAME PATH…`. The token travels in the environment, never on
/// the command line, and command lines shown never carry environment values.
pub(crate) fn push_command(name: &str, paths: &[String], auth_token: Option<&str>) -> CommandSpec {
    let mut command = CommandSpec::new("cachix").args(["push", name]).args(paths.iter().cloned()).timeout(PUSH_TIMEOUT);
    if let Some(token) = auth_token {
        command = command.env("CACHIX_AUTH_TOKEN", token);
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_in_the_environment_and_never_shows() {
        let command = push_command("my-modular-workspace", &["/nix/store/aaa-codex".to_owned()], Some("s3cr3t"));
        assert_eq!(
            command.to_string(),
            "CACHIX_AUTH_TOKEN=<hidden> cachix push my-modular-workspace /nix/store/aaa-codex"
        );
        assert_eq!(command.env, [("CACHIX_AUTH_TOKEN".to_owned(), "s3cr3t".to_owned())]);
        assert_eq!(command.timeout, Some(PUSH_TIMEOUT));
        let public = push_command("public-cache", &["/nix/store/a".to_owned(), "/nix/store/b".to_owned()], None);
        assert_eq!(public.to_string(), "cachix push public-cache /nix/store/a /nix/store/b");
    }
}
