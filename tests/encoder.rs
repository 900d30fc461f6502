//! The BERT encoder and tokenizer against stored sentence-transformers outputs for
//! all-MiniLM-L6-v2 (tests/fixtures/minilm_reference.json, made by
//! scripts/reference/make_encoder_reference.py), through `acf embed`.

mod common;

use std::collections::HashMap;

use acf::model::{PretrainedFiles, TextTokenizer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    max_seq_length: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    input_ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn fixture() -> Fixture {
    let path = common::repo_root().join("tests/fixtures/minilm_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn tokenizer_matches_transformers_ids() {
    let fixture = fixture();
    let files = PretrainedFiles::resolve(common::MODEL).unwrap();
    assert_eq!(files.max_seq_length, Some(fixture.max_seq_length));
    let tokenizer =
        TextTokenizer::from_file(&files.tokenizer_path(), fixture.max_seq_length).unwrap();
    for case in &fixture.cases {
        let encoded = tokenizer.encode(&[(case.text.as_str(), None)]).unwrap();
        assert_eq!(
            encoded[0].input_ids, case.input_ids,
            "ids of {:?}",
            case.text
        );
    }
}

fn check_embed(backend: &str) {
    let fixture = fixture();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("texts.jsonl");
    let lines: Vec<String> = fixture
        .cases
        .iter()
        .map(|case| serde_json::json!({"text": case.text}).to_string())
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let output = dir.path().join("embeddings.jsonl");

    let result = common::acf(
        dir.path(),
        &[
            "embed",
            "--model",
            common::MODEL,
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
            "--backend",
            backend,
            "--batch-size",
            "3",
        ],
    );
    assert!(
        result.status.success(),
        "acf embed failed: {}",
        common::stderr(&result)
    );

    let produced: HashMap<String, Vec<f32>> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let embedding = value["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            (value["text"].as_str().unwrap().to_string(), embedding)
        })
        .collect();
    assert_eq!(produced.len(), fixture.cases.len());
    for case in &fixture.cases {
        let embedding = &produced[&case.text];
        let similarity = cosine(embedding, &case.embedding);
        assert!(
            similarity >= 0.9999,
            "{backend}: cosine {similarity} for {:?}",
            case.text
        );
    }
}

#[test]
fn embed_matches_sentence_transformers_cpu() {
    check_embed("cpu");
}

#[test]
fn embed_matches_sentence_transformers_wgpu() {
    common::wgpu_device();
    check_embed("wgpu");
}
