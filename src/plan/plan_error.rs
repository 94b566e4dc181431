//! Why a plan cannot be made: the command line named a resource the plan cannot act on.
//!
//! Only the addresses given to `--target`, `--exclude` and `--replace` can fail a plan; everything
//! else about the file was checked when the `Spec` was built.

use std::fmt;

use crate::model::ResourceId;

/// The command-line option that named an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlanOption {
    /// `--target`.
    Target,
    /// `--exclude`.
    Exclude,
    /// `--replace`.
    Replace,
}

impl fmt::Display for PlanOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Target => "--target",
            Self::Exclude => "--exclude",
            Self::Replace => "--replace",
        })
    }
}

/// A plan that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PlanError {
    /// The address is neither in the configuration nor in the state.
    UnknownAddress {
        /// The option that named it.
        option: PlanOption,
        /// The address as given.
        address: ResourceId,
        /// The nearest known address, when one is close.
        suggestion: Option<ResourceId>,
    },
    /// `--replace` named a resource that is not both in the configuration and in the state.
    CannotReplace {
        /// The address as given.
        address: ResourceId,
        /// Whether it is in the configuration (then it is missing from the state).
        is_desired: bool,
    },
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownAddress { option, address, suggestion } => {
                write!(f, "`{option}`: `{address}` is neither in the configuration nor in the state")?;
                match suggestion {
                    Some(suggestion) => write!(f, " (did you mean `{suggestion}`?)"),
                    None => Ok(()),
                }
            }
            Self::CannotReplace { address, is_desired: true } => {
                write!(f, "`--replace`: `{address}` cannot be replaced because it does not exist yet")
            }
            Self::CannotReplace { address, is_desired: false } => {
                write!(f, "`--replace`: `{address}` cannot be replaced because it is not in the configuration")
            }
        }
    }
}

impl std::error::Error for PlanError {}

/// The known address nearest to `address`, when one is close enough to be a likely typo, by the
/// same measure as every other "did you mean" in rave (`config::suggest`).
pub(super) fn nearest<'a>(address: &ResourceId, known: impl IntoIterator<Item = &'a ResourceId>) -> Option<ResourceId> {
    let known: Vec<String> = known.into_iter().map(ToString::to_string).collect();
    crate::config::suggest::closest(&address.to_string(), known.iter().map(String::as_str))
        .and_then(|closest| closest.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ResourceId {
        text.parse().unwrap()
    }

    #[test]
    fn messages_name_the_option_and_suggest() {
        let error = PlanError::UnknownAddress {
            option: PlanOption::Target,
            address: id("vm.gitlb"),
            suggestion: Some(id("vm.gitlab")),
        };
        assert_eq!(
            error.to_string(),
            "`--target`: `vm.gitlb` is neither in the configuration nor in the state (did you mean `vm.gitlab`?)"
        );
        let error = PlanError::CannotReplace { address: id("vm.new"), is_desired: true };
        assert_eq!(error.to_string(), "`--replace`: `vm.new` cannot be replaced because it does not exist yet");
    }

    #[test]
    fn nearest_picks_a_close_address_only() {
        let known = [id("vm.gitlab"), id("vm.grafana"), id("service.gitlab")];
        assert_eq!(nearest(&id("vm.gitlb"), &known), Some(id("vm.gitlab")));
        assert_eq!(nearest(&id("host.zzzzzz"), &known), None);
    }
}
