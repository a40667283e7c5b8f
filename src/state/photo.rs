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
    /// A re-screening of the shown photo is in flight (deeper exits, or every exit).
    pub rescreening: RwSignal<bool>,
}

impl PhotoState {
    /// Nothing screened; θ = 0.8 until a model sets its own.
    pub fn new() -> Self {
        Self {
            result: RwSignal::new(None),
            runs: RwSignal::new(0),
            theta: RwSignal::new(0.8),
            model_theta: RwSignal::new(BTreeMap::new()),
            rescreening: RwSignal::new(false),
        }
    }

    /// Shows a new result and clears the error.
    pub fn show(self, result: PhotoResult, page: PageState) {
        if self.runs.get_untracked() == 0 {
            super::page::mark("fairscreen-first-result");
        }
        super::page::mark("fairscreen-result");
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
        super::page::mark("fairscreen-photo-chosen");
        spawn_local(async move {
            match super::worker_link::file_bytes(&file).await {
                Ok(bytes) => super::worker_link::send(
                    Request::Classify {
                        file: file.name(),
                        theta: self.photo.theta.get_untracked(),
                    },
                    Some(bytes),
                ),
                Err(e) => {
                    self.page.error.set(Some(e));
                    self.settle();
                }
            }
        });
    }

    /// Screens the shown photo again with the loaded model: stage by stage at the current θ
    /// (when θ moved past the exits computed), or every exit in one pass (to compare them all).
    pub fn rescreen(self, every_exit: bool) {
        if self.photo.result.with_untracked(|r| r.is_none())
            || self.photo.rescreening.get_untracked()
        {
            return;
        }
        self.photo.rescreening.set(true);
        self.page.status.set(Status::Running);
        super::worker_link::send(
            Request::Rescreen {
                theta: self.photo.theta.get_untracked(),
                every_exit,
            },
            None,
        );
    }

    /// Re-screens the shown photo whenever θ moves past the exits computed (the decision needs a
    /// deeper exit); one request at a time, the latest θ once the previous answer is in.
    pub(super) fn follow_theta_deeper(self) {
        Effect::new(move |_| {
            let theta = self.photo.theta.get();
            let needs_deeper = self
                .photo
                .result
                .with(|r| r.as_ref().is_some_and(|r| r.decision(theta).is_none()));
            if needs_deeper && !self.photo.rescreening.get() {
                self.rescreen(false);
            }
        });
    }

    /// The worker's answer for a photo.
    pub(super) fn screened(self, outcome: Result<PhotoResult, String>) {
        let rescreened = self.photo.rescreening.get_untracked();
        self.photo.rescreening.set(false);
        match outcome {
            Ok(result) => self.photo.show(result, self.page),
            Err(e) => {
                // A new photo that fails leaves the previous result on screen; a failed
                // re-screening clears it (its decision at this θ needs the exits that failed).
                if rescreened {
                    self.photo.result.set(None);
                }
                self.page.error.set(Some(e));
            }
        }
        self.settle();
    }
}
