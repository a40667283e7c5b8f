//! The whole page: header, then every view in reading order.

use leptos::prelude::*;

use super::{
    BackendBadge, Comparison, Dashboard, DataCardView, ErrorBanner, ExitStrip, GroupHeatmaps,
    Heatmap, ModelCardView, ModelPicker, OfflineBadge, OwnFolder, OwnPredictions, Prediction,
    PruningLevels, StatusLine, UploadZone,
};
use crate::state::AppState;

const TAGLINE: &str = "Screens a skin photo on your device with a multi-exit CNN. The photo never \
     leaves this page.";
const PRIVACY: &str = "Privacy: this page fetches only its own files from this site — the app, \
     the model index and model files, the evaluation subset and the build's file list — and \
     nothing else. Your photos, folders, CSV files, model files and reports are read and computed \
     on this device and never sent anywhere; a Content-Security-Policy forbids connections to any \
     other site. After one visit it works offline.";
const DISCLAIMER: &str = "A research demo trained on generated images, not on patients. See a \
     clinician about any lesion that worries you.";

/// The whole page; starts the inference worker.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    state.start();
    view! {
        <header>
            <h1>"FairScreen"</h1>
            <p class="tagline">{TAGLINE}</p>
            <p class="disclaimer">
                <strong>"Not a diagnosis. "</strong>
                {DISCLAIMER}
            </p>
        </header>
        <main>
            <ErrorBanner page=state.page />
            <section class="panel">
                <BackendBadge state=state />
                <OfflineBadge page=state.page />
                <StatusLine page=state.page />
                <ModelPicker state=state />
                <UploadZone state=state />
            </section>
            <Prediction photo=state.photo models=state.models />
            <Heatmap photo=state.photo models=state.models />
            <ExitStrip state=state />
            <ModelCardView state=state />
            <PruningLevels state=state />
            <OwnFolder state=state />
            <Dashboard state=state />
            <Comparison state=state />
            <GroupHeatmaps audit=state.audit models=state.models />
            <DataCardView state=state />
            <OwnPredictions state=state />
        </main>
        <footer>
            <p class="hint" id="privacy">{PRIVACY}</p>
        </footer>
    }
}
