// Shared by the correlation kernels: the tile sizes of the tiled ones and the sizes
// struct of the per-column ones.

// 32 x 32 output tiles, reduced DEPTH at a time by 64 threads in an 8 x 8 grid, each
// owning a 4 x 4 block.
const TILE: u32 = 32u;
const DEPTH: u32 = 32u;
const LANES: u32 = 8u;
const THREADS: u32 = 64u;

struct ColumnParams {
    rows: u32,
    width: u32,
    pad0: u32,
    pad1: u32,
}
