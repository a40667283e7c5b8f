//! The predictions CSV reader (the CLI's `audit --predictions` and the page's) and the report CSV.

use fairscreen_core::metrics::{
    read_predictions_csv, reports_csv, PredictionsCsvError, ReportOptions, REPORT_CSV_HEADER,
};

const GOOD: &str = "label,prediction,prob_0,prob_1,sex\n\
                    0,0,0.9,0.1,f\n\
                    1,1,0.2,0.8,m\n\
                    1,0,0.6,0.4,f\n\
                    0,1,0.3,0.7,m\n";

fn error_of(text: &str) -> PredictionsCsvError {
    match read_predictions_csv(text.as_bytes()) {
        Ok(_) => panic!("accepted {text:?}"),
        Err(e) => e,
    }
}

#[test]
fn a_good_csv_reads_classes_probabilities_and_groups() {
    let t = read_predictions_csv(GOOD.as_bytes()).unwrap();
    assert_eq!(t.class_names, ["0", "1"]);
    assert_eq!(t.predictions.labels, [0, 1, 1, 0]);
    assert_eq!(t.predictions.predicted, [0, 1, 0, 1]);
    assert_eq!(
        t.predictions.probs.as_ref().unwrap()[2],
        vec![0.6, 0.4],
        "row 3's probabilities"
    );
    assert_eq!(t.groupings.len(), 1);
    assert_eq!(t.groupings[0].names, ["f", "m"]);
    assert_eq!(t.groupings[0].ids, [0, 1, 0, 1]);
    assert_eq!(
        t.describe(),
        "4 predictions (2 classes: 0, 1), attributes: sex"
    );
    let opts = ReportOptions {
        bootstrap: 0,
        ..ReportOptions::default()
    };
    let r = &t.reports(&opts)[0];
    assert_eq!(r.overall.accuracy, 0.5);
    assert_eq!(r.groups[0].accuracy, 0.5);
    assert_eq!(r.groups[1].accuracy, 0.5);
    // f: (label 0, p1 0.1), (1, 0.4): AUC 1; m: (1, 0.8), (0, 0.7): AUC 1.
    assert_eq!(r.groups[0].auc, Some(1.0));
    assert_eq!(r.groups[1].auc, Some(1.0));
}

#[test]
fn two_attributes_also_get_their_intersection() {
    let t = read_predictions_csv(b"label,prediction,sex,site\na,b,f,x\nb,b,m,y\n").unwrap();
    assert_eq!(t.class_names, ["a", "b"]);
    assert_eq!(t.predictions.probs, None);
    let names: Vec<&str> = t.groupings.iter().map(|g| g.attribute.as_str()).collect();
    assert_eq!(names, ["sex", "site", "sex × site"]);
}

#[test]
fn faults_name_their_line_and_column() {
    let cases: [(&str, &str); 8] = [
        (
            "lbl,prediction,sex\n0,1,f\n",
            "p.csv:1: the header has no 'label' column",
        ),
        ("label,prediction,sex\n", "p.csv: no rows"),
        (
            "label,prediction,prob_0,prob_1,sex\n0,0,0.9,0.1,f\n1,1,0.2,x,m\n",
            "p.csv:3: prob_1 'x' is not a probability (a number in [0, 1])",
        ),
        (
            "label,prediction,prob_0,prob_1,sex\n0,0,0.9,NaN,f\n",
            "p.csv:2: prob_1 'NaN' is not a probability (a number in [0, 1])",
        ),
        (
            "label,prediction,prob_0,sex\n0,1,0.9,f\n",
            "p.csv:2: class '1' (a label or prediction here) has no prob_1 column: every class \
             needs one, or none may have one (the probability columns cover 0)",
        ),
        (
            "label,prediction,prob_0,prob_2,sex\n0,2,0.1,0.9,f\n",
            "p.csv: class '1' (numbered classes run from 0 to the largest) has no prob_1 column: \
             every class needs one, or none may have one (the probability columns cover 0, 2)",
        ),
        (" \n", "p.csv: the file is empty"),
        (
            "label,prediction\n0,1\n",
            "p.csv: no sensitive-attribute column (any column besides label, prediction, prob_*)",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(error_of(text).located("p.csv"), want, "{text:?}");
    }
    let e = error_of("label,prediction,sex\n0,1,f\n0,1\n");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(
        e.located("p.csv")
            .starts_with("p.csv:3: not a readable CSV"),
        "{e}"
    );
}

#[test]
fn the_report_csv_has_a_row_per_group_and_metric() {
    let t = read_predictions_csv(GOOD.as_bytes()).unwrap();
    let opts = ReportOptions {
        bootstrap: 20,
        ..ReportOptions::default()
    };
    let reports = t.reports(&opts);
    let text = reports_csv(&reports);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(REPORT_CSV_HEADER));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), reports[0].scalars.len());
    let row = |group: &str, metric: &str| {
        rows.iter()
            .find(|r| r[1] == group && r[3] == metric)
            .unwrap_or_else(|| panic!("no row {group} {metric}"))
            .clone()
    };
    let f = row("f", "accuracy");
    assert_eq!(&f[..5], ["sex", "f", "2", "accuracy", "0.5"]);
    let i = reports[0].intervals["group/f/accuracy"];
    assert_eq!(f[5], i.lo.to_string());
    assert_eq!(f[6], i.hi.to_string());
    assert_eq!(&row("all", "auc")[..5], ["sex", "all", "4", "auc", "0.75"]);
    let gap = row("between groups", "accuracy_gap");
    assert_eq!(
        &gap[..5],
        ["sex", "between groups", "", "accuracy_gap", "0"]
    );
}

