//! The dataset readers on small fixture folders in each real layout, written by the tests.

use std::path::{Path, PathBuf};

use fairscreen_datasets::{
    load_images, read_fitzpatrick17k, read_isic2019, read_labelled_folder, DatasetError, OnBadRow,
    UnknownFitzpatrick,
};
use image::{Rgb, RgbImage};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fairscreen-datasets-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes a solid-colour 12×8 image (JPEG or PNG by extension).
fn write_image(path: &Path, colour: [u8; 3]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    RgbImage::from_pixel(12, 8, Rgb(colour)).save(path).unwrap();
}

const ISIC_HEADER: &str = "image,age_approx,anatom_site_general,lesion_id,sex,no_mask_ITA_label,ycbcr_mask_ITA_label,MEL,NV,BCC,AK,BKL,DF,VASC,SCC,UNK,label,low,gender,not_gender,fitzpatrick,color_1,color_2,color_3,color_4,color_5,color_6,age_binary,not_age_binary";

/// One ISIC row: class index → one-hot columns; `fitz` 1–6.
fn isic_row(image: &str, age: &str, sex: &str, class: usize, fitz: &str) -> String {
    let hot: Vec<&str> = (0..8)
        .map(|k| if k == class { "1.0" } else { "0.0" })
        .collect();
    let gender = if sex == "male" { "1" } else { "0" };
    format!(
        "{image},{age},anterior torso,IL_{image},{sex},2,{fitz},{},0.0,{class},{class},{gender},0,{fitz},0,0,0,0,0,0,1,0",
        hot.join(",")
    )
}

fn isic_fixture(name: &str, rows: &[String]) -> (PathBuf, PathBuf) {
    let root = temp_dir(name);
    for r in rows {
        let image = r.split(',').next().unwrap();
        if !image.contains("MISSING") {
            write_image(
                &root
                    .join("ISIC_2019_Training_Input")
                    .join(format!("{image}.jpg")),
                [200, 120, 90],
            );
        }
    }
    let csv = root.join("isic2019_test_pretraining.csv");
    std::fs::write(&csv, format!("{ISIC_HEADER}\n{}\n", rows.join("\n"))).unwrap();
    (csv, root)
}

#[test]
fn isic2019_rows_parse_to_classes_sexes_ages_and_types() {
    let (csv, root) = isic_fixture(
        "isic-ok",
        &[
            isic_row("ISIC_0000000", "55.0", "female", 1, "2"),
            isic_row("ISIC_0000001", "30.0", "male", 0, "5"),
            isic_row("ISIC_0000002", "", "", 2, "3"),
            isic_row("ISIC_0000003", "", "male", 7, ""),
        ],
    );
    let d = read_isic2019(&csv, &root, OnBadRow::Fail).unwrap();
    assert_eq!(
        d.class_names,
        ["MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC"]
    );
    let got: Vec<_> = d
        .items
        .iter()
        .map(|i| (i.label, i.sex, i.age, i.skin_type, i.skin_group, i.line))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Some(0), Some(55), Some(2), Some(0), 2),
            (0, Some(1), Some(30), Some(5), Some(1), 3),
            (7, Some(1), None, None, None, 5),
        ]
    );
    assert_eq!(d.report.rows, 4);
    assert_eq!(d.report.kept, 3);
    assert_eq!(d.report.dropped_no_sex, 1);
    assert_eq!(d.report.unknown_skin_type, 1);
    assert!(d.items[0]
        .path
        .ends_with("ISIC_2019_Training_Input/ISIC_0000000.jpg"));
}

