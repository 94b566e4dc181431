//! A project as every command sees it: the file read, validated and turned into a graph, and
//! where its state and generated files live.

use std::path::{Path, PathBuf};

use crate::config::{self, SourceFile, StateBackendKind};
use crate::diagnostic::Diagnostic;
use crate::error::CommandError;
use crate::graph::ResourceGraph;
use crate::model::{self, SecretRef, Spec};
use crate::state::backend::StateBackend;
use crate::state::local_backend::LocalBackend;
use crate::state::postgres::PostgresBackend;

/// A loaded, valid project.
#[derive(Debug)]
pub(crate) struct Project {
    /// The validated desired state.
    pub(crate) spec: Spec,
    /// Its dependency graph.
    pub(crate) graph: ResourceGraph,
    /// The directory of the file: relative paths in it start here.
    pub(crate) base_dir: PathBuf,
    /// Where rave keeps its own files (`.rave/` beside the file).
    pub(crate) state_dir: PathBuf,
}

/// Why a project could not be loaded: every problem in the file, and its text for excerpts.
#[derive(Debug)]
pub(crate) struct InvalidProject {
    /// The problems.
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The file, when it could be read.
    pub(crate) source: Option<SourceFile>,
}

impl Project {
    /// Reads, validates and graphs the file at `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, InvalidProject> {
        let mut loaded = config::load(path).map_err(|(diagnostics, source)| InvalidProject { diagnostics, source })?;
        let spec = model::lower::lower(&mut loaded)
            .map_err(|diagnostics| InvalidProject { diagnostics, source: Some(loaded.source.clone()) })?;
        let graph = ResourceGraph::build(&spec)
            .map_err(|diagnostics| InvalidProject { diagnostics, source: Some(loaded.source.clone()) })?;
        // The file's text and tree stay allocated until the process ends. Freeing the tree of a
        // large file is a few hundred thousand small frees (some 25 M instructions at 10,000
        // resources) that would compete with the plan for the cores; measured, a plan peaks no
        // higher without them, as the plan's own allocations dominate. A long `apply` keeps the
        // few tens of MiB until it ends.
        std::mem::forget(loaded);
        let base_dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let base_dir = if base_dir.as_os_str().is_empty() { PathBuf::from(".") } else { base_dir };
        let state_dir = base_dir.join(".rave");
        Ok(Self { spec, graph, base_dir, state_dir })
    }

    /// The state backend the file asks for; a database backend is connected (and its tables
    /// migrated) here.
    pub(crate) fn state_backend(&self) -> Result<Box<dyn StateBackend>, CommandError> {
        match self.spec.state.backend {
            StateBackendKind::Local => Ok(Box::new(LocalBackend::new(self.local_state_path()))),
            StateBackendKind::Postgres => {
                let Some(reference) = &self.spec.state.url else {
                    // `model::lower` refuses a postgres backend without a URL.
                    return Err(CommandError::new("`state.url` is missing for the `postgres` backend"));
                };
                Ok(Box::new(self.postgres_backend(reference)?))
            }
        }
    }

    /// The PostgreSQL backend for this project at the URL `reference` names, connected.
    pub(crate) fn postgres_backend(&self, reference: &SecretRef) -> Result<PostgresBackend, CommandError> {
        let url = reference.resolve(&self.base_dir).map_err(|error| {
            CommandError::new(format!("cannot read the state URL `{reference}`: {error}"))
                .with_hint("set the variable or create the file the reference names")
        })?;
        PostgresBackend::connect(url.expose(), self.spec.project.as_str()).map_err(|error| {
            CommandError::new(error.to_string())
                .with_hint("check that the database is up and the URL is right (user, host, database)")
        })
    }

    /// Where the local backend keeps state: `state.path`, or `.rave/state.json`.
    pub(crate) fn local_state_path(&self) -> PathBuf {
        self.spec.state.path.as_ref().map_or_else(|| self.state_dir.join("state.json"), |path| self.base_dir.join(path))
    }
}