#[test]
fn report_csv_fields_with_commas_are_quoted() {
    let t =
        read_predictions_csv(b"label,prediction,\"site, ward\"\na,b,\"x, 1\"\nb,b,y\n").unwrap();
    let text = reports_csv(&t.reports(&ReportOptions {
        bootstrap: 0,
        ..ReportOptions::default()
    }));
    assert!(
        text.contains("\"site, ward\",\"x, 1\",1,accuracy,0,,"),
        "{text}"
    );
}

#[test]
fn the_html_report_is_self_contained_and_escapes_text() {
    use fairscreen_core::report_html::{report_html, Figure, HtmlReport};
    let t = read_predictions_csv(b"label,prediction,site\na,b,<x>\nb,b,y\n").unwrap();
    let reports = t.reports(&ReportOptions::default());
    let html = report_html(&HtmlReport {
        title: "Audit of p.csv".into(),
        facts: vec![("θ".into(), "0.8".into())],
        reports,
        figures: vec![
            Figure::Png {
                caption: "mean heat".into(),
                data_url: "data:image/png;base64,AAAA".into(),
            },
            Figure::Png {
                caption: "remote".into(),
                data_url: "https://example.org/x.png".into(),
            },
            Figure::Svg {
                caption: "chart".into(),
                svg: "<svg><image href=\"https://example.org/y.png\"/></svg>".into(),
                text: "exit 1: 0.5".into(),
            },
        ],
        cards: vec![("Data card".into(), "{\"a\": \"<b>\"}".into())],
        disclaimer: "Not a diagnosis.".into(),
    });
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("<th>&lt;x&gt;</th>"),
        "group names are escaped"
    );
    assert!(html.contains("&quot;a&quot;: &quot;&lt;b&gt;&quot;"));
    assert!(html.contains("src=\"data:image/png;base64,AAAA\""));
    assert!(html.contains("exit 1: 0.5"), "the text equivalent stays");
    assert!(!html.contains("example.org"), "no external reference");
    // Every metric row of the report, with three decimals.
    assert!(html.contains("<td class=\"num\">0.500"), "{html}");
}

#[test]
fn only_canonical_numbers_number_the_classes() {
    // `07` is not the number 7: every value is then a class name of its own.
    let t = read_predictions_csv(b"label,prediction,sex\n07,7,f\n7,7,m\n").unwrap();
    assert_eq!(t.class_names, ["07", "7"]);
    assert_eq!(t.predictions.labels, [0, 1]);
    assert_eq!(t.predictions.predicted, [1, 1]);
    // Canonical numbers: class k is k, up to the largest.
    let t = read_predictions_csv(b"label,prediction,sex\n0,2,f\n2,2,m\n").unwrap();
    assert_eq!(t.class_names, ["0", "1", "2"]);
    assert_eq!(t.predictions.labels, [0, 2]);
    // A huge number would make a class per integer up to it: refused.
    let e = error_of("label,prediction,sex\n0,1,f\n4000000000,1,m\n");
    assert_eq!(
        e.located("p.csv"),
        "p.csv: 4000000001 classes, at most 1000 are supported (numbered labels make one class \
         per number up to the largest)"
    );
}