#[test]
fn isic2019_bad_rows_are_reported_with_their_line() {
    let mut two_hot = isic_row("ISIC_0000011", "40", "male", 0, "2");
    two_hot = two_hot.replacen(",0.0,", ",1.0,", 1); // NV set too
    let (csv, root) = isic_fixture(
        "isic-bad",
        &[
            isic_row("ISIC_0000010", "abc", "female", 1, "2"),
            two_hot,
            isic_row("ISIC_MISSING", "40", "male", 0, "2"),
            isic_row("ISIC_0000013", "40", "unknown", 0, "2"),
            isic_row("ISIC_0000014", "40", "male", 0, "7"),
            isic_row("ISIC_0000015", "40", "male", 3, "4"),
        ],
    );
    let e = read_isic2019(&csv, &root, OnBadRow::Fail).unwrap_err();
    match &e {
        DatasetError::Row(p) => {
            assert_eq!(p.line, 2);
            assert!(p.message.contains("age 'abc'"), "{}", p.message);
        }
        e => panic!("expected a row error, got {e}"),
    }
    assert!(
        e.to_string()
            .ends_with(":2: age 'abc' is not a number of years in 0–120"),
        "{e}"
    );
    let d = read_isic2019(&csv, &root, OnBadRow::Skip).unwrap();
    assert_eq!(d.items.len(), 1);
    assert_eq!(d.items[0].label, 3);
    let lines: Vec<_> = d.report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6]);
    let msgs: Vec<_> = d
        .report
        .problems
        .iter()
        .map(|p| p.message.as_str())
        .collect();
    assert!(msgs[1].contains("hold 2 ones"), "{}", msgs[1]);
    assert!(
        msgs[2].contains("ISIC_MISSING.jpg not found"),
        "{}",
        msgs[2]
    );
    assert!(msgs[3].contains("sex 'unknown'"), "{}", msgs[3]);
    assert!(msgs[4].contains("skin type '7'"), "{}", msgs[4]);
}

#[test]
fn isic2019_missing_column_is_named() {
    let root = temp_dir("isic-col");
    let csv = root.join("x.csv");
    std::fs::write(
        &csv,
        "image,age_approx,MEL,NV,BCC,AK,BKL,DF,VASC,SCC\nISIC_1,50,1,0,0,0,0,0,0,0\n",
    )
    .unwrap();
    let e = read_isic2019(&csv, &root, OnBadRow::Skip).unwrap_err();
    assert_eq!(
        e,
        DatasetError::MissingColumn {
            file: csv.clone(),
            column: "sex".into()
        }
    );
    assert!(e
        .to_string()
        .ends_with("x.csv:1: the header has no 'sex' column"));
}

const FITZ_HEADER: &str = ",index,md5hash,fitzpatrick,label,nine_partition_label,three_partition_label,qc,url,url_alphanum,low,mid,high,hasher,image_path";

fn fitz_row(k: usize, hash: &str, fitz: &str, three: &str, high: usize) -> String {
    format!(
        "{k},{k},{hash},{fitz},psoriasis,inflammatory,{three},,https://example.org/{hash}.jpg,httpsexampleorg,80,5,{high},{hash},{hash}.jpg"
    )
}

fn fitz_fixture(name: &str, rows: &[String]) -> (PathBuf, PathBuf) {
    let root = temp_dir(name);
    for r in rows {
        let hash = r.split(',').nth(2).unwrap();
        if hash != "missingimage" {
            write_image(&root.join(format!("{hash}.jpg")), [120, 80, 60]);
        }
    }
    let csv = root.join("fitzpatrick17k_test.csv");
    std::fs::write(&csv, format!("{FITZ_HEADER}\n{}\n", rows.join("\n"))).unwrap();
    (csv, root)
}

