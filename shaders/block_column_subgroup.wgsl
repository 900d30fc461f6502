// Subgroup form of `block_column`, for adapters whose subgroups are exactly the 8 threads
// that share a block (consecutive invocation indices). Thread i of the subgroup loads
// row i and broadcasts it, so each thread makes one load instead of 8; the 8 loads in
// `loaded` go unused and the compiler drops them. The launcher uses this form only after
// a probe has shown that the adapter compiles it and gets the portable form's result.

// Returns the column of an 8-row block: value i comes from thread i of the subgroup.
fn block_column(own: f32, loaded: array<f32, 8>) -> array<f32, 8> {
    return array<f32, 8>(
        subgroupBroadcast(own, 0u), subgroupBroadcast(own, 1u), subgroupBroadcast(own, 2u), subgroupBroadcast(own, 3u),
        subgroupBroadcast(own, 4u), subgroupBroadcast(own, 5u), subgroupBroadcast(own, 6u), subgroupBroadcast(own, 7u),
    );
}
