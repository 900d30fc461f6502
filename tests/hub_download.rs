//! Hub resolution: downloading a hub id into the Hugging Face cache layout from a hub
//! endpoint (a loopback server serving the real MiniLM files), and the errors when the
//! hub is offline or unreachable.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// Serves `root/{path}` for `GET /{path}` on loopback, with the commit header the hub sends.
fn serve(root: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                    break;
                }
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_string();
            match std::fs::read(root.join(&path)) {
                Ok(body) => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Repo-Commit: {COMMIT}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream
                        .write_all(head.as_bytes())
                        .and_then(|()| stream.write_all(&body));
                }
                Err(_) => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
        }
    });
    port
}

fn embed(dir: &Path, env: &[(&str, String)]) -> Output {
    std::fs::write(dir.join("input.txt"), "a short review\n").unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_acf"));
    command
        .args([
            "embed",
            "--model",
            common::MODEL,
            "--input",
            "input.txt",
            "--output",
            "out.jsonl",
            "--backend",
            "cpu",
        ])
        .current_dir(dir)
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HF_HOME");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[test]
fn hub_id_downloads_into_cache_layout() {
    let source = acf::model::PretrainedFiles::resolve(common::MODEL)
        .unwrap()
        .dir;
    let dir = tempfile::tempdir().unwrap();
    let served = dir
        .path()
        .join("hub")
        .join(common::MODEL)
        .join("resolve/main");
    for file in [
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "1_Pooling/config.json",
        "sentence_bert_config.json",
    ] {
        std::fs::create_dir_all(served.join(file).parent().unwrap()).unwrap();
        std::fs::copy(source.join(file), served.join(file)).unwrap();
    }
    let port = serve(dir.path().join("hub"));
    let cache = dir.path().join("cache");

    let output = embed(
        dir.path(),
        &[
            ("HF_ENDPOINT", format!("http://127.0.0.1:{port}")),
            ("HF_HUB_CACHE", cache.display().to_string()),
        ],
    );
    assert!(
        output.status.success(),
        "embed failed: {}",
        common::stderr(&output)
    );

    let repo = cache.join("models--sentence-transformers--all-MiniLM-L6-v2");
    assert_eq!(
        std::fs::read_to_string(repo.join("refs/main")).unwrap(),
        COMMIT
    );
    let snapshot = repo.join("snapshots").join(COMMIT);
    assert_eq!(
        std::fs::read(snapshot.join("model.safetensors")).unwrap(),
        std::fs::read(source.join("model.safetensors")).unwrap()
    );
    assert!(snapshot.join("1_Pooling/config.json").is_file());
    let line = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert!(line.contains("\"embedding\""));
}

#[test]
fn offline_hub_id_explains_how_to_provide_files() {
    let dir = tempfile::tempdir().unwrap();
    let output = embed(
        dir.path(),
        &[
            ("HF_HUB_OFFLINE", "1".into()),
            (
                "HF_HUB_CACHE",
                dir.path().join("empty-cache").display().to_string(),
            ),
        ],
    );
    assert!(!output.status.success());
    let message = common::stderr(&output);
    assert!(message.contains("HF_HUB_OFFLINE is set"), "{message}");
    assert!(
        message.contains("huggingface-cli download sentence-transformers/all-MiniLM-L6-v2"),
        "{message}"
    );
}

#[test]
fn unreachable_hub_explains_how_to_provide_files() {
    let dir = tempfile::tempdir().unwrap();
    // Bind and drop a listener so that nothing accepts on the port.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = embed(
        dir.path(),
        &[
            ("HF_ENDPOINT", format!("http://127.0.0.1:{port}")),
            (
                "HF_HUB_CACHE",
                dir.path().join("empty-cache").display().to_string(),
            ),
        ],
    );
    assert!(!output.status.success());
    let message = common::stderr(&output);
    assert!(message.contains("the hub is not reachable"), "{message}");
    assert!(message.contains("scripts/setup"), "{message}");
    assert!(
        !dir.path()
            .join("empty-cache/models--sentence-transformers--all-MiniLM-L6-v2/snapshots")
            .exists()
    );
}
