//! Runs every fuzz target (`mailex_tests::fuzz`) over its seed corpus and its committed
//! regression inputs on the stable toolchain, so CI holds every crash the fuzzer ever found
//! fixed. The fuzzing itself is `scripts/fuzz.sh` (nightly, cargo fuzz).

use mailex_tests::fuzz::{TARGETS, regressions};

#[test]
fn every_target_survives_its_seeds_and_regressions() {
    for target in TARGETS {
        let seeds = (target.seeds)();
        assert!(
            seeds.len() >= 3,
            "target {} has only {} seeds: the fixtures it seeds from moved?",
            target.name,
            seeds.len()
        );
        for seed in &seeds {
            (target.run)(seed);
        }
        for path in regressions(target.name) {
            let input = std::fs::read(&path).expect("regression inputs are readable");
            (target.run)(&input);
        }
    }
}

#[test]
fn every_target_has_a_cargo_fuzz_binary() {
    let root = mailex_tests::workspace_root().join("fuzz/fuzz_targets");
    for target in TARGETS {
        let path = root.join(format!("{}.rs", target.name));
        let source =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            source.contains(&format!("fuzz::{}(", target.name))
                || source.contains(&format!("\"{}\"", target.name)),
            "{} must call mailex_tests::fuzz::{}",
            path.display(),
            target.name
        );
    }
}
