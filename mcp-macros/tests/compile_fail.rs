//! Misuse of the macros is a compile error at the offending token with a
//! message that says how to fix it. Each case is `tests/ui/<name>.rs` with
//! the expected compiler output in `<name>.stderr`; regenerate with
//! `TRYBUILD=overwrite cargo test -p mcp-macros --test compile_fail` and
//! review every message. The output depends on the compiler: the files
//! match the toolchain the project builds with (see `rust-version`).

#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