#[test]
fn probabilities_must_be_probabilities_and_columns_unique() {
    let cases: [(&str, &str); 4] = [
        (
            "label,prediction,prob_0,prob_1,sex\n0,0,1.2,-0.2,f\n",
            "p.csv:2: prob_0 '1.2' is not a probability (a number in [0, 1])",
        ),
        (
            "label,prediction,prob_0,prob_1,sex\n0,0,0.9,0.1,f\n1,0,0.5,0.3,m\n",
            "p.csv:3: the probabilities sum to 0.8, not 1 (within 0.02)",
        ),
        (
            "label,prediction,prob_0,prob_1,sex\n0,0,inf,0,f\n",
            "p.csv:2: prob_0 'inf' is not a probability (a number in [0, 1])",
        ),
        (
            "label,prediction,label,sex\n0,0,1,f\n",
            "p.csv:1: the header has two 'label' columns",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(error_of(text).located("p.csv"), want, "{text:?}");
    }
    // Rounded exports pass: three classes at 0.33 sum to 0.99.
    let t = read_predictions_csv(
        b"label,prediction,prob_a,prob_b,prob_c,sex\na,a,0.34,0.33,0.33,f\nb,a,0.33,0.33,0.33,m\n",
    )
    .unwrap();
    assert_eq!(t.class_names, ["a", "b", "c"]);
}

#[test]
fn a_single_group_is_nothing_to_compare() {
    let t = read_predictions_csv(b"label,prediction,site\na,a,x\nb,a,x\n").unwrap();
    let r = &t.reports(&ReportOptions {
        bootstrap: 0,
        ..ReportOptions::default()
    })[0];
    assert!(
        r.warnings.iter().any(|w| w
            == "nothing to compare: only the group 'x' has samples — the gaps and differences \
                between groups are 0 by definition"),
        "{:?}",
        r.warnings
    );
}

/// Stepping the bootstrap a few resamples at a time (as the page does, to show progress and
/// cancel) gives exactly the one-go reports.
#[test]
fn a_stepped_bootstrap_equals_the_one_go_reports() {
    let mut text = String::from("label,prediction,prob_0,prob_1,prob_2,skin,sex\n");
    for i in 0..240u32 {
        let label = i % 3;
        let pred = (i * 7 + i / 5) % 3;
        let (a, b) = (0.3, 0.2);
        let probs = match pred {
            0 => [0.5, a, b],
            1 => [a, 0.5, b],
            _ => [a, b, 0.5],
        };
        text += &format!(
            "{label},{pred},{},{},{},{},{}\n",
            probs[0],
            probs[1],
            probs[2],
            1 + i % 6,
            ["f", "m"][(i / 3 % 2) as usize]
        );
    }
    let t = read_predictions_csv(text.as_bytes()).unwrap();
    let opts = ReportOptions {
        bootstrap: 50,
        ..ReportOptions::default()
    };
    let one_go = t.reports(&opts);
    let stepped: Vec<_> = t
        .bootstrap_runs(&opts)
        .into_iter()
        .map(|mut run| {
            assert_eq!(run.total(), 50);
            while run.done() < run.total() {
                run.step(7);
            }
            run.finish()
        })
        .collect();
    assert_eq!(stepped, one_go);
    assert!(!one_go[0].intervals.is_empty());
}

/// Two attributes of many distinct values (identifier-like columns) intersect into one group per
/// pair that occurs, named by both values, not into the product of their counts (40,000² here).
#[test]
fn many_valued_attributes_intersect_into_the_pairs_that_occur() {
    let mut text = String::from("label,prediction,id,site\n");
    for i in 0..40_000 {
        text.push_str(&format!(
            "{},{},id{i},site{}\n",
            i % 2,
            (i / 2) % 2,
            39_999 - i
        ));
    }
    let t = read_predictions_csv(text.as_bytes()).unwrap();
    assert_eq!(t.groupings.len(), 3);
    let both = &t.groupings[2];
    assert_eq!(both.attribute, "id × site");
    assert_eq!(both.names.len(), 40_000);
    // Groups in the order of the pairs of (id, site) ids: names sort as strings.
    let row = 7; // id7 · site39992
    let g = both.ids[row];
    assert_eq!(both.names[g], "id7 · site39992");
    let ids: std::collections::BTreeSet<usize> = both.ids.iter().copied().collect();
    assert_eq!(ids.len(), 40_000, "one group per row here");
}
