//! The `wsktrace` command: parse arguments and dispatch; all work lives in the library.
fn main() {
    println!("wsktrace");
}
