//! The WGSL kernels in `shaders/` and how they are launched on a cubecl wgpu client.
//!
//! Every kernel reads its sizes from a 16-byte `params` storage buffer that the launcher
//! writes, so one compiled pipeline serves all shapes. Bindings per kernel stay at or
//! below WebGPU's default of 8 storage buffers per stage.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use burn::backend::wgpu::{CubeTensor, KernelSource, SourceKernel, SourceTemplate};
use burn::cubecl::prelude::KernelId;
use burn::cubecl::server::{Handle, KernelArguments};
use burn::cubecl::{CubeCount, CubeDim};
use burn::tensor::{DType, Shape};

/// Rows (and columns) of the square tiles in every tiled kernel; fixed in the shaders.
pub const TILE: u32 = 32;
/// Threads per workgroup in every kernel; fixed in the shaders.
pub const WORKGROUP_THREADS: u32 = 64;

const POOL_SCORES: &str = include_str!("../../../shaders/pool_scores.wgsl");
const CONTRASTIVE_FORWARD: &str = include_str!("../../../shaders/contrastive_forward.wgsl");
const CONTRASTIVE_BACKWARD: &str = include_str!("../../../shaders/contrastive_backward.wgsl");
const CORRELATION_STANDARDIZE: &str = include_str!("../../../shaders/correlation_standardize.wgsl");
const CORRELATION_GRAM: &str = include_str!("../../../shaders/correlation_gram.wgsl");
const CORRELATION_BACKWARD: &str = include_str!("../../../shaders/correlation_backward.wgsl");
const CORRELATION_INPUT_GRAD: &str = include_str!("../../../shaders/correlation_input_grad.wgsl");

/// One of the hand-written kernels.
#[derive(Clone, Copy, Debug)]
pub enum Kernel {
    ContrastiveForward,
    ContrastiveBackward,
    CorrelationStandardize,
    CorrelationGram,
    CorrelationBackward,
    CorrelationInputGrad,
}

impl Kernel {
    fn source_text(self) -> String {
        match self {
            Kernel::ContrastiveForward => format!("{POOL_SCORES}\n{CONTRASTIVE_FORWARD}"),
            Kernel::ContrastiveBackward => format!("{POOL_SCORES}\n{CONTRASTIVE_BACKWARD}"),
            Kernel::CorrelationStandardize => CORRELATION_STANDARDIZE.to_string(),
            Kernel::CorrelationGram => CORRELATION_GRAM.to_string(),
            Kernel::CorrelationBackward => CORRELATION_BACKWARD.to_string(),
            Kernel::CorrelationInputGrad => CORRELATION_INPUT_GRAD.to_string(),
        }
    }
}

/// A kernel's WGSL text. Its id hashes the text, because cubecl caches compiled pipelines
/// by id and an edited shader must not reuse a stale pipeline.
struct WgslSource {
    kernel: Kernel,
    text: String,
    text_hash: u64,
}

impl WgslSource {
    fn new(kernel: Kernel) -> Self {
        let text = kernel.source_text();
        let mut hasher = DefaultHasher::new();
        text.hash(&mut hasher);
        Self {
            kernel,
            text,
            text_hash: hasher.finish(),
        }
    }
}

impl KernelSource for WgslSource {
    fn source(&self) -> SourceTemplate {
        SourceTemplate::new(self.text.clone())
    }

    fn id(&self) -> KernelId {
        KernelId::new::<Self>().info((format!("{:?}", self.kernel), self.text_hash))
    }

    fn lang(&self) -> &'static str {
        "wgsl"
    }
}

/// Writes four 32-bit words as a `params` buffer: two counts, an f32 and a u32, in the
/// field order of the shader's params struct.
pub fn params_buffer(
    tensor: &CubeTensor,
    rows: u32,
    width: u32,
    scalar: f32,
    extra: u32,
) -> Handle {
    let words = [rows, width, scalar.to_bits(), extra];
    tensor
        .client
        .create_from_slice(bytemuck::cast_slice(&words))
}

/// An uninitialised f32 tensor on the same device as `like`.
pub fn empty_f32(like: &CubeTensor, shape: impl Into<Shape>) -> CubeTensor {
    let shape = shape.into();
    let handle = like.client.empty(shape.num_elements() * DType::F32.size());
    CubeTensor::new_contiguous(
        like.client.clone(),
        like.device.clone(),
        shape,
        handle,
        DType::F32,
    )
}

/// Queues `kernel` on the client of `on` with the buffers in binding order.
pub fn launch(on: &CubeTensor, kernel: Kernel, workgroups: (u32, u32), buffers: Vec<Handle>) {
    let bindings = buffers.into_iter().map(|handle| handle.binding()).collect();
    on.client.launch(
        Box::new(SourceKernel::new(
            WgslSource::new(kernel),
            CubeDim::new_1d(WORKGROUP_THREADS),
        )),
        CubeCount::Static(workgroups.0, workgroups.1, 1),
        KernelArguments::new().with_buffers(bindings),
    );
}

/// Workgroups needed to cover `count` items, `per_group` per workgroup.
pub fn groups(count: usize, per_group: u32) -> u32 {
    count.div_ceil(per_group as usize) as u32
}
