//! The evaluation data: the bundled subset (its loading state) and the folders the user read,
//! which one audits run on, and, for that one, its labels and groups.

use std::sync::Arc;

use fairscreen_core::{DataCard, EvalBundle};
use leptos::prelude::*;

use fairscreen_core::folder_bundle::SkippedItem;

use crate::protocol::BundleMeta;

/// Where the bundled evaluation subset is (mirrored in `#data-card[data-state]`).
#[derive(Clone, Debug, PartialEq)]
pub enum EvalStatus {
    /// Not asked for yet: fetched on first use (an audit, or its own button), not at load.
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

/// One evaluation data set the page can audit on.
#[derive(Clone, Debug, PartialEq)]
pub struct DataChoice {
    /// Its name (its card's).
    pub name: String,
    /// Labels, groups and card, without pixels.
    pub bundle: Arc<EvalBundle>,
    /// File size in bytes (0 for a folder).
    pub bytes: usize,
    /// Rows and photos left out when it was read (a folder's).
    pub skipped: Vec<SkippedItem>,
    /// True for a folder the user read (false for the bundled subset).
    pub user_folder: bool,
}

/// Reading a folder the user chose.
#[derive(Clone, Debug, PartialEq)]
pub enum FolderStatus {
    /// Nothing being read.
    Idle,
    /// Reading `labels.csv` rows: done of the total (0, 0 until the first report).
    Reading(String, usize, usize),
    /// The last folder could not be read: why.
    Failed(String),
}

/// The evaluation data as the page knows it (the pixels stay in the worker).
#[derive(Clone, Copy)]
pub struct EvalState {
    /// The active data's loading state and card.
    pub status: RwSignal<EvalStatus>,
    /// The active data's labels, groups and card, without pixels (for reports and charts).
    pub bundle: RwSignal<Option<Arc<EvalBundle>>>,
    /// Every data set read: the bundled subset first, then the user's folders.
    pub datasets: RwSignal<Vec<DataChoice>>,
    /// The active data's name.
    pub active: RwSignal<String>,
    /// Reading a folder.
    pub folder: RwSignal<FolderStatus>,
    /// The bundled subset is being fetched.
    pub loading: RwSignal<bool>,
    /// The user chose the bundled subset before it was loaded: it becomes active when it is.
    pub bundled_wanted: RwSignal<bool>,
}

impl EvalState {
    /// Waiting for the model.
    pub fn new() -> Self {
        Self {
            status: RwSignal::new(EvalStatus::Waiting),
            bundle: RwSignal::new(None),
            datasets: RwSignal::new(Vec::new()),
            active: RwSignal::new(String::new()),
            folder: RwSignal::new(FolderStatus::Idle),
            loading: RwSignal::new(false),
            bundled_wanted: RwSignal::new(false),
        }
    }

    /// Forgets every data set (the worker that held them is gone).
    pub fn reset(self) {
        self.status.set(EvalStatus::Waiting);
        self.bundle.set(None);
        self.datasets.set(Vec::new());
        self.active.set(String::new());
        self.folder.set(FolderStatus::Idle);
        self.loading.set(false);
        self.bundled_wanted.set(false);
    }

    /// The worker has loaded and verified the bundled subset: listed, and active unless a folder
    /// was made active first.
    pub fn ready(self, meta: BundleMeta) {
        let choice = DataChoice {
            name: meta.card.name.clone(),
            bundle: Arc::new(meta.to_bundle()),
            bytes: meta.bytes,
            skipped: Vec::new(),
            user_folder: false,
        };
        self.datasets.update(|d| d.insert(0, choice.clone()));
        if self.active.get_untracked().is_empty() {
            self.show(&choice);
        }
    }

    /// Makes `choice` the data the views show.
    pub(super) fn show(self, choice: &DataChoice) {
        self.active.set(choice.name.clone());
        self.bundle.set(Some(choice.bundle.clone()));
        self.status.set(EvalStatus::Ready(
            Box::new(choice.bundle.card.clone()),
            choice.bytes,
        ));
    }

    /// The active data's entry.
    pub fn active_choice(self) -> Option<DataChoice> {
        let name = self.active.get();
        self.datasets
            .with(|d| d.iter().find(|c| c.name == name).cloned())
    }

    /// True once the subset is loaded.
    pub fn is_ready(self) -> bool {
        matches!(self.status.get(), EvalStatus::Ready(..))
    }

    /// The bundled subset can be asked for: not loaded and not loading (never asked for, or it
    /// failed).
    pub fn can_load(self) -> bool {
        !self.loading.get() && self.datasets.with(|d| d.iter().all(|c| c.user_folder))
    }

    /// The bundled subset's loading state is what the data card shows: no data is active yet,
    /// or the user chose the subset.
    fn can_load_untracked(self) -> bool {
        !self.loading.get_untracked()
            && self
                .datasets
                .with_untracked(|d| d.iter().all(|c| c.user_folder))
    }

    fn shows_bundled(self) -> bool {
        self.active.with_untracked(|a| a.is_empty()) || self.bundled_wanted.get_untracked()
    }
}

impl super::AppState {
    /// Asks the worker for the bundled evaluation subset (when not loaded or loading).
    pub fn load_eval(self) {
        if !self.eval.can_load_untracked() {
            return;
        }
        self.eval.loading.set(true);
        self.eval_progress(EvalStatus::Fetching(0, 0));
        super::worker_link::send(crate::protocol::Request::LoadEval, None);
    }

    /// The bundled subset's loading progressed (shown when it is what the data card shows).
    pub(super) fn eval_progress(self, status: EvalStatus) {
        if self.eval.shows_bundled() {
            self.eval.status.set(status);
        }
    }

    /// The bundled subset could not be loaded; asking again retries.
    pub(super) fn eval_failed(self, error: String) {
        self.eval.loading.set(false);
        self.audit.after_eval.set(false);
        self.eval.bundled_wanted.set(false);
        if self.eval.active.with_untracked(|a| a.is_empty()) {
            self.eval.status.set(EvalStatus::Failed(error));
        } else {
            self.page.error.set(Some(format!(
                "the evaluation subset could not be loaded: {error}"
            )));
            // The active data's card again.
            let active = self.eval.active.get_untracked();
            self.select_data(active);
        }
    }

    /// The bundled subset arrived; an audit asked for before runs now.
    pub(super) fn eval_ready(self, meta: BundleMeta) {
        let name = meta.card.name.clone();
        self.eval.loading.set(false);
        self.eval.ready(meta);
        if self.eval.bundled_wanted.get_untracked() {
            self.eval.bundled_wanted.set(false);
            self.select_data(name);
        }
        if self.audit.after_eval.get_untracked() {
            self.audit.after_eval.set(false);
            self.run_audit();
        }
    }
}

/// The data picker's value for the bundled subset before it is loaded (choosing it fetches it).
pub const BUNDLED_NOT_LOADED: &str = "";
