//! Helpers shared by the crate's unit tests.

/// Random documents made of `pieces`, from a fixed seed (an LCG), for the fuzz-style tests:
/// `default_iters` documents of fewer than `max_pieces` pieces each, or `MAILEX_FUZZ_ITERS`
/// documents for a longer run.
pub(crate) fn random_documents<'p>(
    seed: u64,
    pieces: &'p [&'p str],
    max_pieces: usize,
    default_iters: usize,
) -> impl Iterator<Item = String> + 'p {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        usize::try_from(state >> 33).unwrap_or(0)
    };
    let iters = std::env::var("MAILEX_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_iters);
    (0..iters).map(move |_| {
        let n = next() % max_pieces;
        (0..n).map(|_| pieces[next() % pieces.len()]).collect()
    })
}