#[test]
fn fitzpatrick17k_groups_and_unknown_types_under_both_options() {
    let rows = [
        fitz_row(0, "aaa", "1", "benign", 0),
        fitz_row(1, "bbb", "4", "malignant", 1),
        fitz_row(2, "ccc", "-1", "non-neoplastic", 2),
        fitz_row(3, "ddd", "6", "non-neoplastic", 2),
    ];
    let (csv, root) = fitz_fixture("fitz-ok", &rows);
    let dark =
        read_fitzpatrick17k(&csv, &root, UnknownFitzpatrick::DarkGroup, OnBadRow::Fail).unwrap();
    assert_eq!(dark.class_names, ["benign", "malignant", "non-neoplastic"]);
    let got: Vec<_> = dark
        .items
        .iter()
        .map(|i| (i.label, i.skin_type, i.skin_group, i.sex))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, Some(1), Some(0), None),
            (1, Some(4), Some(1), None),
            (2, None, Some(1), None),
            (2, Some(6), Some(1), None),
        ]
    );
    assert_eq!(dark.report.unknown_skin_type, 1);
    assert_eq!(dark.report.dropped_unknown_skin_type, 0);
    assert!(dark.items[2].path.ends_with("ccc.jpg"));

    let dropped =
        read_fitzpatrick17k(&csv, &root, UnknownFitzpatrick::Drop, OnBadRow::Fail).unwrap();
    assert_eq!(dropped.items.len(), 3);
    assert_eq!(dropped.report.unknown_skin_type, 1);
    assert_eq!(dropped.report.dropped_unknown_skin_type, 1);
    assert_eq!(dropped.report.kept, 3);
}

#[test]
fn fitzpatrick17k_bad_rows_have_their_own_messages() {
    let rows = [
        fitz_row(0, "aaa", "7", "benign", 0),
        fitz_row(1, "bbb", "2", "precancerous", 1),
        fitz_row(2, "missingimage", "2", "benign", 0),
        fitz_row(3, "ddd", "2", "benign", 1),
        fitz_row(4, "eee", "3", "benign", 0),
    ];
    let (csv, root) = fitz_fixture("fitz-bad", &rows);
    let d =
        read_fitzpatrick17k(&csv, &root, UnknownFitzpatrick::DarkGroup, OnBadRow::Skip).unwrap();
    assert_eq!(d.items.len(), 1);
    let p: Vec<_> = d
        .report
        .problems
        .iter()
        .map(|p| (p.line, p.message.clone()))
        .collect();
    assert_eq!(
        p[0],
        (2, "fitzpatrick '7' is not −1 or a type 1–6".to_string())
    );
    assert_eq!(
        p[1],
        (
            3,
            "unknown class 'precancerous' (expected benign, malignant, non-neoplastic)".to_string()
        )
    );
    assert_eq!(p[2].0, 4);
    assert!(p[2].1.contains("missingimage.jpg not found"));
    assert_eq!(
        p[3],
        (
            5,
            "three_partition_label 'benign' disagrees with high = 1".to_string()
        )
    );
    let e = read_fitzpatrick17k(&csv, &root, UnknownFitzpatrick::Drop, OnBadRow::Fail).unwrap_err();
    assert!(matches!(e, DatasetError::Row(ref p) if p.line == 2), "{e}");
}

#[test]
fn a_labelled_folder_parses_with_optional_columns() {
    let dir = temp_dir("folder-ok");
    for (f, c) in [
        ("a.png", [10, 20, 30]),
        ("b.jpg", [200, 100, 50]),
        ("sub/c.png", [1, 2, 3]),
    ] {
        write_image(&dir.join(f), c);
    }
    std::fs::write(
        dir.join("labels.csv"),
        "file,label,skin_type,sex,age,extra\na.png,malignant,5,male,61,x\nb.jpg,benign,,,,y\nsub/c.png,non-neoplastic,2,f,33,z\n",
    )
    .unwrap();
    let d = read_labelled_folder(&dir, None, OnBadRow::Fail).unwrap();
    assert_eq!(d.class_names, ["benign", "malignant", "non-neoplastic"]);
    let got: Vec<_> = d
        .items
        .iter()
        .map(|i| (i.label, i.skin_type, i.skin_group, i.sex, i.age))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Some(5), Some(1), Some(1), Some(61)),
            (0, None, None, None, None),
            (2, Some(2), Some(0), Some(0), Some(33)),
        ]
    );
    // Other label sets are sorted; integer labels need given class names.
    std::fs::write(
        dir.join("labels.csv"),
        "file,label\na.png,zeta\nb.jpg,alpha\nsub/c.png,1\n",
    )
    .unwrap();
    let d = read_labelled_folder(&dir, None, OnBadRow::Skip).unwrap();
    assert_eq!(d.class_names, ["1", "alpha", "zeta"]);
    let names = vec!["alpha".to_string(), "zeta".to_string()];
    let d = read_labelled_folder(&dir, Some(&names), OnBadRow::Fail).unwrap();
    assert_eq!(
        d.items.iter().map(|i| i.label).collect::<Vec<_>>(),
        vec![1, 0, 1]
    );
}

