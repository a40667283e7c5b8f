//! The model index, the loaded model, and switching models.

use fairscreen_core::format::AssetEntry;
use fairscreen_core::ModelCard;
use leptos::prelude::*;

use super::{AppState, AuditStatus, Status};
use crate::protocol::{PhotoResult, Request};

/// A model of `models/index.json`: its index entry and, once read, its card.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelChoice {
    /// Name, file, size and sha256 from the index.
    pub entry: AssetEntry,
    /// The card: from the file's header until the model is loaded, then from the verified file.
    pub card: Option<ModelCard>,
}

/// Every listed model, the loaded one and a switch in progress.
#[derive(Clone, Copy)]
pub struct ModelState {
    /// Every model of `models/index.json`, in index order.
    pub models: RwSignal<Vec<ModelChoice>>,
    /// Index name of the loaded model.
    pub name: RwSignal<String>,
    /// Card of the loaded model.
    pub card: RwSignal<Option<ModelCard>>,
    /// What the loaded model's weights are and what precision it computes in, in words.
    pub precision: RwSignal<String>,
    /// The model being switched to, while it loads.
    pub switching: RwSignal<Option<String>>,
}

impl ModelState {
    /// No index, no model.
    pub fn new() -> Self {
        Self {
            models: RwSignal::new(Vec::new()),
            name: RwSignal::new(String::new()),
            card: RwSignal::new(None),
            precision: RwSignal::new(String::new()),
            switching: RwSignal::new(None),
        }
    }

    /// Lists the index's models (cards unknown yet).
    pub fn set_index(self, assets: Vec<AssetEntry>) {
        self.models.set(
            assets
                .into_iter()
                .map(|entry| ModelChoice { entry, card: None })
                .collect(),
        );
    }

    /// Records a model's card (from its header, or verified once loaded).
    pub fn set_card(self, name: &str, card: ModelCard) {
        self.models.update(|m| {
            if let Some(c) = m.iter_mut().find(|c| c.entry.name == name) {
                c.card = Some(card);
            }
        });
    }

    /// The index entry of the loaded model.
    pub fn loaded_entry(self) -> Option<AssetEntry> {
        let name = self.name.get();
        self.models.with(|m| {
            m.iter()
                .find(|c| c.entry.name == name)
                .map(|c| c.entry.clone())
        })
    }
}

impl AppState {
    /// Loads another model of the index on the same backend (verified like the default), sets θ
    /// to its default, reuses its cached audit if any and re-screens the last photo. On any
    /// failure the error is shown and the previous model stays loaded.
    pub fn switch_model(self, name: String) {
        let refuse = |why: &str| {
            self.page
                .error
                .set(Some(format!("cannot switch to {name} now: {why}")));
            // Puts the picker back on the loaded model.
            self.models.name.notify();
        };
        if name == self.models.name.get_untracked() {
            return;
        }
        if self.models.switching.get_untracked().is_some() {
            return refuse("another model is loading");
        }
        if !self.page.status.get_untracked().is_idle() {
            return refuse("wait for the current step to finish");
        }
        let listed = self
            .models
            .models
            .with_untracked(|m| m.iter().any(|c| c.entry.name == name));
        if !listed {
            return refuse("it is not in models/index.json");
        }
        self.models.switching.set(Some(name.clone()));
        self.page
            .status
            .set(Status::Loading(format!("switching to the model {name}")));
        super::worker_link::send(Request::LoadModel { name }, None);
    }

    /// Validates and loads a model file the user chose, in the worker (it stays on the device);
    /// once loaded it joins the picker as `your file <name>`. A damaged file is refused with a
    /// message and the loaded model stays.
    pub fn load_own_model_file(self, file: web_sys::File) {
        let name = file.name();
        if self.models.switching.get_untracked().is_some()
            || !self.page.status.get_untracked().is_idle()
        {
            self.page.error.set(Some(format!(
                "cannot load {name} now: wait for the current step to finish"
            )));
            return;
        }
        self.models.switching.set(Some(name.clone()));
        self.page.status.set(Status::Loading(format!(
            "checking and loading your model file {name}"
        )));
        leptos::task::spawn_local(async move {
            match super::worker_link::file_bytes(&file).await {
                Ok(bytes) => {
                    super::worker_link::send(Request::LoadOwnModel { file: name }, Some(bytes))
                }
                Err(e) => self.model_failed(name, e, false),
            }
        });
    }

    /// Makes the worker's newly loaded model the page's (all state at once, so no view sees a
    /// mix of two models).
    pub(super) fn commit_model(
        self,
        entry: AssetEntry,
        card: ModelCard,
        precision: String,
        reclassified: Option<Result<PhotoResult, String>>,
    ) {
        let name = entry.name.clone();
        let old = self.models.name.get_untracked();
        if old.is_empty() {
            super::page::mark("fairscreen-model-ready");
        }
        if !old.is_empty() {
            let theta = self.photo.theta.get_untracked();
            self.photo.model_theta.update(|t| {
                t.insert(old, theta);
            });
        }
        self.models.precision.set(precision);
        // A model file of the user's joins the list (the index's models are there already).
        self.models.models.update(|m| {
            if !m.iter().any(|c| c.entry.name == name) {
                m.push(ModelChoice {
                    entry: entry.clone(),
                    card: None,
                });
            }
        });
        self.models.set_card(&name, card.clone());
        self.photo.theta.set(card.default_theta);
        self.models.card.set(Some(card));
        self.models.name.set(name.clone());
        let audited = self.audit.cache.with_untracked(|c| c.contains_key(&name));
        let running = self
            .audit
            .running
            .with_untracked(|r| r.as_ref().filter(|r| r.0 == name).map(|r| (r.1, r.2)));
        match running {
            Some((done, total)) => self.audit.status.set(AuditStatus::Running(done, total)),
            None if audited => self.request_reports(),
            None => self.audit.status.set(AuditStatus::Idle),
        }
        match reclassified {
            Some(Ok(result)) => self.photo.show(result, self.page),
            Some(Err(e)) => {
                // Never show one model's answer under another model's card.
                self.photo.result.set(None);
                self.page.error.set(Some(e));
            }
            None => {}
        }
        self.settle();
        self.models.switching.set(None);
        self.models.name.notify();
    }

    /// A model could not be loaded: the previous one stays, or the page cannot screen at all.
    pub(super) fn model_failed(self, name: String, error: String, fatal: bool) {
        if fatal {
            self.page.error.set(Some(error));
            self.page.status.set(Status::Failed);
            return;
        }
        self.page
            .error
            .set(Some(format!("could not switch to {name}: {error}")));
        self.settle();
        self.models.switching.set(None);
        self.models.name.notify();
    }
}
