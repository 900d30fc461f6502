//! `acf embed`: sentence embeddings as sentence-transformers' `encode` computes them
//! (pooling from `1_Pooling/config.json`, truncation at `max_seq_length`, L2 normalisation),
//! or image embeddings: the backbone's pooled feature, L2-normalised.

use std::path::PathBuf;

use acf::config::{DataConfig, IMAGE_SIZES, Pooling};
use acf::data::image::{ImageDataset, read_image_inputs};
use acf::data::{Dataset, EncodedDataset, LabelRequirement, TokenBatch, columns, read_examples};
use acf::device::{SelectedDevice, select_device};
use acf::loss::l2_normalize;
use acf::model::efficientnet::{EfficientNetLite0, input_transform};
use acf::model::pooling::pool;
use acf::model::weights::tensor_values;
use acf::model::{ModelKind, PretrainedFiles, TextTokenizer, image_backbone_weights};
use acf::run::write_atomic;
use anyhow::{Result, bail};
use burn::module::Module;
use serde_json::json;

use super::DeviceArgs;

/// Truncation length when the checkpoint has no `sentence_bert_config.json`, as
/// `transformers` tokenizers default to BERT's 512 positions.
const DEFAULT_MAX_LENGTH: usize = 512;

#[derive(clap::Args)]
pub struct EmbedArgs {
    /// Hub id (resolved through the Hugging Face cache) or local model folder; an image
    /// backbone folder (models/efficientnet-lite0) embeds images.
    #[arg(long, value_name = "MODEL")]
    model: String,
    /// Texts: .txt with one text a line, or CSV, TSV or JSONL with a `text` column. Images:
    /// an image file, a folder (searched recursively), an IDX image file or a CSV of paths.
    #[arg(long, value_name = "PATH")]
    input: PathBuf,
    /// JSONL output, one {"text" or "image", "embedding"} object a line.
    #[arg(long, value_name = "FILE")]
    output: PathBuf,
    /// Tokens per text, special tokens included; default: the checkpoint's max_seq_length.
    #[arg(long, value_name = "TOKENS")]
    max_length: Option<usize>,
    /// Pooling; default: the checkpoint's 1_Pooling/config.json, else cls.
    #[arg(long, value_enum)]
    pooling: Option<PoolingArg>,
    /// Side of the square images fed to an image backbone, pixels.
    #[arg(long, default_value_t = 224, value_name = "PIXELS")]
    image_size: u32,
    /// Inputs per forward pass.
    #[arg(long, default_value_t = 32, value_name = "COUNT")]
    batch_size: usize,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PoolingArg {
    Cls,
    Mean,
    Pooler,
}

pub fn run(args: EmbedArgs) -> Result<()> {
    if args.batch_size == 0 {
        bail!("--batch-size 0 is out of range; it must be >= 1");
    }
    let selected = select_device(
        args.device
            .backend
            .unwrap_or(acf::config::BackendChoice::Auto),
    )?;
    if ModelKind::of(&args.model) == ModelKind::Image {
        return embed_images(&args, &selected);
    }
    let files = PretrainedFiles::resolve(&args.model)?;
    let max_length = args
        .max_length
        .or(files.max_seq_length)
        .unwrap_or(DEFAULT_MAX_LENGTH)
        .min(files.config.max_position_embeddings);
    let pooling = files.pooling(args.pooling.map(|choice| match choice {
        PoolingArg::Cls => Pooling::Cls,
        PoolingArg::Mean => Pooling::Mean,
        PoolingArg::Pooler => Pooling::Pooler,
    }));
    let tokenizer = TextTokenizer::from_file(&files.tokenizer_path(), max_length)?;

    let examples = read_examples(
        &args.input,
        &columns(&Default::default()),
        LabelRequirement::Optional,
    )?;
    let dataset = EncodedDataset::new(examples, Vec::new(), &tokenizer)?;

    let encoder = files.load_encoder(&selected.device)?.valid();
    if pooling == Pooling::Pooler && encoder.pooler.is_none() {
        bail!(
            "{}: --pooling pooler needs pooler.dense weights, which this checkpoint does not have",
            files.dir.display()
        );
    }

    let mut output = String::new();
    let indices: Vec<usize> = (0..dataset.len()).collect();
    for chunk in indices.chunks(args.batch_size) {
        let tokens: Vec<_> = chunk.iter().map(|&i| &dataset.tokens[i]).collect();
        let batch = TokenBatch::new(&tokens, None, tokenizer.pad_id(), &selected.device);
        let outputs = encoder.forward(
            batch.input_ids,
            batch.token_type_ids,
            batch.attention_mask.clone(),
        );
        let embeddings = l2_normalize(pool(outputs, batch.attention_mask, pooling));
        let texts = chunk
            .iter()
            .map(|&index| dataset.examples[index].text.as_str());
        append_lines(&mut output, "text", texts, embeddings)?;
    }
    write_atomic(&args.output, output.as_bytes())?;
    tracing::info!(output = %args.output.display(), texts = dataset.len(), max_length, %pooling, "embeddings written");
    Ok(())
}

/// Writes the L2-normalised pooled features of the pre-trained image backbone.
fn embed_images(args: &EmbedArgs, selected: &SelectedDevice) -> Result<()> {
    if !IMAGE_SIZES.contains(&args.image_size) {
        bail!(
            "--image-size {} is out of range; it must be in [{}, {}] pixels",
            args.image_size,
            IMAGE_SIZES.start(),
            IMAGE_SIZES.end()
        );
    }
    let backbone = EfficientNetLite0::load_pretrained(
        &image_backbone_weights(&args.model)?,
        &selected.device,
    )?
    .valid();
    let examples = read_image_inputs(&args.input, &DataConfig::default())?;
    let transform = input_transform(args.image_size, false);
    let (dataset, _) = ImageDataset::new(examples, Vec::new(), transform, false)?;

    let mut output = String::new();
    let indices: Vec<usize> = (0..dataset.len()).collect();
    for chunk in indices.chunks(args.batch_size) {
        let batch = dataset.batch(chunk, None, &selected.device)?;
        let embeddings = l2_normalize(backbone.features(batch.pixels));
        let images = chunk
            .iter()
            .map(|&index| dataset.examples[index].origin.as_str());
        append_lines(&mut output, "image", images, embeddings)?;
    }
    write_atomic(&args.output, output.as_bytes())?;
    tracing::info!(output = %args.output.display(), images = dataset.len(), image_size = args.image_size, "embeddings written");
    Ok(())
}

/// Appends one `{key: name, "embedding": row}` JSON line per row of `embeddings` [n, d].
fn append_lines<'a>(
    output: &mut String,
    key: &str,
    names: impl Iterator<Item = &'a str>,
    embeddings: burn::tensor::Tensor<2>,
) -> Result<()> {
    let [_, width] = embeddings.dims();
    let values = tensor_values(embeddings);
    for (row, name) in values.chunks(width).zip(names) {
        let line = json!({key: name, "embedding": row});
        output.push_str(&serde_json::to_string(&line)?);
        output.push('\n');
    }
    Ok(())
}
