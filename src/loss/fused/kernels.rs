//! The WGSL kernels in `shaders/` and how they are launched on a cubecl wgpu client.
//!
//! Every kernel reads its sizes from a small `params` storage buffer that the launcher
//! writes, so one compiled pipeline serves all shapes. Bindings per kernel stay at or
//! below WebGPU's default of 8 storage buffers per stage.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use burn::backend::wgpu::{CubeTensor, KernelSource, SourceKernel, SourceTemplate};
use burn::cubecl::Device as CubeDevice;
use burn::cubecl::client::Client;
use burn::cubecl::prelude::KernelId;
use burn::cubecl::server::{Handle, KernelArguments};
use burn::cubecl::{CubeCount, CubeDim};
use burn::tensor::{DType, Shape};

/// Rows (and columns) of the square tiles in the correlation kernels; fixed in the shaders.
pub const CORRELATION_TILE: u32 = 32;
/// Anchor rows per workgroup in the contrastive kernels; fixed in the shaders.
pub const ANCHORS_PER_GROUP: u32 = 64;
/// Floats of running statistics the contrastive forward kernel carries between launches,
/// per workgroup: a vec4 for each of a thread's 8 anchors.
pub const THREAD_STATS_FLOATS_PER_GROUP: usize = WORKGROUP_THREADS as usize * 8 * 4;
/// Threads per workgroup in every kernel; fixed in the shaders.
pub const WORKGROUP_THREADS: u32 = 64;

const POOL_SCORES: &str = include_str!("../../../shaders/pool_scores.wgsl");
const BLOCK_COLUMN_PORTABLE: &str = include_str!("../../../shaders/block_column_portable.wgsl");
const BLOCK_COLUMN_SUBGROUP: &str = include_str!("../../../shaders/block_column_subgroup.wgsl");
const CONTRASTIVE_FORWARD: &str = include_str!("../../../shaders/contrastive_forward.wgsl");
const CONTRASTIVE_BACKWARD: &str = include_str!("../../../shaders/contrastive_backward.wgsl");
const CORRELATION_COMMON: &str = include_str!("../../../shaders/correlation_common.wgsl");
const CORRELATION_STANDARDIZE: &str = include_str!("../../../shaders/correlation_standardize.wgsl");
const CORRELATION_GRAM: &str = include_str!("../../../shaders/correlation_gram.wgsl");
const CORRELATION_BACKWARD: &str = include_str!("../../../shaders/correlation_backward.wgsl");
const CORRELATION_INPUT_GRAD: &str = include_str!("../../../shaders/correlation_input_grad.wgsl");

/// Thread layout of the contrastive kernels: who loads the rows of an 8-row block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelVariant {
    /// Every thread loads every value it needs; runs on any WebGPU adapter.
    Portable,
    /// One load per thread and subgroup broadcasts, on adapters with 8-thread subgroups.
    Subgroup,
}

/// One of the hand-written kernels.
#[derive(Clone, Copy, Debug)]
pub enum Kernel {
    ContrastiveForward(KernelVariant),
    ContrastiveBackward(KernelVariant),
    CorrelationStandardize,
    CorrelationGram,
    CorrelationBackward,
    CorrelationInputGrad,
}

impl Kernel {
    fn source_text(self) -> String {
        match self {
            Kernel::ContrastiveForward(variant) => {
                format!(
                    "{POOL_SCORES}\n{}\n{CONTRASTIVE_FORWARD}",
                    block_column(variant)
                )
            }
            Kernel::ContrastiveBackward(variant) => {
                format!(
                    "{POOL_SCORES}\n{}\n{CONTRASTIVE_BACKWARD}",
                    block_column(variant)
                )
            }
            Kernel::CorrelationStandardize => {
                format!("{CORRELATION_COMMON}\n{CORRELATION_STANDARDIZE}")
            }
            Kernel::CorrelationGram => format!("{CORRELATION_COMMON}\n{CORRELATION_GRAM}"),
            Kernel::CorrelationBackward => format!("{CORRELATION_COMMON}\n{CORRELATION_BACKWARD}"),
            Kernel::CorrelationInputGrad => {
                format!("{CORRELATION_COMMON}\n{CORRELATION_INPUT_GRAD}")
            }
        }
    }
}

