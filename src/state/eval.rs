//! The bundled evaluation subset: its loading state and, once loaded, its labels and groups.

use std::sync::Arc;

use fairscreen_core::{DataCard, EvalBundle};
use leptos::prelude::*;

use crate::protocol::BundleMeta;

/// Where the bundled evaluation subset is (mirrored in `#data-card[data-state]`).
#[derive(Clone, Debug, PartialEq)]
pub enum EvalStatus {
    /// Not started (waits for the model).
    Waiting,
    /// Downloading: bytes received of the total.
    Fetching(usize, usize),
    /// Decoding the images.
    Decoding,
    /// Loaded and verified; its card, and its size in bytes.
    Ready(Box<DataCard>, usize),
    /// Could not be loaded: why.
    Failed(String),
}

impl EvalStatus {
    /// The `data-state` attribute value.
    pub fn state(&self) -> &'static str {
        match self {
            EvalStatus::Waiting => "waiting",
            EvalStatus::Fetching(..) => "fetching",
            EvalStatus::Decoding => "decoding",
            EvalStatus::Ready(..) => "ready",
            EvalStatus::Failed(_) => "error",
        }
    }
}

/// The evaluation subset as the page knows it (the pixels stay in the worker).
#[derive(Clone, Copy)]
pub struct EvalState {
    /// Loading state and card.
    pub status: RwSignal<EvalStatus>,
    /// Labels, groups and card, without pixels (for reports and charts).
    pub bundle: RwSignal<Option<Arc<EvalBundle>>>,
}

impl EvalState {
    /// Waiting for the model.
    pub fn new() -> Self {
        Self {
            status: RwSignal::new(EvalStatus::Waiting),
            bundle: RwSignal::new(None),
        }
    }

    /// The worker has loaded and verified the subset.
    pub fn ready(self, meta: BundleMeta) {
        self.bundle.set(Some(Arc::new(meta.to_bundle())));
        self.status
            .set(EvalStatus::Ready(Box::new(meta.card), meta.bytes));
    }

    /// True once the subset is loaded.
    pub fn is_ready(self) -> bool {
        matches!(self.status.get(), EvalStatus::Ready(..))
    }
}
