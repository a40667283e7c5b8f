//! The screened photo, the early-exit threshold θ, and screening a file.

use std::collections::BTreeMap;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{AppState, PageState, Status};
use crate::protocol::{PhotoResult, Request};

/// The latest screened photo and the threshold it is shown at.
#[derive(Clone, Copy)]
pub struct PhotoState {
    /// Latest result of the loaded model.
    pub result: RwSignal<Option<Arc<PhotoResult>>>,
    /// Number of completed screenings.
    pub runs: RwSignal<u32>,
    /// Early-exit threshold θ of the loaded model.
    pub theta: RwSignal<f32>,
    /// θ each other model was last used at, by name.
    pub model_theta: RwSignal<BTreeMap<String, f32>>,
}

impl PhotoState {
    /// Nothing screened; θ = 0.8 until a model sets its own.
    pub fn new() -> Self {
        Self {
            result: RwSignal::new(None),
            runs: RwSignal::new(0),
            theta: RwSignal::new(0.8),
            model_theta: RwSignal::new(BTreeMap::new()),
        }
    }

    /// Shows a new result and clears the error.
    pub fn show(self, result: PhotoResult, page: PageState) {
        self.result.set(Some(Arc::new(result)));
        page.error.set(None);
        self.runs.update(|r| *r += 1);
    }
}

impl AppState {
    /// Screens an uploaded file in the worker; errors are shown and the page stays usable.
    pub fn classify_file(self, file: web_sys::File) {
        if self.models.card.with_untracked(|c| c.is_none()) {
            self.page
                .error
                .set(Some("the model is not loaded yet".into()));
            return;
        }
        self.page.status.set(Status::Running);
        spawn_local(async move {
            match super::worker_link::file_bytes(&file).await {
                Ok(bytes) => {
                    super::worker_link::send(Request::Classify { file: file.name() }, Some(bytes))
                }
                Err(e) => {
                    self.page.error.set(Some(e));
                    self.settle();
                }
            }
        });
    }

    /// The worker's answer for a photo.
    pub(super) fn screened(self, outcome: Result<PhotoResult, String>) {
        match outcome {
            Ok(result) => self.photo.show(result, self.page),
            // The previous result (if any) stays on screen; the page is ready for another file.
            Err(e) => self.page.error.set(Some(e)),
        }
        self.settle();
    }
}