fn block_column(variant: KernelVariant) -> &'static str {
    match variant {
        KernelVariant::Portable => BLOCK_COLUMN_PORTABLE,
        KernelVariant::Subgroup => BLOCK_COLUMN_SUBGROUP,
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
pub fn params_buffer(client: &Client, rows: u32, width: u32, scalar: f32, extra: u32) -> Handle {
    let words = [rows, width, scalar.to_bits(), extra];
    client.create_from_slice(bytemuck::cast_slice(&words))
}

/// Writes the contrastive kernels' `PoolParams` for one launch over contrast tiles
/// `tiles.start..tiles.end`.
pub fn pool_params(
    client: &Client,
    rows: usize,
    width: usize,
    inv_temperature: f32,
    tiles: std::ops::Range<u32>,
) -> Handle {
    let words = [
        rows as u32,
        width as u32,
        inv_temperature.to_bits(),
        tiles.start,
        tiles.end,
        0,
        0,
        0,
    ];
    client.create_from_slice(bytemuck::cast_slice(&words))
}

/// Contrast rows per tile in the contrastive kernels; fixed in the shaders.
pub const CONTRAST_TILE_ROWS: usize = 64;

/// Loop iterations one invocation may run in a launch. lavapipe (Mesa 22) ends every loop
/// of an invocation once it has run 65535 iterations in all, silently; this keeps a margin.
const LOOP_ITERATION_BUDGET: usize = 40_000;

/// Splits the contrast tiles of a pool into launches that each stay within the loop
/// iteration budget. The backward kernel's tile costs about 2 d + d / 8 + 150 iterations.
// NOTE: for d above about 20,000 one tile exceeds the budget, and lavapipe would cut it
// short; hardware GPUs have no such limit.
pub fn tile_launches(rows: usize, width: usize) -> Vec<std::ops::Range<u32>> {
    let tiles = rows.div_ceil(CONTRAST_TILE_ROWS);
    let per_tile = 2 * width + width / 8 + 150;
    let per_launch = (LOOP_ITERATION_BUDGET / per_tile).max(1);
    (0..tiles)
        .step_by(per_launch)
        .map(|begin| begin as u32..(begin + per_launch).min(tiles) as u32)
        .collect()
}

/// Allocates an uninitialised f32 tensor on the same device as `like`.
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

/// Queues `kernel` on `client` with the buffers in binding order.
pub fn launch(client: &Client, kernel: Kernel, workgroups: (u32, u32), buffers: Vec<Handle>) {
    let bindings = buffers.into_iter().map(|handle| handle.binding()).collect();
    client.launch(
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

static FORCED_VARIANT: Mutex<Option<KernelVariant>> = Mutex::new(None);
static PROBED_VARIANTS: Mutex<Option<HashMap<String, KernelVariant>>> = Mutex::new(None);

/// Makes every later launch use `variant` (or, with `None`, the probed choice again).
/// For comparing the variants in tests and benchmarks.
pub fn force_kernel_variant(variant: Option<KernelVariant>) {
    *FORCED_VARIANT.lock().expect("variant lock") = variant;
}

/// Returns the contrastive kernel variant for `device`: the subgroup form where the adapter has
/// subgroups of exactly 8 threads and a probe run matches the portable form, else the
/// portable form. The probe runs once per device.
pub fn kernel_variant(client: &Client, device: &CubeDevice) -> KernelVariant {
    if let Some(variant) = *FORCED_VARIANT.lock().expect("variant lock") {
        return variant;
    }
    let key = format!("{device:?}");
    let mut probed = PROBED_VARIANTS.lock().expect("variant lock");
    let probed = probed.get_or_insert_with(HashMap::new);
    *probed
        .entry(key)
        .or_insert_with(|| probe_subgroup_variant(client))
}

fn probe_subgroup_variant(client: &Client) -> KernelVariant {
    let hardware = &client.properties().hardware;
    if hardware.plane_size_min != 8 || hardware.plane_size_max != 8 {
        return KernelVariant::Portable;
    }
    let portable = probe_forward(client, KernelVariant::Portable);
    let subgroup = probe_forward(client, KernelVariant::Subgroup);
    match (portable, subgroup) {
        (Ok(portable), Ok(subgroup)) => {
            let matches = portable
                .iter()
                .zip(&subgroup)
                .all(|(a, b)| (a - b).abs() <= 1e-5 * a.abs().max(1.0));
            if matches {
                tracing::debug!("fused losses use the subgroup kernels");
                KernelVariant::Subgroup
            } else {
                tracing::warn!(
                    "subgroup loss kernels disagree with the portable ones on this adapter; using the portable kernels"
                );
                KernelVariant::Portable
            }
        }
        (Ok(_), Err(err)) => {
            tracing::debug!(
                "subgroup loss kernels unavailable ({err}); using the portable kernels"
            );
            KernelVariant::Portable
        }
        (Err(err), _) => {
            tracing::warn!("the portable loss kernel failed its probe run: {err}");
            KernelVariant::Portable
        }
    }
}

/// Runs the forward kernel of `variant` on a fixed 75-row, 19-column pool (sizes off every
/// block multiple) and returns its row statistics.
fn probe_forward(client: &Client, variant: KernelVariant) -> Result<Vec<f32>, String> {
    const ROWS: usize = 75;
    const WIDTH: usize = 19;
    let pool: Vec<f32> = (0..ROWS * WIDTH)
        .map(|i| ((i * 37 % 101) as f32 / 101.0 - 0.5) * 0.4)
        .collect();
    let labels: Vec<i32> = (0..ROWS as i32).map(|i| i % 5).collect();
    let anchor_kind = vec![1.0f32; ROWS];
    let row_stats = client.empty(ROWS * 4 * DType::F32.size());
    launch(
        client,
        Kernel::ContrastiveForward(variant),
        (groups(ROWS, ANCHORS_PER_GROUP), 1),
        vec![
            client.create_from_slice(bytemuck::cast_slice(&pool)),
            client.create_from_slice(bytemuck::cast_slice(&labels)),
            client.create_from_slice(bytemuck::cast_slice(&anchor_kind)),
            row_stats.clone(),
            client.empty(
                groups(ROWS, ANCHORS_PER_GROUP) as usize
                    * THREAD_STATS_FLOATS_PER_GROUP
                    * DType::F32.size(),
            ),
            pool_params(
                client,
                ROWS,
                WIDTH,
                10.0,
                0..ROWS.div_ceil(CONTRAST_TILE_ROWS) as u32,
            ),
        ],
    );
    let bytes = client.read_one(row_stats).map_err(|err| format!("{err}"))?;
    Ok(bytemuck::cast_slice::<u8, f32>(&bytes).to_vec())
}