#[test]
fn a_labelled_folder_reports_each_bad_row() {
    let dir = temp_dir("folder-bad");
    write_image(&dir.join("a.png"), [9, 9, 9]);
    std::fs::write(
        dir.join("labels.csv"),
        "file,label,skin_type,sex,age\na.png,benign,1,male,40\nnope.png,benign,1,male,40\na.png,benign,x,male,40\na.png,benign,1,male,200\na.png,benign,1,other,40\na.png,benign,1\n",
    )
    .unwrap();
    let names = vec!["benign".to_string(), "malignant".to_string()];
    let d = read_labelled_folder(&dir, Some(&names), OnBadRow::Skip).unwrap();
    assert_eq!(d.items.len(), 1);
    let p: Vec<_> = d
        .report
        .problems
        .iter()
        .map(|p| (p.line, p.message.clone()))
        .collect();
    assert_eq!(p[0].0, 3);
    assert!(p[0].1.contains("nope.png not found"));
    assert_eq!(
        p[1],
        (4, "skin type 'x' is not a Fitzpatrick type 1–6".to_string())
    );
    assert_eq!(
        p[2],
        (
            5,
            "age '200' is not a whole number of years in 0–120".to_string()
        )
    );
    assert_eq!(
        p[3],
        (
            6,
            "sex 'other' is not female/male (f/m, 0/1) or empty".to_string()
        )
    );
    assert_eq!(p[4], (7, "3 fields, the header has 5".to_string()));
    // Missing column; empty file.
    std::fs::write(dir.join("labels.csv"), "file,skin_type\na.png,1\n").unwrap();
    let e = read_labelled_folder(&dir, None, OnBadRow::Skip).unwrap_err();
    assert!(matches!(e, DatasetError::MissingColumn { ref column, .. } if column == "label"));
    std::fs::write(dir.join("labels.csv"), "file,label\n").unwrap();
    let e = read_labelled_folder(&dir, None, OnBadRow::Skip).unwrap_err();
    assert!(matches!(e, DatasetError::Empty { .. }), "{e}");
    let e = read_labelled_folder(&temp_dir("folder-none"), None, OnBadRow::Skip).unwrap_err();
    assert!(e.to_string().starts_with("cannot read"), "{e}");
}

#[test]
fn images_load_resized_and_unreadable_ones_are_reported() {
    let dir = temp_dir("folder-load");
    write_image(&dir.join("a.png"), [200, 100, 50]);
    std::fs::write(dir.join("b.png"), b"not an image at all").unwrap();
    std::fs::write(
        dir.join("labels.csv"),
        "file,label\na.png,benign\nb.png,malignant\n",
    )
    .unwrap();
    let d = read_labelled_folder(&dir, None, OnBadRow::Fail).unwrap();
    let mut calls = 0;
    let loaded = load_images(&d, 16, OnBadRow::Skip, |_, _| calls += 1).unwrap();
    let (images, kept, problems) = (loaded.images, loaded.items, loaded.problems);
    assert_eq!(calls, 2);
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].dimensions(), (16, 16));
    assert_eq!(images[0].get_pixel(7, 7).0, [200, 100, 50]);
    assert_eq!(kept[0].label, 0);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 3);
    assert!(problems[0].file.ends_with("labels.csv"));
    assert!(
        problems[0].message.contains("b.png")
            && problems[0]
                .message
                .contains("this is text, which FairScreen cannot read"),
        "{}",
        problems[0].message
    );
    let e = load_images(&d, 16, OnBadRow::Fail, |_, _| {}).unwrap_err();
    assert!(matches!(e, DatasetError::Row(ref p) if p.line == 3));
}

