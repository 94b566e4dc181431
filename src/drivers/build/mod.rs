//! [`BuildDriver`]: `builds:`. A build is its flake output built (on its `builders:` when it
//! names any) and pushed to its `push:` caches.
//!
//! Builds that an apply starts together are built together: each call joins a queue, and one
//! `nix build --json --no-link` per set of builders builds them all (`batch`). The result is
//! matched to each build by the derivation the plan evaluated. Deleting a build forgets it (the
//! store path stays until Nix collects it).

mod batch;

use std::sync::Arc;

use super::{BoxFuture, Driver, DriverContext, DriverError, Outputs};
use crate::apply::EventSink;
use crate::model::{ResourceId, ResourceSpec};
use crate::nix::Derivation;
use crate::nix::evaluation::{Target, evaluate};
use crate::nix::reference::{OutputKind, Reference};
use crate::plan::Desired;
use crate::state::ResourceState;

/// The driver for builds; the queue it batches them in.
#[derive(Debug, Clone, Default)]
pub(crate) struct BuildDriver {
    queue: Arc<batch::Queue>,
}

impl BuildDriver {
    /// Create and update alike: build (with the others that start now), then push.
    async fn converge(
        &self,
        context: &DriverContext,
        events: &EventSink,
        address: &ResourceId,
        desired: &Desired,
    ) -> Result<Outputs, DriverError> {
        let ResourceSpec::Build(spec) = &*desired.spec else {
            return Err(DriverError::wrong_kind(address, &desired.spec));
        };
        let reference =
            Reference::parse(&spec.attr, OutputKind::Package, &context.nix, &context.nix.system, &context.base_dir)
                .map_err(|error| DriverError::new(format!("`{address}`: {error}")))?;
        let derivation = match &desired.derivation {
            Some(derivation) => derivation.clone(),
            // Planned without an evaluation (`--refresh=false`): evaluate this one now.
            None => evaluate_one(address, reference.clone()).await?,
        };
        let attribute = spec.attr.split_once('#').map_or(spec.attr.as_str(), |(_, attribute)| attribute);
        let job = batch::Job {
            address: address.clone(),
            installable: format!("{}#{attribute}", reference.flake),
            derivation: derivation.clone(),
            builders: spec.builders.clone(),
            push: spec.push.clone(),
            events: events.clone(),
        };
        let built = self.queue.build(context, job).await?;
        let pushed =
            super::cache::push(context, events, std::slice::from_ref(&derivation.out_path), &spec.push).await?;
        let mut outputs = Outputs::new();
        outputs.insert("drv_path".to_owned(), serde_json::Value::from(derivation.drv_path));
        outputs.insert("out_path".to_owned(), serde_json::Value::from(built.out_path));
        if !built.builders.is_empty() {
            outputs.insert("built_on".to_owned(), serde_json::json!(built.builders));
        }
        if !built.ephemeral.is_empty() {
            outputs.insert("ephemeral_builders".to_owned(), serde_json::json!(built.ephemeral));
        }
        if !pushed.is_empty() {
            outputs.insert("pushed".to_owned(), serde_json::json!(pushed));
        }
        Ok(outputs)
    }
}

/// The derivation of one build, from its own `nix eval`.
async fn evaluate_one(address: &ResourceId, reference: Reference) -> Result<Derivation, DriverError> {
    let target = Target { address: address.clone(), reference, suffix: &[] };
    let mut derivations = evaluate(std::slice::from_ref(&target)).await?;
    derivations.remove(address).ok_or_else(|| DriverError::new(format!("evaluating `{address}` gave no derivation")))
}

impl Driver for BuildDriver {
    fn replace_attributes(&self) -> &'static [&'static str] {
        // A build is redone, never replaced.
        &[]
    }

    fn create<'a>(
        &'a self,
        context: &'a DriverContext,
        events: &'a EventSink,
        address: &'a ResourceId,
        desired: &'a Desired,
    ) -> BoxFuture<'a, Result<Outputs, DriverError>> {
        Box::pin(self.converge(context, events, address, desired))
    }

    fn delete<'a>(
        &'a self,
        _context: &'a DriverContext,
        _events: &'a EventSink,
        _address: &'a ResourceId,
        _recorded: &'a ResourceState,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        // The store path stays until Nix collects it; what was pushed stays in the caches.
        Box::pin(async { Ok(()) })
    }
}
