//! A project as every command sees it: the file read, validated and turned into a graph, and
//! where its state and generated files live.

use std::path::{Path, PathBuf};

use crate::config::{self, SourceFile, StateBackendKind};
use crate::diagnostic::Diagnostic;
use crate::error::CommandError;
use crate::graph::ResourceGraph;
use crate::model::{self, Spec};
use crate::state::local_backend::LocalBackend;

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
        let loaded = config::load(path).map_err(|(diagnostics, source)| InvalidProject { diagnostics, source })?;
        let spec = model::lower::lower(&loaded)
            .map_err(|diagnostics| InvalidProject { diagnostics, source: Some(loaded.source.clone()) })?;
        let graph = ResourceGraph::build(&spec)
            .map_err(|diagnostics| InvalidProject { diagnostics, source: Some(loaded.source.clone()) })?;
        // Freeing the tree of a large file takes a while, and nothing needs to wait for it. When
        // no thread can be started, the closure, and the file with it, is dropped right here.
        let _ = std::thread::Builder::new().name("free-file".to_owned()).spawn(move || drop(loaded));
        let base_dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let base_dir = if base_dir.as_os_str().is_empty() { PathBuf::from(".") } else { base_dir };
        let state_dir = base_dir.join(".rave");
        Ok(Self { spec, graph, base_dir, state_dir })
    }

    /// The state backend the file asks for.
    pub(crate) fn state_backend(&self) -> Result<LocalBackend, CommandError> {
        match self.spec.state.backend {
            StateBackendKind::Local => {
                let path = self
                    .spec
                    .state
                    .path
                    .as_ref()
                    .map_or_else(|| self.state_dir.join("state.json"), |path| self.base_dir.join(path));
                Ok(LocalBackend::new(path))
            }
            StateBackendKind::Postgres => {
                Err(CommandError::new("the `postgres` state backend is not available in this version of rave")
                    .with_hint("use `state: { backend: local }` for now"))
            }
        }
    }
}