#[test]
fn fitzpatrick17k_falls_back_to_high_and_md5hash_and_names_missing_columns() {
    let root = temp_dir("fitz-fallback");
    write_image(&root.join("m1.jpg"), [1, 1, 1]);
    write_image(&root.join("m2.jpg"), [2, 2, 2]);
    let csv = root.join("no_text.csv");
    // No three_partition_label: the class comes from `high` ("2.0" as pandas may write it);
    // an empty `hasher` falls back to `md5hash`.
    std::fs::write(
        &csv,
        "md5hash,fitzpatrick,high,hasher\nm1,3,2.0,\nm2,-1,1,m2\nm1,2,3,\n",
    )
    .unwrap();
    let d =
        read_fitzpatrick17k(&csv, &root, UnknownFitzpatrick::DarkGroup, OnBadRow::Skip).unwrap();
    let got: Vec<_> = d
        .items
        .iter()
        .map(|i| (i.label, i.skin_type, i.skin_group, i.line))
        .collect();
    assert_eq!(got, vec![(2, Some(3), Some(0), 2), (1, None, Some(1), 3)]);
    assert!(d.items[0].path.ends_with("m1.jpg"));
    assert_eq!(d.report.rows, 3);
    assert_eq!(d.report.kept, 2);
    assert_eq!(d.report.problems.len(), 1);
    assert_eq!(
        d.report.problems[0].to_string(),
        format!("{}:4: 'high' label '3' is not 0, 1 or 2", csv.display())
    );

    std::fs::write(&csv, "md5hash,high,hasher\nm1,2,m1\n").unwrap();
    let e = read_fitzpatrick17k(&csv, &root, UnknownFitzpatrick::Drop, OnBadRow::Skip).unwrap_err();
    assert_eq!(
        e,
        DatasetError::MissingColumn {
            file: csv.clone(),
            column: "fitzpatrick".into()
        }
    );
    std::fs::write(&csv, "md5hash,fitzpatrick,hasher\nm1,2,m1\n").unwrap();
    let e = read_fitzpatrick17k(&csv, &root, UnknownFitzpatrick::Drop, OnBadRow::Skip).unwrap_err();
    assert!(
        matches!(e, DatasetError::MissingColumn { ref column, .. } if column == "three_partition_label"),
        "{e}"
    );
}

#[test]
fn fitzpatrick17k_all_unknown_dropped_is_empty() {
    let rows = [fitz_row(0, "aaa", "-1", "benign", 0)];
    let (csv, root) = fitz_fixture("fitz-empty", &rows);
    let e = read_fitzpatrick17k(&csv, &root, UnknownFitzpatrick::Drop, OnBadRow::Skip).unwrap_err();
    assert_eq!(e, DatasetError::Empty { file: csv.clone() });
    assert!(e.to_string().contains("no usable rows"), "{e}");
}

