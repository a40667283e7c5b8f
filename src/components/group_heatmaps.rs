//! Mean final-head heatmaps per skin group of the evaluation subset, from the loaded model's
//! audit: the per-group review of heatmaps of the facial-expression bias paper.

use leptos::prelude::*;

use crate::protocol::GroupHeat;
use crate::state::{AuditState, ModelState};

const EXPLANATION: &str =
    "Where the final head looks, per group of the evaluation data audited above: each \
     image's class activation map for the class the final head predicts, positive part scaled to \
     [0, 1], averaged over the group (red: where the group's maps are hottest). Computed in this \
     browser from the audit above. Under each map, when the subset carries lesion masks: the mean \
     share of each image's heat that lies on the lesion, and the lesion's mean share of the image \
     (what a map that ignores the lesion would get). A per-group review of heatmaps, as in the \
     facial-expression bias paper.";

/// One group's figure: its mean map, name and size, and its lesion share.
fn figure(g: &GroupHeat) -> impl IntoView {
    let src = g.image.clone();
    let focus = g.lesion_share.zip(g.lesion_area).map(|(share, area)| {
        view! {
            <figcaption class="focus">
                {format!("on lesion {share:.3} (area {area:.3})")}
            </figcaption>
        }
    });
    view! {
        <figure class="group-heat">
            <img src=src alt=format!("Mean heatmap, {}", g.group) />
            <figcaption>{format!("{} ({})", g.group, g.images)}</figcaption>
            {focus}
        </figure>
    }
}

/// The page's numbers as JSON (for checking): group, images, mean heat, lesion share and area.
fn groups_json(groups: &[GroupHeat]) -> String {
    let rows: Vec<_> = groups
        .iter()
        .map(|g| {
            serde_json::json!({
                "group": g.group,
                "images": g.images,
                "heat": g.mean.values,
                "lesion_share": g.lesion_share,
                "lesion_area": g.lesion_area,
            })
        })
        .collect();
    serde_json::to_string(&rows).unwrap_or_default()
}

/// The group heatmaps (`#group-heatmaps`).
#[component]
pub fn GroupHeatmaps(audit: AuditState, models: ModelState) -> impl IntoView {
    let groups = Memo::new(move |_| {
        audit
            .entry(&models.name.get())
            .map(|e| e.group_heat.clone())
    });
    view! {
        <section
            id="group-heatmaps"
            class="panel"
            class:hidden=move || groups.with(|g| g.is_none())
            data-groups=move || groups.with(|g| g.as_deref().map(groups_json).unwrap_or_default())
        >
            <h2>"Heatmaps per skin group"</h2>
            <p class="hint">{EXPLANATION}</p>
            <div class="group-heat-row">
                {move || groups.get().map(|g| g.iter().map(figure).collect::<Vec<_>>())}
            </div>
        </section>
    }
}
