//! Backend selection: a wgpu adapter on Vulkan, Metal or DX12, or burn's pure-Rust CPU
//! backend (Flex). OpenGL is never chosen, because wgpu falls back to it silently when no
//! Vulkan driver is installed and its compute support is limited.

use std::sync::{Mutex, OnceLock};

use anyhow::{Result, bail};
use burn::prelude::*;
use burn::tensor::wgpu::WgpuBackend;

use crate::config::BackendChoice;

/// The device a run uses and how to describe it in logs and `summary.json`.
#[derive(Clone, Debug)]
pub struct SelectedDevice {
    pub device: Device,
    /// `wgpu` or `cpu`.
    pub backend: String,
    /// The adapter's name and graphics API, for example `llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan)`.
    pub adapter: String,
    /// Whether the wgpu adapter is a software renderer (lavapipe, SwiftShader) rather than a GPU.
    pub software: bool,
}

impl SelectedDevice {
    pub fn is_wgpu(&self) -> bool {
        self.backend == "wgpu"
    }
}

/// Graphics APIs tried for `wgpu`, in order, on this platform.
fn native_apis() -> &'static [(WgpuBackend, &'static str)] {
    if cfg!(target_os = "macos") {
        &[(WgpuBackend::Metal, "Metal")]
    } else if cfg!(target_os = "windows") {
        &[(WgpuBackend::Dx12, "DX12"), (WgpuBackend::Vulkan, "Vulkan")]
    } else {
        &[(WgpuBackend::Vulkan, "Vulkan")]
    }
}

// A wgpu runtime can be initialised once per process, so the outcome is kept for later
// callers (tests select the device many times).
static WGPU_DEVICE: OnceLock<Mutex<Option<Result<SelectedDevice, String>>>> = OnceLock::new();

fn wgpu_device() -> Result<SelectedDevice, String> {
    let cell = WGPU_DEVICE.get_or_init(|| Mutex::new(None));
    let mut guard = cell.lock().expect("device lock");
    if let Some(outcome) = guard.as_ref() {
        return outcome.clone();
    }

    let mut failures = Vec::new();
    let mut outcome = None;
    for (api, api_name) in native_apis() {
        match Device::wgpu_options().graphics_api(*api).init() {
            Ok(device) => {
                let identity = device.identity();
                // cubecl reports no physical card for CPU adapters and software renderers.
                let software = identity
                    .as_ref()
                    .is_none_or(|identity| identity.physical.is_none());
                let name = identity
                    .map(|identity| identity.name)
                    .unwrap_or_else(|| "unknown adapter".into());
                outcome = Some(Ok(SelectedDevice {
                    device,
                    backend: "wgpu".into(),
                    adapter: format!("{name} ({api_name})"),
                    software,
                }));
                break;
            }
            Err(err) => failures.push(format!("{api_name}: {err}")),
        }
    }
    let outcome = outcome.unwrap_or_else(|| {
        Err(format!(
            "no wgpu adapter found ({}); install a GPU driver, or on Debian without a GPU the software Vulkan driver `apt-get install mesa-vulkan-drivers`",
            failures.join("; ")
        ))
    });
    *guard = Some(outcome.clone());
    outcome
}

fn cpu_device() -> SelectedDevice {
    SelectedDevice {
        device: Device::flex(),
        backend: "cpu".into(),
        adapter: format!("burn Flex CPU backend ({} threads)", rayon_threads()),
        software: false,
    }
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(|count| count.get())
        .unwrap_or(1)
}

/// Selects the backend. `Auto` falls back to the CPU backend with one warning naming why.
/// That happens when no wgpu adapter exists, or when the only one is a software renderer.
/// Burn's generic matmul kernels run far slower there than on the CPU backend: on lavapipe
/// with 2 cores, about 1 GFLOP/s against about 70 (docs/benchmarks.md).
pub fn select_device(choice: BackendChoice) -> Result<SelectedDevice> {
    let selected = match choice {
        BackendChoice::Cpu => cpu_device(),
        BackendChoice::Wgpu => match wgpu_device() {
            Ok(selected) => selected,
            Err(reason) => bail!("--backend wgpu: {reason}"),
        },
        BackendChoice::Auto => match wgpu_device() {
            Ok(selected) if selected.software => {
                tracing::warn!(
                    "falling back to the CPU backend: the only wgpu adapter, {}, is a software renderer and slower than the CPU backend; pass --backend wgpu to use it anyway",
                    selected.adapter
                );
                cpu_device()
            }
            Ok(selected) => selected,
            Err(reason) => {
                tracing::warn!("falling back to the CPU backend: {reason}");
                cpu_device()
            }
        },
    };
    tracing::info!(backend = %selected.backend, adapter = %selected.adapter, "device selected");
    Ok(selected)
}
