//! CSV, TSV, JSONL and plain-text readers and the label set.

use std::path::Path;

use acf::config::DataConfig;
use acf::data::{Columns, LabelRequirement, LabelSet, load_splits, read_examples};

fn columns() -> Columns {
    Columns {
        text: "text".into(),
        text_pair: None,
        label: "label".into(),
    }
}

fn write(dir: &Path, name: &str, contents: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn csv_reads_quoted_multiline_and_unicode() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "train.csv",
        "text,label\n\"Great, truly\",pos\n\"two\nlines\",neg\n,neg\n電影很好 🎬,pos\n",
    );
    let examples = read_examples(&path, &columns(), LabelRequirement::Required).unwrap();
    assert_eq!(examples.len(), 4);
    assert_eq!(examples[0].text, "Great, truly");
    assert_eq!(examples[1].text, "two\nlines");
    assert_eq!(examples[2].text, "");
    assert_eq!(examples[3].text, "電影很好 🎬");
    assert_eq!(examples[3].label.as_deref(), Some("pos"));
}

#[test]
fn tsv_keeps_quotes_literal_and_reads_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "train.tsv",
        "label\tsentence1\tsentence2\n1\tHe said \"hi\tShe left.\n0\tA\tB\n",
    );
    let columns = Columns {
        text: "sentence1".into(),
        text_pair: Some("sentence2".into()),
        label: "label".into(),
    };
    let examples = read_examples(&path, &columns, LabelRequirement::Required).unwrap();
    assert_eq!(examples[0].text, "He said \"hi");
    assert_eq!(examples[0].text_pair.as_deref(), Some("She left."));
    assert_eq!(examples[1].label.as_deref(), Some("0"));
}

#[test]
fn jsonl_accepts_integer_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "train.jsonl",
        "{\"text\": \"a\", \"label\": 1}\n\n{\"text\": \"b\", \"label\": 0}\n",
    );
    let examples = read_examples(&path, &columns(), LabelRequirement::Required).unwrap();
    assert_eq!(examples.len(), 2);
    assert_eq!(examples[0].label.as_deref(), Some("1"));
    assert_eq!(examples[1].line, 3);
}

#[test]
fn plain_text_gives_one_example_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "input.txt", "first\n\nthird\n");
    let examples = read_examples(&path, &columns(), LabelRequirement::Optional).unwrap();
    assert_eq!(examples.len(), 3);
    assert_eq!(examples[1].text, "");
}

#[test]
fn csv_wrong_field_count_names_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "train.csv",
        "text,label\nfine,pos\nbroken,pos,extra\n",
    );
    let err = read_examples(&path, &columns(), LabelRequirement::Required)
        .unwrap_err()
        .to_string();
    assert!(err.contains("train.csv:3"), "{err}");
    assert!(err.contains("3 fields but the header has 2"), "{err}");
}

#[test]
fn empty_label_names_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "train.csv", "text,label\nfine,pos\nno label,\n");
    let err = read_examples(&path, &columns(), LabelRequirement::Required)
        .unwrap_err()
        .to_string();
    assert!(err.contains("train.csv:3"), "{err}");
    assert!(err.contains("label is missing or empty"), "{err}");
}

#[test]
fn jsonl_missing_label_names_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "train.jsonl",
        "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\"}\n",
    );
    let err = read_examples(&path, &columns(), LabelRequirement::Required)
        .unwrap_err()
        .to_string();
    assert!(err.contains("train.jsonl:2"), "{err}");
}

#[test]
fn header_only_file_has_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "train.csv", "text,label\n");
    let err = read_examples(&path, &columns(), LabelRequirement::Required)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no data rows"), "{err}");
}

#[test]
fn empty_file_has_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "train.csv", "");
    let err = read_examples(&path, &columns(), LabelRequirement::Required)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no data rows"), "{err}");
}

#[test]
fn missing_text_column_lists_headers() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "train.csv", "sentence,label\na,b\n");
    let err = read_examples(&path, &columns(), LabelRequirement::Required)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("text column \"text\" not found among [sentence, label]"),
        "{err}"
    );
}

#[test]
fn label_set_orders_integers_numerically() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "train.csv", "text,label\na,10\nb,2\nc,1\nd,2\n");
    let examples = read_examples(&path, &columns(), LabelRequirement::Required).unwrap();
    let labels = LabelSet::from_examples(&examples);
    assert_eq!(labels.names, vec!["1", "2", "10"]);
    assert_eq!(labels.encode(&examples, &path).unwrap(), vec![2, 1, 0, 1]);
}

#[test]
fn unknown_label_names_file_line_and_choices() {
    let dir = tempfile::tempdir().unwrap();
    let train = write(
        dir.path(),
        "train.csv",
        "text,label\na,negative\nb,positive\n",
    );
    let validation = write(
        dir.path(),
        "validation.csv",
        "text,label\nc,positive\nd,postive\n",
    );
    let labels = LabelSet::from_examples(
        &read_examples(&train, &columns(), LabelRequirement::Required).unwrap(),
    );
    let examples = read_examples(&validation, &columns(), LabelRequirement::Required).unwrap();
    let err = labels
        .encode(&examples, &validation)
        .unwrap_err()
        .to_string();
    assert!(err.contains("validation.csv:3: label \"postive\" is not one of the training labels [negative, positive]"), "{err}");
}

#[test]
fn max_samples_keep_first_examples() {
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..10).map(|i| format!("text {i},{}\n", i % 2)).collect();
    let train = write(dir.path(), "train.csv", &format!("text,label\n{rows}"));
    let validation = write(dir.path(), "validation.csv", &format!("text,label\n{rows}"));
    let config = DataConfig {
        train: Some(train),
        validation: Some(validation),
        max_train_samples: Some(4),
        max_eval_samples: Some(3),
        ..DataConfig::default()
    };
    let splits = load_splits(&config, 42, None).unwrap();
    let texts = |examples: &[acf::data::TextExample]| -> Vec<String> {
        examples
            .iter()
            .map(|example| example.text.clone())
            .collect()
    };
    assert_eq!(
        texts(&splits.train.examples),
        ["text 0", "text 1", "text 2", "text 3"]
    );
    assert_eq!(splits.train.labels, [0, 1, 0, 1]);
    let validation = splits.validation.unwrap();
    assert_eq!(texts(&validation.examples), ["text 0", "text 1", "text 2"]);
    assert_eq!(validation.labels, [0, 1, 0]);
}
