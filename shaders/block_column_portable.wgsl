// Portable form of `block_column`: every thread uses the 8 values it loaded itself.

// Returns the column of an 8-row block: `loaded`. `own` (this thread's row, for the
// subgroup form) goes unused, so the compiler drops its load.
fn block_column(own: f32, loaded: array<f32, 8>) -> array<f32, 8> {
    return loaded;
}
