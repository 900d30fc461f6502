//! `--set section.key=value` overrides, applied to the parsed TOML table before the typed
//! config is built, so an override is checked exactly like a line in the file.

use anyhow::{Result, bail};

/// Applies one `section.key=value` override to `table`. The value is read as a TOML value
/// (`0.2`, `true`, `"text"`, `[1, 2]`) and, failing that, as a bare string.
pub fn apply_override(table: &mut toml::Table, item: &str) -> Result<()> {
    let Some((key, raw_value)) = item.split_once('=') else {
        bail!("--set {item:?}: expected section.key=value, for example --set train.epochs=2");
    };
    let key = key.trim();
    let parts: Vec<&str> = key.split('.').collect();
    if parts.len() != 2 || parts.iter().any(|part| part.is_empty()) {
        bail!(
            "--set {item:?}: key {key:?} must have the form section.key, for example objective.temperature"
        );
    }

    let value = parse_value(raw_value.trim());
    let section = table
        .entry(parts[0].to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(section) = section.as_table_mut() else {
        bail!("--set {item:?}: {} is not a section", parts[0]);
    };
    section.insert(parts[1].to_string(), value);
    Ok(())
}

fn parse_value(raw: &str) -> toml::Value {
    let document = format!("value = {raw}");
    match toml::from_str::<toml::Table>(&document) {
        Ok(mut table) => table
            .remove("value")
            .unwrap_or(toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_parses_typed_values() {
        let mut table = toml::Table::new();
        apply_override(&mut table, "train.epochs=3").unwrap();
        apply_override(&mut table, "objective.temperature=0.05").unwrap();
        apply_override(&mut table, "model.name=some/model").unwrap();
        assert_eq!(table["train"]["epochs"].as_integer(), Some(3));
        assert_eq!(table["objective"]["temperature"].as_float(), Some(0.05));
        assert_eq!(table["model"]["name"].as_str(), Some("some/model"));
    }

    #[test]
    fn override_rejects_key_without_section() {
        let mut table = toml::Table::new();
        assert!(apply_override(&mut table, "epochs=3").is_err());
        assert!(apply_override(&mut table, "train.epochs").is_err());
    }
}