#[test]
fn a_labelled_folder_fails_on_its_first_bad_row() {
    let dir = temp_dir("folder-fail");
    write_image(&dir.join("a.png"), [9, 9, 9]);
    std::fs::write(
        dir.join("labels.csv"),
        "label,file\nbenign,a.png\nmelanoma,a.png\nbenign,a.png\n",
    )
    .unwrap();
    let names = vec!["benign".to_string(), "malignant".to_string()];
    let e = read_labelled_folder(&dir, Some(&names), OnBadRow::Fail).unwrap_err();
    assert_eq!(
        e,
        DatasetError::Row(fairscreen_datasets::RowProblem {
            file: dir.join("labels.csv"),
            line: 3,
            message: "unknown class 'melanoma' (expected one of benign, malignant)".into(),
        })
    );
    // An integer label must index the given class names.
    std::fs::write(dir.join("labels.csv"), "file,label\na.png,0\na.png,2\n").unwrap();
    let d = read_labelled_folder(&dir, Some(&names), OnBadRow::Skip).unwrap();
    assert_eq!(d.items.len(), 1);
    assert_eq!(d.items[0].label, 0);
    assert_eq!(d.report.problems[0].line, 3);
    // A zero-byte labels.csv has no rows at all.
    std::fs::write(dir.join("labels.csv"), "").unwrap();
    let e = read_labelled_folder(&dir, None, OnBadRow::Skip).unwrap_err();
    assert!(matches!(e, DatasetError::Empty { .. }), "{e}");
}

#[test]
fn line_numbers_count_quoted_fields_that_span_lines() {
    let dir = temp_dir("folder-multiline");
    write_image(&dir.join("a.png"), [9, 9, 9]);
    std::fs::write(
        dir.join("labels.csv"),
        "file,label,note\na.png,benign,\"two\nlines\"\na.png,benign,x,extra\na.png,benign,\"a\nb\nc\"\nmissing.png,benign,y\n",
    )
    .unwrap();
    let d = read_labelled_folder(&dir, None, OnBadRow::Skip).unwrap();
    assert_eq!(
        d.items.iter().map(|i| i.line).collect::<Vec<_>>(),
        vec![2, 5]
    );
    let p: Vec<_> = d
        .report
        .problems
        .iter()
        .map(|p| (p.line, p.message.clone()))
        .collect();
    assert_eq!(p[0], (4, "4 fields, the header has 3".to_string()));
    assert_eq!(p[1].0, 8);
    assert!(p[1].1.contains("missing.png not found"), "{}", p[1].1);
}

#[test]
fn isic2019_minimal_columns_with_integer_one_hot() {
    let root = temp_dir("isic-min");
    write_image(
        &root.join("ISIC_2019_Training_Input").join("ISIC_1.jpg"),
        [5, 5, 5],
    );
    let csv = root.join("min.csv");
    // Only the required columns, in another order; one-hot written as integers. A row without
    // sex is dropped before its other fields are checked.
    std::fs::write(
        &csv,
        "SCC,VASC,DF,BKL,AK,BCC,NV,MEL,sex,image\n0,0,0,0,0,1,0,0,male,ISIC_1\n0,0,0,0,0,0,0,0,,ISIC_2\n0,0,0,0,0,0,0,0,female,ISIC_1\n",
    )
    .unwrap();
    let d = read_isic2019(&csv, &root, OnBadRow::Skip).unwrap();
    let got: Vec<_> = d
        .items
        .iter()
        .map(|i| (i.label, i.sex, i.age, i.skin_type, i.skin_group))
        .collect();
    assert_eq!(got, vec![(2, Some(1), None, None, None)]);
    assert_eq!(d.report.rows, 3);
    assert_eq!(d.report.kept, 1);
    assert_eq!(d.report.dropped_no_sex, 1);
    assert_eq!(d.report.problems.len(), 1);
    assert_eq!(
        d.report.problems[0].message,
        "the class columns MEL/NV/BCC/AK/BKL/DF/VASC/SCC hold 0 ones (expected exactly one)"
    );
    assert_eq!(d.report.problems[0].line, 4);
    let e = read_isic2019(&csv, &root, OnBadRow::Fail).unwrap_err();
    assert!(matches!(e, DatasetError::Row(ref p) if p.line == 4), "{e}");
}
