//! Readers for labelled text in CSV, TSV (GLUE style) and JSONL, plus plain text files
//! (one example a line) for prediction and embedding inputs.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// One example as read from a file, before tokenisation.
#[derive(Debug, Clone, PartialEq)]
pub struct TextExample {
    pub text: String,
    /// Second segment of a sentence-pair task (MRPC, RTE, ...).
    pub text_pair: Option<String>,
    /// Raw label as written in the file; integers are kept as their decimal text.
    pub label: Option<String>,
    /// 1-based line of the example in its file, for error messages.
    pub line: usize,
}

/// Column names to read, from the `[data]` config section.
#[derive(Debug, Clone)]
pub struct Columns {
    pub text: String,
    pub text_pair: Option<String>,
    pub label: String,
}

/// Whether rows must carry a label (training and evaluation) or may omit it (prediction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelRequirement {
    Required,
    Optional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Tsv,
    Jsonl,
    PlainText,
}

fn detect_format(path: &Path) -> Result<Format> {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match extension.as_str() {
        "csv" => Ok(Format::Csv),
        "tsv" => Ok(Format::Tsv),
        "jsonl" | "ndjson" => Ok(Format::Jsonl),
        "txt" => Ok(Format::PlainText),
        other => bail!(
            "{}: unknown data format {other:?}; use a .csv, .tsv, .jsonl or .txt file",
            path.display()
        ),
    }
}

/// Reads every example of `path`, choosing the format by extension. A file without rows,
/// a row with the wrong number of fields, or a missing or empty label (when required) is
/// an error naming the file and line.
pub fn read_examples(
    path: &Path,
    columns: &Columns,
    labels: LabelRequirement,
) -> Result<Vec<TextExample>> {
    if !path.exists() {
        bail!(
            "{}: data file not found; check the path in [data]",
            path.display()
        );
    }
    let examples = match detect_format(path)? {
        Format::Csv => read_delimited(path, b',', true, columns, labels)?,
        // GLUE's TSV files contain unbalanced quote characters inside sentences, so quotes
        // are literal text there, as in the GLUE loaders.
        Format::Tsv => read_delimited(path, b'\t', false, columns, labels)?,
        Format::Jsonl => read_jsonl(path, columns, labels)?,
        Format::PlainText => read_plain_text(path, labels)?,
    };
    if examples.is_empty() {
        bail!(
            "{}: no data rows; the file needs a header and at least one example",
            path.display()
        );
    }
    Ok(examples)
}

fn read_delimited(
    path: &Path,
    delimiter: u8,
    quoting: bool,
    columns: &Columns,
    labels: LabelRequirement,
) -> Result<Vec<TextExample>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quoting(quoting)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}:1: cannot read the header row", path.display()))?
        .clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        bail!("{}: no data rows; the file is empty", path.display());
    }

    let find = |name: &str| headers.iter().position(|header| header == name);
    let header_list = headers.iter().collect::<Vec<_>>().join(", ");
    let Some(text_index) = find(&columns.text) else {
        bail!(
            "{}:1: text column {:?} not found among [{header_list}]; set data.text_column",
            path.display(),
            columns.text
        );
    };
    let pair_index = match &columns.text_pair {
        Some(name) => Some(find(name).with_context(|| {
            format!(
                "{}:1: text pair column {name:?} not found among [{header_list}]; set data.text_pair_column",
                path.display()
            )
        })?),
        None => None,
    };
    let label_index = find(&columns.label);
    if label_index.is_none() && labels == LabelRequirement::Required {
        bail!(
            "{}:1: label column {:?} not found among [{header_list}]; set data.label_column",
            path.display(),
            columns.label
        );
    }

    let mut examples = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: cannot read row", path.display()))?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.len() != headers.len() {
            let hint = if quoting {
                "quote fields that contain the delimiter or line breaks"
            } else {
                "remove tab characters inside fields"
            };
            bail!(
                "{}:{line}: row has {} fields but the header has {}; {hint}",
                path.display(),
                record.len(),
                headers.len()
            );
        }
        let label = label_index.map(|index| record[index].trim().to_string());
        let label = check_label(path, line, label, &columns.label, labels)?;
        examples.push(TextExample {
            text: record[text_index].to_string(),
            text_pair: pair_index.map(|index| record[index].to_string()),
            label,
            line,
        });
    }
    Ok(examples)
}

fn check_label(
    path: &Path,
    line: usize,
    label: Option<String>,
    column: &str,
    labels: LabelRequirement,
) -> Result<Option<String>> {
    match (label, labels) {
        (Some(label), _) if !label.is_empty() => Ok(Some(label)),
        (_, LabelRequirement::Optional) => Ok(None),
        (_, LabelRequirement::Required) => bail!(
            "{}:{line}: label is missing or empty in column {column:?}; every training and evaluation row needs a label",
            path.display()
        ),
    }
}

fn read_jsonl(
    path: &Path,
    columns: &Columns,
    labels: LabelRequirement,
) -> Result<Vec<TextExample>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut examples = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line = index + 1;
        if raw_line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(raw_line)
            .map_err(|err| anyhow::anyhow!("{}:{line}: invalid JSON: {err}", path.display()))?;
        let Some(object) = value.as_object() else {
            bail!("{}:{line}: expected a JSON object per line", path.display());
        };

        let field_text = |name: &str| -> Result<Option<String>> {
            match object.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(text)) => Ok(Some(text.clone())),
                Some(serde_json::Value::Number(number)) => Ok(Some(number.to_string())),
                Some(serde_json::Value::Bool(flag)) => Ok(Some(flag.to_string())),
                Some(other) => bail!(
                    "{}:{line}: field {name:?} must be a string or number, found {other}",
                    path.display()
                ),
            }
        };

        let Some(text_value) = field_text(&columns.text)? else {
            bail!(
                "{}:{line}: text field {:?} is missing; set data.text_column",
                path.display(),
                columns.text
            );
        };
        let text_pair = match &columns.text_pair {
            Some(name) => Some(field_text(name)?.with_context(|| {
                format!(
                    "{}:{line}: text pair field {name:?} is missing",
                    path.display()
                )
            })?),
            None => None,
        };
        let label = field_text(&columns.label)?.map(|label| label.trim().to_string());
        let label = check_label(path, line, label, &columns.label, labels)?;
        examples.push(TextExample {
            text: text_value,
            text_pair,
            label,
            line,
        });
    }
    Ok(examples)
}

fn read_plain_text(path: &Path, labels: LabelRequirement) -> Result<Vec<TextExample>> {
    if labels == LabelRequirement::Required {
        bail!(
            "{}: a .txt file has no labels; use CSV, TSV or JSONL with a label column",
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .enumerate()
        .map(|(index, line)| TextExample {
            text: line.to_string(),
            text_pair: None,
            label: None,
            line: index + 1,
        })
        .collect())
}
