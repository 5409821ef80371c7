//! A captured NPI cannot be used after its release: these programs must not compile.
//! (Expected compiler output in `tests/compile_fail/*.stderr`; `TRYBUILD=overwrite` rewrites it.)

#[test]
fn released_npi_cannot_be_used() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
}
